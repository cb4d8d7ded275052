"""The embedded store: its private directory, forks, and a store that cannot be reached."""

import os

import pytest

from conversations_mock.store import StoreConfigError, StoreUnavailable, open_store
from conversations_mock.store.embedded import EmbeddedStore

CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"


def test_the_directory_is_private_and_removed_on_close():
    store = EmbeddedStore()
    assert os.stat(store.directory).st_mode & 0o777 == 0o700
    store.put_chatbot("default", CHATBOT, b"[]")
    store.close()
    assert not os.path.exists(store.directory)


def test_a_forked_process_that_exits_leaves_the_directory_to_its_maker():
    store = EmbeddedStore()
    store.put_chatbot("default", CHATBOT, b"[1]")  # the parent has a connection before the fork
    pid = os.fork()
    if pid == 0:  # the child: its own connection, then exit as a gunicorn worker does
        try:
            store.put_chatbot("default", CHATBOT, b"[2]")
            store.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert store.get_chatbot("default", CHATBOT) == b"[2]"
    store.close()


def test_a_store_that_cannot_be_read_is_unavailable_and_named():
    store = EmbeddedStore()
    os.remove(store.path)
    os.mkdir(store.path)  # no database file where it should be
    with pytest.raises(StoreUnavailable, match="embedded store at .*store.sqlite3"):
        store.get_chatbot("default", CHATBOT)
    store.close()


def test_journal_size_zero_keeps_nothing():
    store = EmbeddedStore(journal_size=0)
    store.record("default", {"path": "/a"})
    assert store.journal("default") == []
    store.close()


@pytest.mark.parametrize("location", ["", "embedded"])
def test_open_store_gives_the_embedded_store_by_default(location):
    store = open_store(location)
    assert isinstance(store, EmbeddedStore)
    store.close()


def test_open_store_refuses_other_schemes():
    with pytest.raises(StoreConfigError, match="redis://"):
        open_store("memcached://x")


def test_the_embedded_store_keeps_no_digest_key():
    """Its server makes the key before gunicorn forks; no other server shares the store."""
    store = EmbeddedStore()
    assert store.digest_key(lambda key: None) is None
    store.close()
