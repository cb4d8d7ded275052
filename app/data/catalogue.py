"""Which history answers for a chatbot: a fixture's list, a fixture's generator, or the default."""

from collections import OrderedDict
from threading import Lock

import orjson

from app.data.fixtures import ListedHistory, load_fixtures
from app.data.generator import GeneratedHistory, chatbot_key, generated_count
from app.data.messages import MessagePools

# Bounds on what a worker keeps, so memory stays flat however many chatbots and pages are asked.
HISTORY_CACHE = 1024
PAGE_CACHE = 4096


class _Bounded(OrderedDict):
    """A least-recently-used mapping that drops its oldest entries past `limit`."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.lock = Lock()

    def remember(self, key, value):
        with self.lock:
            self[key] = value
            while len(self) > self.limit:
                self.popitem(last=False)
        return value

    def recall(self, key):
        with self.lock:
            value = self.get(key)
            if value is not None:
                self.move_to_end(key)
            return value


class Catalogue:
    """Every chatbot's history, and the encoded pages served from them."""

    def __init__(self, fixture_dirs, seed: int, conversations: tuple, pools: MessagePools | None = None):
        self.seed = seed
        self.conversations = conversations
        self.pools = pools or MessagePools()
        self.fixture_dirs = tuple(fixture_dirs)
        self._fixtures = {}
        for chatbot_id, entry in load_fixtures(self.fixture_dirs).items():
            if "conversations" in entry:
                self._fixtures[chatbot_id] = ListedHistory(chatbot_id, entry["conversations"])
            else:
                spec = entry["generated"]
                self._fixtures[chatbot_id] = (spec["count"], spec["seed"])
        self._histories = _Bounded(HISTORY_CACHE)
        self._pages = _Bounded(PAGE_CACHE)

    def chatbot_ids(self) -> list:
        """The chatbots the fixture files define."""
        return list(self._fixtures)

    def history(self, chatbot_id: str, seed: int | None = None):
        """The history of a chatbot; `seed` overrides the server's seed for generated ones."""
        fixture = self._fixtures.get(chatbot_id)
        if isinstance(fixture, ListedHistory):
            return fixture
        if fixture is not None:
            count, fixture_seed = fixture
            seed = fixture_seed if seed is None and fixture_seed is not None else seed
        seed = self.seed if seed is None else seed
        cache_key = (chatbot_id, seed)
        history = self._histories.recall(cache_key)
        if history is None:
            if fixture is None:
                count = generated_count(chatbot_key(seed, chatbot_id), *self.conversations)
            history = self._histories.remember(
                cache_key, GeneratedHistory(chatbot_id, seed, count, self.pools)
            )
        return history

    def page(self, chatbot_id: str, state, page: int, page_size: int, seed=None):
        """(total matching, JSON bytes of the page) for one request's parameters."""
        cache_key = (chatbot_id, seed, state, page, page_size)
        cached = self._pages.recall(cache_key)
        if cached is None:
            history = self.history(chatbot_id, seed)
            total = history.total(state)
            offset = (page - 1) * page_size
            items = history.page(state, offset, page_size) if offset < total else []
            cached = self._pages.remember(cache_key, (total, orjson.dumps(items)))
        return cached
