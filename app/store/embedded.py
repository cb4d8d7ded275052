"""The embedded store: SQLite (WAL), an mmap'd generation, budgets and journal files, in a private temp directory.

Nothing to install or start. create_app makes it in gunicorn's master, before the fork, so every
worker of one server shares the directory: each process opens its own SQLite connection on first
use (a connection never crosses a fork), and all of them map the same 8-byte counter, which a
reader reads in about 0.2 us (docs/benchmarks.md). The directory is removed at exit by the
process that made it.
"""

import mmap
import os
import shutil
import sqlite3
import struct
import tempfile
import threading
import time
import uuid
import weakref

from conversations_mock.store import JOURNAL_NAMESPACES, JOURNAL_SIZE, FaultRules, Store, StoreUnavailable
from conversations_mock.store.budgets import Budgets
from conversations_mock.store.journal_files import JournalFiles

_COUNTER = struct.Struct("<q")
# Seconds a write waits for another process's write to finish before the store counts as unavailable.
BUSY_TIMEOUT = 5.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chatbots (
    namespace TEXT NOT NULL, chatbot_id TEXT NOT NULL, conversations BLOB NOT NULL,
    PRIMARY KEY (namespace, chatbot_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS faults (
    namespace TEXT PRIMARY KEY, version TEXT NOT NULL, rules BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fault_counts (
    namespace TEXT NOT NULL, rule INTEGER NOT NULL, version TEXT NOT NULL, remaining INTEGER,
    PRIMARY KEY (namespace, rule)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    namespace TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (namespace, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS generation (one INTEGER PRIMARY KEY CHECK (one = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO generation VALUES (1, 0);
CREATE TABLE IF NOT EXISTS rate_limits (namespace TEXT PRIMARY KEY, rate TEXT NOT NULL) WITHOUT ROWID;
"""
# What a namespace's reset forgets (its journal and budgets aside).
_NAMESPACED_TABLES = ("chatbots", "rate_limits", "faults", "fault_counts", "counters")


def _remove(directory, owner_pid, mapped):
    # Forked workers inherit this finalizer: only the process that made the directory removes it.
    if os.getpid() == owner_pid:
        shutil.rmtree(directory, ignore_errors=True)
    try:
        mapped.close()
    except (BufferError, ValueError):
        pass


class EmbeddedStore(Store):
    """A Store for the processes of one server (one machine): SQLite in WAL mode, a shared-memory generation.

    :param journal_size: entries each namespace's journal keeps (0: none are kept)
    :param directory: where to keep the files (default: a new private temporary directory, removed at exit)
    :param journal_namespaces: namespaces whose journals are kept (JournalFiles says how)
    """

    def __init__(
        self, journal_size: int = JOURNAL_SIZE, directory: str | None = None,
        journal_namespaces: int = JOURNAL_NAMESPACES,
    ):
        self.journal_size = journal_size
        self.directory = directory or tempfile.mkdtemp(prefix="conversations-mock-store-")
        self.path = os.path.join(self.directory, "store.sqlite3")
        counter = os.path.join(self.directory, "generation")
        if not os.path.exists(counter):
            with open(counter, "wb") as file:
                file.write(bytes(_COUNTER.size))
        descriptor = os.open(counter, os.O_RDWR)
        try:
            self._counter = mmap.mmap(descriptor, _COUNTER.size)
        finally:
            os.close(descriptor)
        self._pid = None
        self._connection = None
        self._lock = None
        self._inherited = []  # connections opened before a fork: never used or closed again in the child
        # Counted on every request of a limited key: shared memory, not an SQLite write (store/budgets.py).
        self._budgets = Budgets(os.path.join(self.directory, "budgets"))
        self._journal = JournalFiles(
            os.path.join(self.directory, "journal"), journal_size, journal_namespaces
        )
        # The schema is made now, by the process that calls create_app, on a connection closed before a fork.
        with sqlite3.connect(self.path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
        connection.close()
        owned = directory is None
        self._finalizer = weakref.finalize(
            self, _remove, self.directory if owned else None, os.getpid() if owned else -1, self._counter
        )

    def __repr__(self):
        return f"embedded store at {self.path}"

    def _connect(self):
        """This process's connection and lock, opened on first use after a fork."""
        if self._pid != os.getpid():
            if self._connection is not None:
                self._inherited.append(self._connection)
            self._lock = threading.RLock()
            # check_same_thread=False: one connection per process, shared by its threads or greenlets
            # under the lock; no statement yields (gevent) while it is held.
            self._connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            # The data lives as long as the server: durability across a power cut buys nothing here.
            self._connection.execute("PRAGMA synchronous=OFF")
            self._pid = os.getpid()
        return self._connection, self._lock

    def _run(self, work, write=False):
        """work(connection) under this process's lock, in one transaction; sqlite errors are StoreUnavailable.

        `write`: take the write lock up front (BEGIN IMMEDIATE), for work that reads before it writes.
        """
        try:
            connection, lock = self._connect()
            with lock:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    result = work(connection)
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
                return result
        except sqlite3.Error as error:
            raise StoreUnavailable(f"{self!r}: {error}") from error

    def _write_data(self, work):
        """A write of chatbot data: the generation moves in the same transaction, then is published."""

        def bump(connection):
            result = work(connection)
            generation = connection.execute(
                "UPDATE generation SET value = value + 1 RETURNING value"
            ).fetchone()[0]
            return result, generation

        result, generation = self._run(bump, write=True)
        # Published after the commit: a reader that sees the new number finds the new data. Each
        # number is written once, by the one write that made it, so a number never comes back.
        _COUNTER.pack_into(self._counter, 0, generation)
        return result

    def put_chatbot(self, namespace, chatbot_id, conversations):
        self._write_data(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO chatbots VALUES (?, ?, ?)", (namespace, chatbot_id, conversations)
            )
        )

    def get_chatbot(self, namespace, chatbot_id):
        row = self._run(
            lambda c: c.execute(
                "SELECT conversations FROM chatbots WHERE namespace = ? AND chatbot_id = ?",
                (namespace, chatbot_id),
            ).fetchone()
        )
        return None if row is None else bytes(row[0])

    def delete_chatbot(self, namespace, chatbot_id):
        return self._write_data(
            lambda c: (
                c.execute(
                    "DELETE FROM chatbots WHERE namespace = ? AND chatbot_id = ?", (namespace, chatbot_id)
                ).rowcount
                > 0
            )
        )

    def chatbots(self, namespace):
        rows = self._run(
            lambda c: c.execute(
                "SELECT chatbot_id, conversations FROM chatbots WHERE namespace = ?", (namespace,)
            ).fetchall()
        )
        return {chatbot_id: bytes(conversations) for chatbot_id, conversations in rows}

    def put_faults(self, namespace, rules, times):
        version = uuid.uuid4().hex

        def put(connection):
            _forget_faults(connection, namespace)
            connection.execute("INSERT INTO faults VALUES (?, ?, ?)", (namespace, version, rules))
            connection.executemany(
                "INSERT INTO fault_counts VALUES (?, ?, ?, ?)",
                [(namespace, rule, version, left) for rule, left in enumerate(times)],
            )

        self._write_data(put)
        return version

    def faults(self, namespace):
        def read(connection):
            found = connection.execute(
                "SELECT version, rules FROM faults WHERE namespace = ?", (namespace,)
            ).fetchone()
            if found is None:
                return None
            lefts = connection.execute(
                "SELECT remaining FROM fault_counts WHERE namespace = ? ORDER BY rule", (namespace,)
            ).fetchall()
            return FaultRules(found[0], bytes(found[1]), tuple(left for (left,) in lefts))

        return self._run(read)

    def delete_faults(self, namespace):
        return self._write_data(lambda c: _forget_faults(c, namespace))

    def spend(self, namespace, version, rule):
        # One UPDATE, under the write lock: two processes never both take the last one (NULL > 0 is false).
        return self._run(
            lambda c: c.execute(
                "UPDATE fault_counts SET remaining = remaining - 1 "
                "WHERE namespace = ? AND rule = ? AND version = ? AND remaining > 0",
                (namespace, rule, version),
            ).rowcount == 1,
            write=True,
        )

    def count(self, namespace, name):
        return self._run(
            lambda c: c.execute(
                "INSERT INTO counters VALUES (?, ?, 1) "
                "ON CONFLICT (namespace, name) DO UPDATE SET value = value + 1 RETURNING value",
                (namespace, name),
            ).fetchone()[0],
            write=True,
        )

    def reset(self, namespace):
        def forget(connection):
            for table in _NAMESPACED_TABLES:
                connection.execute(f"DELETE FROM {table} WHERE namespace = ?", (namespace,))

        self._write_data(forget)
        self._forget_budgets(namespace)
        self.clear_journal(namespace)

    def reset_all(self):
        self._write_data(lambda c: [c.execute(f"DELETE FROM {table}") for table in _NAMESPACED_TABLES])
        self._forget_budgets(None)
        try:
            self._journal.clear_all()
        except OSError as error:
            raise StoreUnavailable(f"{self!r}: journal: {error}") from error

    def put_rate_limit(self, namespace, rate):
        self._forget_budgets(namespace)  # first: no request counts in the old budgets under the new limit
        self._write_data(
            lambda c: c.execute("INSERT OR REPLACE INTO rate_limits VALUES (?, ?)", (namespace, rate))
        )

    def get_rate_limit(self, namespace):
        row = self._run(
            lambda c: c.execute("SELECT rate FROM rate_limits WHERE namespace = ?", (namespace,)).fetchone()
        )
        return None if row is None else row[0]

    def delete_rate_limit(self, namespace):
        self._forget_budgets(namespace)
        return self._write_data(
            lambda c: c.execute("DELETE FROM rate_limits WHERE namespace = ?", (namespace,)).rowcount > 0
        )

    def take(self, namespace, subject, window_ms, now_ms=None):
        now = int(time.time() * 1000) if now_ms is None else now_ms
        try:
            return self._budgets.take(namespace, subject, window_ms, now)
        except OSError as error:
            raise StoreUnavailable(f"{self!r}: budgets: {error}") from error

    def _forget_budgets(self, namespace):
        try:
            self._budgets.forget(namespace)
        except OSError as error:
            raise StoreUnavailable(f"{self!r}: budgets: {error}") from error

    def generation(self):
        return _COUNTER.unpack_from(self._counter, 0)[0]

    def record(self, namespace, entry):
        try:
            self._journal.record(namespace, entry)
        except OSError as error:
            raise StoreUnavailable(f"{self!r}: journal: {error}") from error

    def journal(self, namespace, path=None, limit=None):
        try:
            return self._journal.read(namespace, path, limit)
        except OSError as error:
            raise StoreUnavailable(f"{self!r}: journal: {error}") from error

    def clear_journal(self, namespace):
        try:
            self._journal.clear(namespace)
        except OSError as error:
            raise StoreUnavailable(f"{self!r}: journal: {error}") from error

    def close(self):
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = self._pid = None
        self._budgets.close()
        self._finalizer()


def _forget_faults(connection, namespace) -> bool:
    """Delete a namespace's rules and their counts; whether any rules were set."""
    connection.execute("DELETE FROM fault_counts WHERE namespace = ?", (namespace,))
    return connection.execute("DELETE FROM faults WHERE namespace = ?", (namespace,)).rowcount > 0

