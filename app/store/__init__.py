"""What tests set and what the mock received, per namespace, shared by every worker and server.

A Store holds, for each namespace, the conversations a control request set for a chatbot, its
rate limit and each API key's budget under it, its fault rules with what is left of each, counters,
and the journal of requests received. The embedded store (nothing to install) is shared by the
workers of one server; a Redis store by any number of servers. Both keep the contract of `Store`.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import NamedTuple

# The stores' defaults are the settings' (schemas/control.py declares them once).
from conversations_mock.schemas.control import JOURNAL_NAMESPACES, JOURNAL_SIZE  # noqa: F401 - re-exported

# The namespace of requests that name none.
DEFAULT_NAMESPACE = "default"


class FaultRules(NamedTuple):
    """A namespace's fault rules as stored: which set they are, their JSON, and what is left of each.

    :param version: names this set; a PUT of rules makes a new one, so a spend meant for a replaced
        set never counts against the new one
    :param rules: the JSON array, as the schemas dumped it
    :param left: per rule, in order, how many more requests it may answer (None: a rule without times)
    """

    version: str
    rules: bytes
    left: tuple


class StoreUnavailable(Exception):
    """The store cannot be reached; the message names it (e.g. 'redis://127.0.0.1:6390/0')."""


# How many lost chatbots a problem's detail names; the others are counted ("and 5 more").
SHOWN_CHATBOTS = 10


class Loss(NamedTuple):
    """What a namespace had set in a store that has since come back empty, and when that was noticed.

    :param store: the store's location, its password masked
    :param kinds: what the namespace had set: "chatbots", "fault rules", "rate limit" (in that order)
    :param since: when this process noticed the loss (seconds since the epoch)
    :param chatbots: the ids of the chatbots it had set, sorted (the "chatbots" kind is there when any is)
    """

    store: str
    kinds: tuple
    since: float
    chatbots: tuple = ()

    @property
    def detail(self) -> str:
        """The problem's detail: what was lost (SHOWN_CHATBOTS chatbots named at most), when, what to do."""
        noticed = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since))
        others = [kind for kind in self.kinds if kind != "chatbots"]
        named, again = list(others), ([f"its {' and '.join(others)}"] if others else [])
        if self.chatbots:
            shown = ", ".join(self.chatbots[:SHOWN_CHATBOTS])
            more = len(self.chatbots) - SHOWN_CHATBOTS
            named.insert(0, f"chatbot {shown}" if len(self.chatbots) == 1 else
                         f"chatbots ({shown}{f' and {more} more' if more > 0 else ''})")
            again.insert(0, "that chatbot" if len(self.chatbots) == 1 else "those chatbots")
        what = f"{', '.join(named[:-1])} and {named[-1]}" if len(named) > 1 else named[0]
        return (
            f"The store at {self.store} lost this namespace's {what} "
            "(it came back empty: restarted without persistence, flushed or failed over to an empty replica; "
            f"noticed at {noticed}). The mock will not answer generated data in their place: "
            f"reset the namespace (POST /__mock/reset) or set {' and '.join(again)} again."
        )


class StoreLost(StoreUnavailable):
    """The namespace's data is gone from the store (a Loss); answered 503 until it is reset or all of it set again."""

    def __init__(self, loss: Loss):
        super().__init__(loss.detail)
        self.loss = loss


class Store(ABC):
    """Per-namespace chatbot data, fault rules and request journal.

    Read your writes: once a write method returns, every reader of the same store, in any worker
    or server, sees it; `generation()` tells readers cheaply (no round trip per request) whether
    anything changed since they last looked. Every method may raise StoreUnavailable.

    The journal is bounded twice: each namespace's keeps its newest `journal_size` entries, and the
    journals of at most `journal_namespaces` namespaces are kept. When a request is journalled in
    one more, the journal of the namespace least recently journalled is dropped whole, as if
    cleared; chatbot data is never dropped (it is what a client set, and stays until reset).
    """

    # Whether the store can come back empty while servers run (a shared one: `lost` may say so).
    can_lose = False

    @abstractmethod
    def put_chatbot(self, namespace: str, chatbot_id: str, conversations: bytes) -> None:
        """Set a chatbot's conversations in a namespace: a JSON array, already checked by the schemas."""

    @abstractmethod
    def get_chatbot(self, namespace: str, chatbot_id: str) -> bytes | None:
        """The conversations set for a chatbot in a namespace, or None when none are."""

    @abstractmethod
    def delete_chatbot(self, namespace: str, chatbot_id: str) -> bool:
        """Forget a chatbot's conversations in a namespace; whether any were set."""

    @abstractmethod
    def chatbots(self, namespace: str) -> dict[str, bytes]:
        """Every chatbot set in a namespace, with its conversations."""

    @abstractmethod
    def put_faults(self, namespace: str, rules: bytes, times: list) -> str:
        """Set a namespace's fault rules (a JSON array the schemas checked), replacing any; returns their version.

        `times` gives, per rule in order, how many requests it may answer (None: no bound).
        """

    @abstractmethod
    def faults(self, namespace: str) -> FaultRules | None:
        """A namespace's fault rules with what is left of each, read together; None when none are set."""

    @abstractmethod
    def delete_faults(self, namespace: str) -> bool:
        """Forget a namespace's fault rules; whether any were set."""

    @abstractmethod
    def spend(self, namespace: str, version: str, rule: int) -> bool:
        """Take one of what is left of rule number `rule` (from 0) of the set `version`, atomically.

        True when one was taken: across every worker and server, a rule given times N is spent
        exactly N times. False when none is left, the rule has no times, or the set was replaced.
        """

    @abstractmethod
    def count(self, namespace: str, name: str) -> int:
        """Add one to a namespace's counter `name` and return its new value (1 the first time), atomically.

        Across every worker and server each call gets its own value: the attempts of identical
        requests (web/draws.py). Counters go with the namespace's reset.
        """

    @abstractmethod
    def reset(self, namespace: str) -> None:
        """Forget a namespace's chatbots, rate limit, budgets, fault rules, counters and journal."""

    @abstractmethod
    def reset_all(self) -> None:
        """Forget every namespace's chatbots, rate limits, budgets, fault rules, counters and journals
        (the pytest plugin's reset)."""

    @abstractmethod
    def put_rate_limit(self, namespace: str, rate: str) -> None:
        """Set a namespace's own rate limit ('3/s', or 'off'), already checked; its budgets start afresh.

        A data write: the generation changes, so workers caching the namespace's limit read it again.
        """

    @abstractmethod
    def get_rate_limit(self, namespace: str) -> str | None:
        """The rate limit set for a namespace, or None when none is (the server's applies)."""

    @abstractmethod
    def delete_rate_limit(self, namespace: str) -> bool:
        """Forget a namespace's own rate limit (the server's applies again), and its budgets; whether one was set."""

    @abstractmethod
    def take(self, namespace: str, subject: str, window_ms: int, now_ms: int | None = None) -> tuple[int, int]:
        """Count one request of `subject` (e.g. an API key's digest) in its fixed window; (count, ms left).

        A subject's window opens at its first request and lasts `window_ms`; the first request after
        it opens the next. Returns how many requests the window has counted, this one included,
        and the milliseconds left in it (at least 1). Atomic: however many workers and servers
        count the same subject, each request gets its own count. `now_ms` is the store's clock
        (this machine's, or the Redis server's, the same for every server) unless a test gives it.
        """

    @abstractmethod
    def generation(self) -> int:
        """A number that changes whenever chatbot data or fault rules change; cheap to read on every request.

        Spending a rule does not change it: what is left is read from the store, never kept.
        """

    @abstractmethod
    def record(self, namespace: str, entry: dict) -> None:
        """Add a request to a namespace's journal (bounded: the oldest entries go first).

        A namespace with no journal yet may drop the least recently journalled namespace's journal,
        so that no more than `journal_namespaces` are kept; the check costs nothing per request.
        """

    @abstractmethod
    def journal(self, namespace: str, path: str | None = None, limit: int | None = None) -> list[dict]:
        """A namespace's journal, newest first, optionally only requests to `path`."""

    @abstractmethod
    def clear_journal(self, namespace: str) -> None:
        """Empty a namespace's journal (it no longer counts against `journal_namespaces`)."""

    def start_worker(self) -> None:
        """In a server's worker, once its concurrency is in place (gevent's patching), before any request.

        A store built before the fork makes its locks and background work again here, so that a lock
        held across a read yields to the worker's other requests instead of blocking them all.
        """

    def digest_key(self, changed: Callable[[bytes], None]) -> bytes | None:
        """The key the journal's digests of masked values are made with, if the store keeps one; else None.

        A store shared by several servers keeps one key for all of them, beside the journal it
        protects, so that any server can judge and check (`Entries.sent`) what another journalled:
        returned here once it has been read, and given to `changed(key)` whenever the store holds
        another (it came back empty and a server made a new one). The store reads it at start and
        when it looks at its epoch, never per request. The embedded store keeps none (None): the
        server makes its own before gunicorn forks, and its workers share it.
        """
        return None

    def lost(self, namespace: str) -> Loss | None:
        """What the namespace had set and the store has lost since, or None; cheap on every request.

        A shared store that comes back empty (restarted without persistence, flushed, failed over)
        has lost what namespaces set before: until such a namespace is reset or sets again (or deletes)
        each part it lost (each chatbot, its fault rules, its rate limit), its API requests answer 503
        naming the Loss, never generated data in place of a test's.
        The embedded store lives as long as its server and loses nothing: always None.
        """
        return None

    def close(self) -> None:
        """Release connections and files; the store is not used afterwards."""


class StoreConfigError(ValueError):
    """A store setting that names no store this build can open; the message says why."""


def open_store(
    location: str = "", journal_size: int = JOURNAL_SIZE, journal_namespaces: int = JOURNAL_NAMESPACES
) -> Store:
    """The store a `store` setting names: "" or "embedded" (the default), or "redis://host:port/db"."""
    if location in ("", "embedded"):
        from conversations_mock.store.embedded import EmbeddedStore

        return EmbeddedStore(journal_size, journal_namespaces=journal_namespaces)
    if location.startswith(("redis://", "rediss://")):
        try:
            from conversations_mock.store.redis import RedisStore
        except ImportError as error:
            raise StoreConfigError(
                f"Redis support is not available in this build ({error}); leave the setting empty for "
                "the embedded store."
            ) from error
        return RedisStore(location, journal_size=journal_size, journal_namespaces=journal_namespaces)
    raise StoreConfigError(
        "Give 'embedded' (or nothing) for the embedded store, or a URL like redis://127.0.0.1:6379/0."
    )
