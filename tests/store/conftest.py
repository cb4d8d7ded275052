"""Store factories the contract tests run over: each param names one kind of store."""

import pytest

from conversations_mock.store.embedded import EmbeddedStore


def _embedded(journal_size):
    return EmbeddedStore(journal_size)


# name -> factory(journal_size) -> Store. The Redis store adds "redis" here (skipped without a server).
STORE_FACTORIES = {"embedded": _embedded}


@pytest.fixture(params=list(STORE_FACTORIES))
def store_factory(request):
    """Make stores of one kind (a journal size may be given); each is closed after the test."""
    made = []

    def _make(journal_size=1000):
        store = STORE_FACTORIES[request.param](journal_size)
        made.append(store)
        return store

    yield _make
    for store in made:
        store.close()


@pytest.fixture
def store(store_factory):
    return store_factory()
