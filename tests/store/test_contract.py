"""The Store contract (app/store/__init__.py), held by every store kind `store_factory` makes."""

import multiprocessing

import pytest

from conversations_mock.store import Store

BOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
OTHER_BOT = "5afe16ed-5fd2-4552-a993-903bc9c32bb6"
CONVERSATIONS = b'[{"id": "c1"}]'


def test_a_store_keeps_the_contract(store_factory):
    assert isinstance(store_factory(), Store)


def test_put_then_get(store_factory):
    store = store_factory()
    assert store.get_chatbot("ns", BOT) is None
    store.put_chatbot("ns", BOT, CONVERSATIONS)
    store.put_chatbot("ns", OTHER_BOT, b"[]")
    assert store.get_chatbot("ns", BOT) == CONVERSATIONS
    assert store.chatbots("ns") == {BOT: CONVERSATIONS, OTHER_BOT: b"[]"}
    store.put_chatbot("ns", BOT, b"[]")
    assert store.get_chatbot("ns", BOT) == b"[]"


def test_delete(store_factory):
    store = store_factory()
    store.put_chatbot("ns", BOT, CONVERSATIONS)
    assert store.delete_chatbot("ns", BOT) is True
    assert store.delete_chatbot("ns", BOT) is False
    assert store.get_chatbot("ns", BOT) is None
    assert store.chatbots("ns") == {}


def test_reset_clears_data_and_journal(store_factory):
    store = store_factory()
    store.put_chatbot("ns", BOT, CONVERSATIONS)
    store.record("ns", {"path": "/a"})
    store.put_chatbot("kept", BOT, CONVERSATIONS)
    store.record("kept", {"path": "/b"})
    store.reset("ns")
    assert (store.chatbots("ns"), store.journal("ns")) == ({}, [])
    assert (store.chatbots("kept"), store.journal("kept")) == ({BOT: CONVERSATIONS}, [{"path": "/b"}])


@pytest.mark.parametrize("write", [
    lambda store: store.put_chatbot("ns", BOT, CONVERSATIONS),
    lambda store: store.put_chatbot("ns", BOT, b"[]"),
    lambda store: store.delete_chatbot("ns", OTHER_BOT),
    lambda store: store.reset("ns"),
], ids=["put", "put-again", "delete", "reset"])
def test_generation_changes_on_every_write(store_factory, write):
    store = store_factory()
    store.put_chatbot("ns", OTHER_BOT, CONVERSATIONS)
    before = store.generation()
    write(store)
    assert store.generation() != before


def test_generation_stays_while_nothing_is_written(store_factory):
    store = store_factory()
    before = store.generation()
    store.record("ns", {"path": "/a"})
    store.get_chatbot("ns", BOT)
    assert store.generation() == before


@pytest.mark.parametrize("size, recorded", [(1, 3), (5, 5), (5, 12)])
def test_journal_is_a_bounded_ring_newest_first(store_factory, size, recorded):
    store = store_factory(journal_size=size)
    for number in range(recorded):
        store.record("ns", {"path": "/a", "n": number})
    assert [entry["n"] for entry in store.journal("ns")] == list(range(recorded - 1, -1, -1))[:size]
    assert [entry["n"] for entry in store.journal("ns", limit=2)] == list(range(recorded - 1, -1, -1))[:min(2, size)]
    store.clear_journal("ns")
    assert store.journal("ns") == []


def test_journal_filters_by_path(store_factory):
    store = store_factory()
    for number, path in enumerate(["/a", "/b", "/a", "/c", "/a"]):
        store.record("ns", {"path": path, "n": number})
    assert [entry["n"] for entry in store.journal("ns", path="/a")] == [4, 2, 0]
    assert [entry["n"] for entry in store.journal("ns", path="/a", limit=2)] == [4, 2]
    assert store.journal("ns", path="/none") == []


def test_namespaces_never_see_each_other(store_factory):
    store = store_factory()
    store.put_chatbot("one", BOT, CONVERSATIONS)
    store.record("one", {"path": "/a"})
    assert (store.get_chatbot("two", BOT), store.chatbots("two"), store.journal("two")) == (None, {}, [])
    store.reset("two")
    store.clear_journal("two")
    assert store.delete_chatbot("two", BOT) is False
    assert (store.chatbots("one"), store.journal("one")) == ({BOT: CONVERSATIONS}, [{"path": "/a"}])


def _reader(store, pipe):
    """A forked worker: reports its generation and what it reads, each time the parent asks."""
    while pipe.recv() == "read":
        pipe.send((store.generation(), store.get_chatbot("ns", BOT), store.journal("ns")))
    store.close()


def test_read_your_writes_across_processes(store_factory):
    # As gunicorn does: the store is made before the workers are forked, and each worker uses its copy.
    store = store_factory()
    parent, child = multiprocessing.get_context("fork").Pipe()
    worker = multiprocessing.get_context("fork").Process(target=_reader, args=(store, child), daemon=True)
    worker.start()
    try:
        parent.send("read")
        assert parent.poll(10)
        before, data, journal = parent.recv()
        assert (data, journal) == (None, [])
        for written in (CONVERSATIONS, b"[]"):
            store.put_chatbot("ns", BOT, written)
            store.record("ns", {"path": "/p", "body": written.decode()})
            parent.send("read")  # at once: no waiting between the write's return and the other's read
            assert parent.poll(10)
            generation, data, journal = parent.recv()
            assert generation != before and data == written
            assert journal[0] == {"path": "/p", "body": written.decode()}
            before = generation
    finally:
        parent.send("stop")
        worker.join(10)
    assert worker.exitcode == 0
