"""Open connections of each worker, shared, so that a worker holding far more than a sibling sheds some.

gunicorn's workers accept from one listening socket. When a burst of new connections arrives while
the cores are busy, the worker already running often accepts every one of them before a sibling is
scheduled: a client with 16 keep-alive connections had all 16 on one worker in about one wrk run
of four, at half the throughput, the other worker idle (docs/benchmarks.md, seventh round). So each
worker writes its count of open connections to a table in shared memory that the master maps
before forking, and a worker holding at least twice a live sibling's count, plus two, answers its
next request with `Connection: close`. The client reconnects, most likely to the idle worker.
Balanced workers never close a connection early, so nothing is paid when nothing is wrong.
"""

import mmap
import struct
import time

SLOTS = 128  # a worker's slot is its gunicorn age modulo this: siblings never share one in practice
_ENTRY = struct.Struct("=iid")  # pid, open connections, last heartbeat (time.monotonic: one clock for all)
STALE = 3.0  # seconds without a heartbeat after which a sibling counts as gone (workers beat every second)
REFRESH = 0.25  # seconds a balanced worker goes on trusting its last reading of its siblings


class ConnectionTable:
    """Each worker's open connections, in anonymous shared memory: made in the master, inherited by its forks."""

    def __init__(self, slots: int = SLOTS):
        self.memory = mmap.mmap(-1, slots * _ENTRY.size)
        self.slots = slots

    def seat(self, age: int, pid: int) -> "Seat":
        """The entry of the worker of this gunicorn age and pid (written at once)."""
        return Seat(self, (age % self.slots) * _ENTRY.size, pid)


class Seat:
    """One worker's entry in a ConnectionTable: its count, its heartbeat, and its view of its siblings."""

    def __init__(self, table: ConnectionTable, offset: int, pid: int):
        self._memory, self._offset, self._pid = table.memory, offset, pid
        self.open = 0
        self._least, self._read_at = None, float("-inf")
        self.beat()

    def beat(self):
        """Write this worker's count with a fresh heartbeat."""
        _ENTRY.pack_into(self._memory, self._offset, self._pid, self.open, time.monotonic())

    def opened(self):
        """A connection was accepted."""
        self.open += 1
        self.beat()

    def closed(self):
        """A connection ended."""
        self.open -= 1
        self.beat()

    def crowded(self) -> bool:
        """Whether this worker holds at least twice the connections of its least busy live sibling, plus two."""
        now = time.monotonic()
        # Read afresh before every shedding, so a worker stops as soon as its siblings have caught up.
        if now - self._read_at > REFRESH or self._sheds():
            self._read_at, self._least = now, self._least_sibling(now)
        return self._sheds()

    def _sheds(self) -> bool:
        return self._least is not None and self.open >= 2 * self._least + 2

    def _least_sibling(self, now: float) -> int | None:
        least = None
        for offset in range(0, len(self._memory), _ENTRY.size):
            pid, connections, beat = _ENTRY.unpack_from(self._memory, offset)
            if pid and offset != self._offset and now - beat < STALE and (least is None or connections < least):
                least = connections
        return least
