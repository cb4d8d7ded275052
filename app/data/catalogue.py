"""Which history answers for a chatbot: a fixture's list, a fixture's generator, or the default."""

from collections import OrderedDict
from threading import Lock

import orjson
from conversations_mock.data.fixtures import ListedHistory, load_fixtures
from conversations_mock.data.generator import GeneratedHistory, chatbot_key, generated_count
from conversations_mock.data.messages import SHARED_POOLS, MessagePools

# Bounds on what a worker keeps, so memory stays flat however many chatbots and pages are asked.
HISTORY_CACHE = 1024
# Pages are bounded by their bytes, not their number: a page of 100 weighs ten pages of 10.
PAGE_CACHE_BYTES = 4 * 1024 * 1024
_ENTRY_OVERHEAD = 200  # bytes of key, tuple and dict slot a cached page costs beyond its body


class BoundedCache(OrderedDict):
    """A least-recently-used mapping that drops its oldest entries once their weight passes `limit`.

    Each entry weighs 1 unless `weigh(value)` says otherwise.
    """

    def __init__(self, limit, weigh=None):
        super().__init__()
        self.limit = limit
        self.weight = 0
        self._weigh = weigh or (lambda value: 1)
        self.lock = Lock()

    def remember(self, key, value):
        """Keep `value` under `key`, forgetting the least recently used entries past the limit."""
        with self.lock:
            if key in self:
                self.weight -= self._weigh(self[key])
            self[key] = value
            self.weight += self._weigh(value)
            while self.weight > self.limit and len(self) > 1:
                self.weight -= self._weigh(self.popitem(last=False)[1])
        return value

    def clear(self):
        """Forget every entry."""
        with self.lock:
            super().clear()
            self.weight = 0

    def recall(self, key):
        """The value kept under `key`, or None; marks it recently used."""
        with self.lock:
            value = self.get(key)
            if value is not None:
                self.move_to_end(key)
            return value


def _page_weight(entry):
    return len(entry[1]) + _ENTRY_OVERHEAD


class Catalogue:
    """Every chatbot's history, and the encoded pages served from them."""

    def __init__(self, fixture_dirs, seed: int, conversations: tuple, pools: MessagePools | None = None):
        self.seed = seed
        self.conversations = conversations
        self.pools = pools or SHARED_POOLS
        self.fixture_dirs = tuple(fixture_dirs)
        self._fixtures = {}
        for chatbot_id, entry in load_fixtures(self.fixture_dirs).items():
            if "conversations" in entry:
                self._fixtures[chatbot_id] = ListedHistory(chatbot_id, entry["conversations"])
            else:
                spec = entry["generated"]
                self._fixtures[chatbot_id] = (spec["count"], spec["seed"])
        self._histories = BoundedCache(HISTORY_CACHE)
        self._pages = BoundedCache(PAGE_CACHE_BYTES, _page_weight)

    def chatbot_ids(self) -> list:
        """The chatbots the fixture files define."""
        return list(self._fixtures)

    def is_listed(self, chatbot_id: str) -> bool:
        """Whether a fixture lists this chatbot's conversations (then no seed changes them)."""
        return isinstance(self._fixtures.get(chatbot_id), ListedHistory)

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
