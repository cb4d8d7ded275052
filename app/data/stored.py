"""Chatbots a control request set, per namespace, laid over the catalogue: what a worker holds of the store.

A worker reads the store's generation on each request (shared memory for the embedded store:
no round trip) and refetches a namespace's chatbots only after it changed, so data lookups cost
no store round trip while nothing changes, and never answer what a PUT, DELETE or reset replaced.
"""

import orjson

from conversations_mock.data.cache import BoundedCache, PerGeneration
from conversations_mock.data.catalogue import page_of
from conversations_mock.data.fixtures import ListedHistory
from conversations_mock.schemas import PageQuery

# Encoded pages of stored chatbots a worker keeps per generation, by bytes (as the catalogue's pages).
STORED_PAGE_BYTES = 2 * 1024 * 1024


class StoredChatbots:
    """The chatbots set in each namespace, as this worker last read them from `store`."""

    def __init__(self, store):
        self._stored = PerGeneration(store, lambda namespace: Stored(self.store.chatbots(namespace)))

    @property
    def store(self):
        """The store read (replaceable: the tests put one that can be taken down in its place)."""
        return self._stored.store

    @store.setter
    def store(self, store):
        self._stored.store = store

    def catalogue(self, catalogue, namespace: str):
        """`catalogue` as `namespace` sees it: the chatbots set there first. May raise StoreUnavailable."""
        stored = self._stored.get(namespace)
        if not stored.raw:
            return catalogue
        return NamespaceCatalogue(catalogue, stored)


class Stored:
    """One namespace's stored chatbots: their JSON, turned into histories and pages when first asked."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.histories = {}
        self.pages = BoundedCache(STORED_PAGE_BYTES, lambda entry: len(entry[1]) + 200)

    def history(self, chatbot_id):
        history = self.histories.get(chatbot_id)
        if history is None and chatbot_id in self.raw:
            history = self.histories[chatbot_id] = ListedHistory.of_dumped(
                chatbot_id, orjson.loads(self.raw[chatbot_id])
            )
        return history


class NamespaceCatalogue:
    """A catalogue with a namespace's stored chatbots in front: the methods the view and scenarios use."""

    def __init__(self, catalogue, stored: Stored):
        self._catalogue = catalogue
        self._stored = stored

    @property
    def clock(self):
        """The server's clock: every namespace's pages are evaluated at its instant."""
        return self._catalogue.clock

    def is_listed(self, chatbot_id: str) -> bool:
        """Whether the chatbot's conversations are a list (stored, or a fixture's): no seed changes them."""
        return chatbot_id in self._stored.raw or self._catalogue.is_listed(chatbot_id)

    def follows_clock(self, chatbot_id: str) -> bool:
        """Whether the clock changes the chatbot's conversations: never a stored chatbot's, as set."""
        return chatbot_id not in self._stored.raw and self._catalogue.follows_clock(chatbot_id)

    def history(self, chatbot_id: str, seed: int | None = None):
        """The stored history of a chatbot, or the catalogue's."""
        return self._stored.history(chatbot_id) or self._catalogue.history(chatbot_id, seed)

    def page(self, chatbot_id: str, query: PageQuery, seed: int | None = None, at: int | None = None
             ) -> tuple[int, bytes]:
        """(total matching, JSON bytes of the page): a stored chatbot's (any seed, any instant), else the
        catalogue's."""
        if chatbot_id not in self._stored.raw:
            return self._catalogue.page(chatbot_id, query, seed, at)
        key = (chatbot_id, query)
        cached = self._stored.pages.recall(key)
        if cached is None:
            cached = self._stored.pages.remember(key, page_of(self._stored.history(chatbot_id), query))
        return cached
