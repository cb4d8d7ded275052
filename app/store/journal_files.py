"""The embedded store's journal: one append-only file per process and namespace, no lock between processes.

A journalled request costs one append to a file only its own process writes (about 2 us,
against 15-20 us and lock waits between workers for a SQLite insert: docs/benchmarks.md). A
clear removes the namespace's files and bumps a counter every process maps (`clears`): a writer
reads it (about 0.05 us) instead of an fstat per write, and only when it moved checks which of
its open files are gone. A reader lists every process's files of the namespace and merges them,
newest first. Each file holds at most `size` entries; the one before it is kept as `.previous`,
so the newest `size` entries of every process are always there.

The journals of at most `namespaces` namespaces are kept. A process checks only when it starts a
file for a namespace it has none of (not per write): it lists the directory, takes each
namespace's newest file modification time as when it was last journalled, and removes every
process's files of the namespaces beyond the newest `namespaces`, as a clear does.
"""

import contextlib
import fcntl
import glob
import mmap
import os
import struct
import threading
import time
import weakref

import orjson

from conversations_mock.store import JOURNAL_NAMESPACES

# Files a process keeps open at once (one per namespace it journals); the least recently used is closed.
OPEN_FILES = 64
# The shared clear counter's file in the journal directory: no namespace's file is named so (theirs are hex.pid).
CLEARS = "clears"
_COUNTER = struct.Struct("<q")


class JournalFiles:
    """Per-namespace journals in `directory`, bounded to `size` entries each as read.

    :param directory: a directory only this server's processes use
    :param size: entries each namespace's journal keeps (0: none)
    :param namespaces: namespaces whose journals are kept (the least recently written ones' go first)
    """

    def __init__(self, directory: str, size: int, namespaces: int = JOURNAL_NAMESPACES):
        self.directory = directory
        self.size = size
        self.namespaces = namespaces
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._clears = _map_counter(os.path.join(directory, CLEARS))
        self._seen = self._clear_count()
        self._reset_process_state(close=False)
        # A forked child closes what it inherited and starts afresh (gunicorn forks its workers from the master).
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (journal := ref()) and journal._reset_process_state())

    def _reset_process_state(self, close=True):
        for state in getattr(self, "_open", {}).values() if close else ():
            os.close(state[0])
        self._pid = os.getpid()
        self._lock = threading.Lock()  # a new one: the parent may have held its lock when it forked
        self._open = {}  # namespace -> [file descriptor, entries in it, path], least recently used first

    def _base(self, namespace: str) -> str:
        # Hex: a namespace may be "..", and file names must not care about case or dots.
        return os.path.join(self.directory, namespace.encode().hex())

    def _clear_count(self) -> int:
        return _COUNTER.unpack_from(self._clears, 0)[0]

    def record(self, namespace: str, entry: dict):
        """Append an entry to this process's file of the namespace (a new file past `size` entries)."""
        if self.size <= 0:
            return
        line = orjson.dumps((time.time_ns(), entry), option=orjson.OPT_APPEND_NEWLINE)
        with self._lock:
            if _COUNTER.unpack_from(self._clears, 0)[0] != self._seen:
                self._drop_cleared()
            state = self._open.pop(namespace, None) or self._reopen(namespace)
            if state[1] >= self.size:
                self._rotate(state)
            os.write(state[0], line)
            state[1] += 1
            self._open[namespace] = state
            if len(self._open) > OPEN_FILES:
                os.close(self._open.pop(next(iter(self._open)))[0])

    def _drop_cleared(self):
        """After some process cleared: close the open files it removed (the next write starts a new one)."""
        # Read before the checks: a clear after them moves the counter again, and is seen on the next write.
        self._seen = self._clear_count()
        for namespace, state in list(self._open.items()):
            if os.fstat(state[0]).st_nlink == 0:
                os.close(state[0])
                del self._open[namespace]

    @staticmethod
    def _rotate(state: list):
        """The full file becomes `.previous` (the one before goes), and a new one is opened."""
        previous = state[2] + ".previous"
        # Removed first, then renamed: os.replace onto an existing file makes ext4 write the file's data
        # out first (its auto_da_alloc), 0.5 ms against 0.1. A reader meanwhile finds the full file alone.
        # A clear in another process may have removed either already.
        with contextlib.suppress(FileNotFoundError):
            os.remove(previous)
        with contextlib.suppress(FileNotFoundError):
            os.rename(state[2], previous)
        os.close(state[0])
        state[0], state[1] = os.open(state[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), 0

    def _reopen(self, namespace: str) -> list:
        path = f"{self._base(namespace)}.{self._pid}"
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        count = 0
        if os.fstat(descriptor).st_size:  # reopened after being closed as least recently used
            with open(path, "rb") as file:
                count = file.read().count(b"\n")
        else:  # a new file, maybe a new namespace: the only time the namespaces' bound is checked
            self._drop_least_recent(os.path.basename(self._base(namespace)))
        return [descriptor, count, path]

    def _drop_least_recent(self, keep: str):
        """Remove the files of the namespaces least recently written, past the newest `namespaces` (and `keep`)."""
        last_written = {}  # a namespace's file name stem -> the newest modification time of its files
        files = {}
        with os.scandir(self.directory) as entries:
            for entry in entries:
                stem = entry.name.split(".", 1)[0]
                if entry.name == CLEARS or stem == keep:
                    continue
                try:
                    written = entry.stat().st_mtime_ns
                except FileNotFoundError:  # cleared, rotated or dropped meanwhile
                    continue
                last_written[stem] = max(written, last_written.get(stem, 0))
                files.setdefault(stem, []).append(entry.path)
        excess = len(last_written) + 1 - self.namespaces  # + 1: `keep`, just written
        if excess <= 0:
            return
        for stem in sorted(last_written, key=last_written.get)[:excess]:
            for name in files[stem]:
                with contextlib.suppress(FileNotFoundError):  # another process dropped it too
                    os.remove(name)
        self._count_clear()

    def read(self, namespace: str, path: str | None = None, limit: int | None = None) -> list[dict]:
        """The namespace's entries (of `path` only, if given), newest first, at most `limit` and `size`."""
        limit = self.size if limit is None else min(limit, self.size)
        stamped = []
        for name in glob.glob(glob.escape(self._base(namespace)) + ".*"):
            try:
                with open(name, "rb") as file:
                    lines = file.read().splitlines()
            except FileNotFoundError:  # cleared or rotated meanwhile
                continue
            kept = 0
            for line in reversed(lines):  # a file is in the order it was written: its newest last
                if kept >= limit:
                    break
                try:
                    stamp, entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a line being written
                if path is None or entry.get("path") == path:
                    stamped.append((stamp, entry))
                    kept += 1
        stamped.sort(key=lambda pair: pair[0], reverse=True)
        return [entry for _, entry in stamped[:limit]]

    def clear(self, namespace: str):
        """Forget the namespace's entries: its files go, then the clear counter moves for every writer."""
        for name in glob.glob(glob.escape(self._base(namespace)) + ".*"):
            try:
                os.remove(name)
            except FileNotFoundError:
                pass
        self._count_clear()

    def clear_all(self):
        """Forget every namespace's entries: every file but the counter goes, then the counter moves."""
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.name != CLEARS:
                    with contextlib.suppress(FileNotFoundError):  # rotated or cleared meanwhile
                        os.remove(entry.path)
        self._count_clear()

    def _count_clear(self):
        """Move the clear counter, after removing files: writers holding them open start new ones."""
        # Under a file lock: two processes clearing at once each move it, so no writer misses the second.
        descriptor = os.open(os.path.join(self.directory, CLEARS), os.O_RDWR)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            _COUNTER.pack_into(self._clears, 0, self._clear_count() + 1)
        finally:
            os.close(descriptor)  # and the lock with it


def _map_counter(path: str) -> mmap.mmap:
    """The 8-byte counter at `path`, mapped shared (made zero if missing; every process maps the same file)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(descriptor).st_size < _COUNTER.size:  # never truncates a count another process made
            os.ftruncate(descriptor, _COUNTER.size)
        return mmap.mmap(descriptor, _COUNTER.size)
    finally:
        os.close(descriptor)
