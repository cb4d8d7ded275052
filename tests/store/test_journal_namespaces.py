"""The journal_namespaces bound, on every kind of store: the least recently journalled namespace's journal goes."""

import os
import time
import uuid

import orjson
import pytest

from conversations_mock.store.embedded import EmbeddedStore
from conversations_mock.store.journal_files import CLEARS

CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
DATA = orjson.dumps([{"id": "a"}])
# Longer than a file system's coarse timestamp tick (1 to 10 ms): the embedded store orders
# namespaces by their files' modification times.
TICK = 0.02


@pytest.fixture
def names():
    """Namespaces a, b, c, d ... of this test's own."""
    prefix = f"t-{uuid.uuid4().hex[:8]}-"
    return lambda letters: [prefix + letter for letter in letters]


def journal_in(store, namespace, n=0):
    """Journal one request in `namespace`, and let it count as journalled before the next one."""
    store.record(namespace, {"method": "GET", "path": "/a", "n": n})
    store.journal(namespace)  # the Redis store flushes its buffer first
    time.sleep(TICK)


def kept(store, namespaces):
    """How many entries each namespace's journal holds."""
    return [len(store.journal(namespace)) for namespace in namespaces]


def journals_in_store(store) -> int:
    """How many namespaces have a journal where the store keeps them: files' namespaces, or Redis lists."""
    if isinstance(store, EmbeddedStore):
        return len({path.split(".")[0] for path in _journal_files(store)})
    return sum(1 for _ in store._client.scan_iter(match="conversations-mock:journal:*", count=1000))


def _journal_files(store):
    return [name for name in os.listdir(store._journal.directory) if name != CLEARS]


def test_a_namespace_past_the_bound_drops_the_least_recently_journalled(store_factory, names):
    store = store_factory(journal_namespaces=3)
    a, b, c, d = names("abcd")
    for namespace in (a, b, c):
        journal_in(store, namespace)
    assert kept(store, (a, b, c)) == [1, 1, 1]
    journal_in(store, d)
    assert kept(store, (a, b, c, d)) == [0, 1, 1, 1]


def test_journalling_again_keeps_a_namespace_and_the_next_least_recent_goes(store_factory, names):
    store = store_factory(journal_namespaces=3)
    a, b, c, d = names("abcd")
    for namespace in (a, b, c, a):
        journal_in(store, namespace)
    journal_in(store, d)
    assert kept(store, (a, b, c, d)) == [2, 0, 1, 1]


def test_a_dropped_journal_starts_afresh_and_data_put_there_is_still_served(store_factory, names):
    store = store_factory(journal_namespaces=2)
    a, b, c = names("abc")
    store.put_chatbot(a, CHATBOT, DATA)
    for namespace in (a, b, c):
        journal_in(store, namespace)
    assert kept(store, (a, b, c)) == [0, 1, 1]
    assert store.get_chatbot(a, CHATBOT) == DATA and store.chatbots(a) == {CHATBOT: DATA}
    journal_in(store, a, n=7)
    assert [entry["n"] for entry in store.journal(a)] == [7]
    assert kept(store, (b, c)) == [0, 1]


def test_a_cleared_or_reset_journal_no_longer_counts(store_factory, names):
    store = store_factory(journal_namespaces=3)
    a, b, c, d, e = names("abcde")
    for namespace in (a, b, c):
        journal_in(store, namespace)
    store.clear_journal(b)
    journal_in(store, d)
    assert kept(store, (a, c, d)) == [1, 1, 1]
    store.reset(c)
    journal_in(store, e)
    assert kept(store, (a, d, e)) == [1, 1, 1]


def test_thousands_of_namespaces_keep_the_store_bounded(store_factory, names):
    store = store_factory(journal_size=5, journal_namespaces=10)
    namespaces = names([f"{n:04d}" for n in range(3000)])
    for batch in range(0, len(namespaces), 500):
        for namespace in namespaces[batch:batch + 500]:
            store.record(namespace, {"path": "/a"})
            store.record(namespace, {"path": "/b"})
        store.journal(namespaces[batch])  # flushes the Redis store's buffer: one trim per batch
        assert journals_in_store(store) <= 10
    assert journals_in_store(store) == 10
    assert kept(store, namespaces[-10:]) == [2] * 10 and kept(store, namespaces[:10]) == [0] * 10
    if isinstance(store, EmbeddedStore):
        assert len(_journal_files(store)) == 10  # one process, no file full: one file each
    else:
        assert store._client.zcard("conversations-mock:journalled") == 10
