"""A bounded least-recently-used mapping: what a worker keeps stays within a fixed budget."""

from collections import OrderedDict
from threading import Lock


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
        # No lock: each OrderedDict call is one step under the GIL, and a request makes several
        # recalls. Another thread may drop the key between the two; then it is simply not marked.
        value = self.get(key)
        if value is not None:
            try:
                self.move_to_end(key)
            except KeyError:
                pass
        return value


# Namespaces a worker keeps per store generation (their chatbots, rate limit, fault rules); a parallel CI
# run uses a handful.
NAMESPACES_KEPT = 256


class PerGeneration:
    """What `read(key)` gives for each key (a namespace), read from `store` once per store generation.

    Any write moves the store's generation (Store.generation, pushed to every worker), and the next
    get reads again; a read still running for an old generation fills the old cache, never the new one.
    `read` must not return None (that is "not kept"). `get` may raise what the store raises
    (StoreUnavailable).
    """

    def __init__(self, store, read, limit=NAMESPACES_KEPT):
        self.store = store
        self.read = read
        self.limit = limit
        self._state = (None, None)  # (generation, key -> what read gave)

    def get(self, key):
        """The value kept for `key` in the store's current generation, read now if not kept."""
        generation = self.store.generation()
        state = self._state
        if state[0] != generation:
            state = self._state = (generation, BoundedCache(self.limit))
        known = state[1].recall(key)
        if known is None:
            known = state[1].remember(key, self.read(key))
        return known
