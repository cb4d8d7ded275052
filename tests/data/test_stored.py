"""Stored chatbots over the catalogue: no store read while the generation stands, fresh data once it moves."""

import orjson

from conversations_mock.data.catalogue import Catalogue
from conversations_mock.data.fixtures import BUILTIN_FIXTURES, ordered_dump
from conversations_mock.data.stored import StoredChatbots
from conversations_mock.schemas import ChatbotFixtureSchema, PageQuery
from conversations_mock.store.embedded import EmbeddedStore
from tests.helpers import GENERATED_CHATBOT, sample_conversations


class CountingStore(EmbeddedStore):
    """The embedded store, counting the reads of chatbot data."""

    reads = 0

    def chatbots(self, namespace):
        self.reads += 1
        return super().chatbots(namespace)


def stored(count):
    loaded = ChatbotFixtureSchema().load(
        {"id": GENERATED_CHATBOT, "conversations": sample_conversations(GENERATED_CHATBOT, count)}
    )
    return orjson.dumps(ordered_dump(loaded["conversations"]))


def test_data_is_read_once_per_namespace_and_generation():
    store = CountingStore()
    catalogue = Catalogue([BUILTIN_FIXTURES], 1, (30, 30))
    chatbots = StoredChatbots(store)
    store.put_chatbot("a", GENERATED_CHATBOT, stored(3))
    for _ in range(5):
        assert chatbots.catalogue(catalogue, "a").page(GENERATED_CHATBOT, PageQuery())[0] == 3
        assert chatbots.catalogue(catalogue, "b").page(GENERATED_CHATBOT, PageQuery())[0] == 30
    assert store.reads == 2
    store.put_chatbot("a", GENERATED_CHATBOT, stored(4))
    assert chatbots.catalogue(catalogue, "a").page(GENERATED_CHATBOT, PageQuery())[0] == 4
    assert store.reads == 3
    store.close()


def test_a_namespace_with_nothing_set_is_the_catalogue_itself():
    store = EmbeddedStore()
    catalogue = Catalogue([BUILTIN_FIXTURES], 1, (30, 30))
    assert StoredChatbots(store).catalogue(catalogue, "empty") is catalogue
    store.close()


def test_a_stored_chatbot_is_listed_whatever_the_seed():
    store = EmbeddedStore()
    catalogue = Catalogue([BUILTIN_FIXTURES], 1, (30, 30))
    store.put_chatbot("a", GENERATED_CHATBOT, stored(2))
    seen = StoredChatbots(store).catalogue(catalogue, "a")
    assert seen.is_listed(GENERATED_CHATBOT)
    assert seen.page(GENERATED_CHATBOT, PageQuery(), seed=7) == seen.page(GENERATED_CHATBOT, PageQuery())
    store.close()
