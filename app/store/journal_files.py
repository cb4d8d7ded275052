"""The embedded store's journal: one append-only file per process and namespace, no lock between processes.

A journalled request costs one fstat and one append to a file only its own process writes
(about 3 us, against 15-20 us and lock waits between workers for a SQLite insert:
docs/benchmarks.md). A reader lists every process's files of the namespace and merges them,
newest first. Each file holds at most `size` entries; the one before it is kept as `.previous`,
so the newest `size` entries of every process are always there.
"""

import glob
import os
import threading
import time

import orjson

# Files a process keeps open at once (one per namespace it journals); the least recently used is closed.
OPEN_FILES = 64


class JournalFiles:
    """Per-namespace journals in `directory`, bounded to `size` entries each as read.

    :param directory: a directory only this server's processes use
    :param size: entries each namespace's journal keeps (0: none)
    """

    def __init__(self, directory: str, size: int):
        self.directory = directory
        self.size = size
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._pid = None
        self._lock = None
        self._open = {}  # namespace -> [file descriptor, entries in it], least recently used first

    def _base(self, namespace: str) -> str:
        # Hex: a namespace may be "..", and file names must not care about case or dots.
        return os.path.join(self.directory, namespace.encode().hex())

    def _mine(self):
        """This process's lock and open files; a forked child closes what it inherited and starts afresh."""
        if self._pid != os.getpid():
            for descriptor, _ in self._open.values():
                os.close(descriptor)
            self._open, self._lock, self._pid = {}, threading.Lock(), os.getpid()
        return self._lock

    def record(self, namespace: str, entry: dict):
        """Append an entry to this process's file of the namespace (a new file past `size` entries)."""
        if self.size <= 0:
            return
        line = orjson.dumps((time.time_ns(), entry)) + b"\n"
        with self._mine():
            state = self._open.pop(namespace, None)
            if state is not None and os.fstat(state[0]).st_nlink == 0:  # cleared since: start a new file
                os.close(state[0])
                state = None
            current = f"{self._base(namespace)}.{self._pid}"
            if state is None:
                state = [os.open(current, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), 0]
                if os.fstat(state[0]).st_size:  # reopened after being closed as least recently used
                    with open(current, "rb") as file:
                        state[1] = file.read().count(b"\n")
            if state[1] >= self.size:
                os.replace(current, current + ".previous")
                os.close(state[0])
                state = [os.open(current, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), 0]
            os.write(state[0], line)
            state[1] += 1
            self._open[namespace] = state
            if len(self._open) > OPEN_FILES:
                os.close(self._open.pop(next(iter(self._open)))[0])

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
        """Forget the namespace's entries: its files go; a process that writes next starts a new one."""
        for name in glob.glob(glob.escape(self._base(namespace)) + ".*"):
            try:
                os.remove(name)
            except FileNotFoundError:
                pass
