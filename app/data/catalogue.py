"""Which history answers for a chatbot: a fixture's list, a fixture's generator, or the default."""

import orjson

from conversations_mock.data.cache import BoundedCache
from conversations_mock.data.clock import Clock
from conversations_mock.data.fixtures import ListedHistory, load_fixtures
from conversations_mock.data.generator import GeneratedHistory, Timing, chatbot_key, generated_count
from conversations_mock.data.messages import SHARED_POOLS, MessagePools
from conversations_mock.schemas import PageQuery

# Bounds on what a worker keeps, so memory stays flat however many chatbots and pages are asked.
HISTORY_CACHE = 1024
# Pages are bounded by their bytes, not their number: a page of 100 weighs ten pages of 10.
PAGE_CACHE_BYTES = 4 * 1024 * 1024
_ENTRY_OVERHEAD = 200  # bytes of key, tuple and dict slot a cached page costs beyond its body


def _page_weight(entry):
    return len(entry[1]) + _ENTRY_OVERHEAD


class Catalogue:
    """Every chatbot's history, and the encoded pages served from them."""

    def __init__(self, fixture_dirs, seed: int, conversations: tuple, pools: MessagePools | None = None,
                 clock: Clock | None = None, timing: Timing | None = None):
        """`timing` (None: the defaults, anchored where the clock says) says when generated conversations
        come and go; `conversations` of each generated chatbot have arrived by its anchor."""
        self.seed = seed
        self.clock = clock or Clock()
        self.timing = timing or Timing(anchor_us=self.clock.anchor_us)
        self.conversations = conversations
        self.pools = pools or SHARED_POOLS
        self.fixture_dirs = tuple(fixture_dirs)
        self._fixtures = {}
        for chatbot_id, entry in load_fixtures(self.fixture_dirs).items():
            if "conversations" in entry:
                self._fixtures[chatbot_id] = ListedHistory(chatbot_id, entry["conversations"], entry["shift"])
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

    def follows_clock(self, chatbot_id: str) -> bool:
        """Whether the clock changes this chatbot's conversations (all but listed ones not shifted)."""
        fixture = self._fixtures.get(chatbot_id)
        return not isinstance(fixture, ListedHistory) or fixture.follows_clock

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
            key = chatbot_key(seed, chatbot_id)  # once for the count and the history
            if fixture is None:
                count = generated_count(key, *self.conversations)
            history = self._histories.remember(
                cache_key, GeneratedHistory(chatbot_id, seed, count, self.pools, key, self.timing)
            )
        return history

    def page(self, chatbot_id: str, query: PageQuery, seed: int | None = None, at: int | None = None
             ) -> tuple[int, bytes]:
        """(total matching the query's state filter, JSON bytes of the query's page) at instant `at`
        (microseconds since the epoch; None: the clock's current instant)."""
        if at is None:
            at = self.clock.now_us()
        # A page the clock does not change is kept once, not once per instant of a running clock.
        cache_key = (chatbot_id, seed, query, at if self.follows_clock(chatbot_id) else None)
        cached = self._pages.recall(cache_key)
        if cached is None:
            cached = self._pages.remember(cache_key, page_of(self.history(chatbot_id, seed), query, at))
        return cached


def items_of(history, query: PageQuery, at: int | None = None) -> tuple[int, list]:
    """(total matching, the page's conversations) of any history (listed or generated) for one query at `at`."""
    total = history.total(query.state, at)
    return total, history.page(query.state, query.offset, query.page_size, at) if query.offset < total else []


def page_of(history, query: PageQuery, at: int | None = None) -> tuple[int, bytes]:
    """(total matching, JSON bytes of the page) of any history (listed or generated) for one query at `at`."""
    total, items = items_of(history, query, at)
    return total, orjson.dumps(items)
