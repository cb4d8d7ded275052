"""The embedded store's rate-limit budgets: a table of counters in shared memory, one lock for all processes.

A rate limit counts every request of a limited key, so its counter is written on every request:
an SQLite write costs 13-20 us, this 2-4 us (docs/benchmarks.md). The table is a file every worker
of one server maps (made before the fork, like the generation counter); a POSIX record lock on
it (fcntl.lockf: held per process, never inherited by a fork) and a thread lock make each count
atomic. Each slot holds a budget: its namespace's tag, its (namespace, subject) tag, the window's
start and its count. A budget lives in one of PROBES slots from its tag's home, in an empty one
when it is new; should none of them be empty, the one whose window opened first is replaced (a
window opens at most an hour before it ends, so that one has long ended unless tens of thousands
of keys were limited within the hour).

Usage::

    budgets = Budgets("/tmp/store/budgets")
    used, left_ms = budgets.take("default", "9f86d081884c7d65", 60_000, now_ms)
"""

import fcntl
import functools
import hashlib
import mmap
import os
import struct
import threading

SLOTS = 1 << 16
PROBES = 32
# namespace tag, budget tag, window start (ms), count.
_SLOT = struct.Struct("<QQqq")


@functools.lru_cache(maxsize=4096)
def _tags(namespace: str, subject: str) -> tuple[int, int]:
    """(namespace tag, budget tag), never 0 (an empty slot's)."""
    digest = hashlib.blake2b(f"{namespace}\0{subject}".encode(), digest_size=8).digest()
    return _namespace_tag(namespace), int.from_bytes(digest) | 1


@functools.lru_cache(maxsize=1024)
def _namespace_tag(namespace: str) -> int:
    return int.from_bytes(hashlib.blake2b(namespace.encode(), digest_size=8).digest()) | 1


class Budgets:
    """Every subject's fixed window, per namespace, in a file shared by the processes that map it.

    :param path: the table's file (made, zeroed, when missing)
    """

    def __init__(self, path: str):
        self.path = path
        if not os.path.exists(path):
            with open(path, "wb") as file:
                file.truncate(SLOTS * _SLOT.size)
        self._pid = None
        self._fd = None
        self._table = None
        self._lock = None

    def _open(self):
        """This process's descriptor (its record lock is its own) and mapping, opened first after a fork."""
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR)
            self._table = mmap.mmap(self._fd, SLOTS * _SLOT.size)
            self._lock = threading.Lock()
            self._pid = os.getpid()
        return self._fd, self._table, self._lock

    def take(self, namespace: str, subject: str, window_ms: int, now_ms: int) -> tuple[int, int]:
        """Count one request in the subject's window: (count, ms left), as Store.take."""
        space, tag = _tags(namespace, subject)
        fd, table, lock = self._open()
        home = tag % SLOTS
        with lock:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                offset = self._slot(table, tag, home)
                _, held, start, used = _SLOT.unpack_from(table, offset)
                if held != tag or now_ms >= start + window_ms or now_ms < start:
                    start, used = now_ms, 0  # a new budget, or its next window
                used += 1
                _SLOT.pack_into(table, offset, space, tag, start, used)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)
        return used, start + window_ms - now_ms

    @staticmethod
    def _slot(table, tag, home) -> int:
        """The offset of the tag's slot, else of the first empty one, else of the oldest, among PROBES."""
        empty = oldest = oldest_start = None
        for step in range(PROBES):  # all of them: an emptied slot may lie before the tag's
            offset = ((home + step) % SLOTS) * _SLOT.size
            _, held, start, _ = _SLOT.unpack_from(table, offset)
            if held == tag:
                return offset
            if held == 0:
                if empty is None:
                    empty = offset
            elif oldest_start is None or start < oldest_start:
                oldest, oldest_start = offset, start
        return empty if empty is not None else oldest

    def forget(self, namespace: str | None = None):
        """Empty the budgets of `namespace` (None: of every namespace)."""
        fd, table, lock = self._open()
        space = None if namespace is None else _namespace_tag(namespace)
        empty = bytes(_SLOT.size)
        with lock:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            try:
                if space is None:
                    table[:] = bytes(len(table))
                    return
                for offset in range(0, len(table), _SLOT.size):
                    if _SLOT.unpack_from(table, offset)[0] == space:
                        table[offset:offset + _SLOT.size] = empty
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)

    def close(self):
        """Unmap and close this process's view (the file stays for the others)."""
        if self._pid == os.getpid():
            self._table.close()
            os.close(self._fd)
        self._pid = self._fd = self._table = None
