"""Store factories the contract tests run over: each param names one kind of store."""

import pytest

from conversations_mock.store.embedded import EmbeddedStore


def _embedded(request, journal_size, journal_namespaces):
    return EmbeddedStore(journal_size, journal_namespaces=journal_namespaces)


def _redis(request, journal_size, journal_namespaces):
    from conversations_mock.store.redis import RedisStore

    # The session's redis-server (tests/conftest.py), emptied for this test; it fails, naming it, if missing.
    return RedisStore(
        request.getfixturevalue("redis_url"), journal_size=journal_size, journal_namespaces=journal_namespaces
    )


# name -> factory(request, journal_size, journal_namespaces) -> Store.
STORE_FACTORIES = {"embedded": _embedded, "redis": _redis}


@pytest.fixture(params=list(STORE_FACTORIES))
def store_factory(request):
    """Make stores of one kind (journal bounds may be given); each is closed after the test."""
    made = []

    def _make(journal_size=1000, journal_namespaces=100):
        store = STORE_FACTORIES[request.param](request, journal_size, journal_namespaces)
        made.append(store)
        return store

    yield _make
    for store in made:
        store.close()


@pytest.fixture
def store(store_factory):
    return store_factory()


@pytest.fixture
def server_store(redis_url):
    """Start a RedisStore on the test's Redis as a server's worker has one: listening from its start.

    Call it once per server (a later call is a server started later); each is closed after the test.
    """
    from conversations_mock.store.redis import RedisStore

    started = []

    def _start():
        store = RedisStore(redis_url)
        store.generation()
        started.append(store)
        return store

    yield _start
    for store in started:
        store.close()
