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
