"""The embedded store's journal files: bounded on disk, cleared under writers, many namespaces, forks."""

import os
import time

from conversations_mock.store import journal_files
from conversations_mock.store.journal_files import CLEARS, JournalFiles


def written(directory):
    """The journal's own files in `directory` (not the shared clear counter)."""
    return [path for path in directory.iterdir() if path.name != CLEARS]


def test_each_process_keeps_at_most_two_files_of_size_entries(tmp_path):
    journal = JournalFiles(str(tmp_path), 3)
    for n in range(10):
        journal.record("a", {"n": n, "path": "/p"})
    assert [e["n"] for e in journal.read("a")] == [9, 8, 7]
    lines = sum(path.read_bytes().count(b"\n") for path in written(tmp_path))
    assert len(written(tmp_path)) == 2 and lines <= 6


def test_a_writer_with_an_open_file_starts_afresh_after_a_clear(tmp_path):
    journal = JournalFiles(str(tmp_path), 10)
    journal.record("a", {"n": 1})
    journal.clear("a")
    journal.record("a", {"n": 2})
    assert journal.read("a") == [{"n": 2}]


def test_namespaces_past_the_open_files_bound_keep_their_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_files, "OPEN_FILES", 2)
    journal = JournalFiles(str(tmp_path), 2)
    for n in range(6):
        for namespace in ("a", "b", "c"):
            journal.record(namespace, {"n": n})
    assert all([e["n"] for e in journal.read(ns)] == [5, 4] for ns in ("a", "b", "c"))
    assert len(journal._open) == 2


def test_processes_write_their_own_files_and_are_read_together(tmp_path):
    journal = JournalFiles(str(tmp_path), 10)
    journal.record("a", {"n": 0})
    pid = os.fork()
    if pid == 0:
        try:
            journal.record("a", {"n": 1})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    journal.record("a", {"n": 2})
    assert [e["n"] for e in journal.read("a")] == [2, 1, 0]
    assert len(written(tmp_path)) == 2


def test_a_namespace_is_a_file_name_whatever_it_spells(tmp_path):
    journal = JournalFiles(str(tmp_path / "j"), 5)
    journal.record("..", {"n": 1})
    journal.record("A.b-c_", {"n": 2})
    assert journal.read("..") == [{"n": 1}] and journal.read("a.b-c_") == []
    assert sorted(p.parent.name for p in written(tmp_path / "j")) == ["j", "j"]


def test_a_clear_in_another_process_is_seen_by_a_writer_without_an_fstat_per_write(tmp_path, monkeypatch):
    journal = JournalFiles(str(tmp_path), 10)
    journal.record("a", {"n": 0})
    journal.record("b", {"n": 0})
    fstats = []
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: fstats.append(fd) or real_fstat(fd))
    for n in range(1, 5):
        journal.record("a", {"n": n})
    assert fstats == []  # nothing cleared: the shared counter alone was read
    pid = os.fork()
    if pid == 0:
        try:
            JournalFiles(str(tmp_path), 10).clear("a")  # another process, its own instance
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    journal.record("a", {"n": 5})
    journal.record("b", {"n": 1})
    assert journal.read("a") == [{"n": 5}]
    assert [e["n"] for e in journal.read("b")] == [1, 0]  # the namespace not cleared kept its file
    assert len(fstats) == 3  # after the clear: once per open file, once opening a's new one


def test_every_clear_moves_the_shared_counter(tmp_path):
    journal = JournalFiles(str(tmp_path), 10)
    other = JournalFiles(str(tmp_path), 10)  # the same directory, mapped again as another process would
    journal.clear("a")
    other.clear("b")
    assert journal._clear_count() == other._clear_count() == 2
    assert JournalFiles(str(tmp_path), 10)._clear_count() == 2  # a new mapping keeps the count


def test_a_full_file_rotates_even_when_a_clear_removed_the_files_unseen(tmp_path):
    journal = JournalFiles(str(tmp_path), 2)
    for n in range(3):
        journal.record("a", {"n": n})  # a file and its .previous
    for path in written(tmp_path):  # as a clear in another process, before it moves the counter
        path.unlink()
    journal.record("a", {"n": 3})
    journal.record("a", {"n": 4})  # the open file, unlinked, is full: rotates with nothing to rename
    assert [e["n"] for e in journal.read("a")] == [4]


def namespaces_on_disk(directory):
    """The namespaces that have files in `directory`, by their files' hex stems."""
    return {bytes.fromhex(path.name.split(".")[0]).decode() for path in written(directory)}


def test_the_namespaces_bound_is_checked_only_when_a_file_is_started(tmp_path, monkeypatch):
    journal = JournalFiles(str(tmp_path), 2, namespaces=3)
    listings = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: listings.append(path) or real_scandir(path))
    for n in range(5):
        journal.record("a", {"n": n})  # a new file at n = 0 only: n = 2 and 4 rotate
    assert len(listings) == 1
    journal.record("b", {"n": 0})
    assert len(listings) == 2


def test_a_dropped_namespace_loses_every_file_its_previous_included(tmp_path):
    journal = JournalFiles(str(tmp_path), 2, namespaces=1)
    for n in range(3):
        journal.record("a", {"n": n})  # a file and its .previous
    journal.record("b", {"n": 0})
    assert namespaces_on_disk(tmp_path) == {"b"} and len(written(tmp_path)) == 1
    assert journal.read("a") == []


def test_a_forked_writer_drops_the_other_processes_files_and_they_start_afresh(tmp_path):
    journal = JournalFiles(str(tmp_path), 10, namespaces=3)
    for namespace in ("a", "b"):
        journal.record(namespace, {"n": 0})
        time.sleep(0.02)  # past the file system's timestamp tick: a is journalled before b
    pid = os.fork()
    if pid == 0:
        try:
            for namespace in ("c", "d"):
                journal.record(namespace, {"n": 0})
                time.sleep(0.02)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert namespaces_on_disk(tmp_path) == {"b", "c", "d"}  # the child removed the parent's file of a
    journal.record("a", {"n": 1})  # the parent's open file of a is gone: a new one, and b goes
    assert namespaces_on_disk(tmp_path) == {"a", "c", "d"}
    assert journal.read("a") == [{"n": 1}] and journal.read("b") == []


def test_processes_journalling_thousands_of_namespaces_at_once_leave_at_most_the_bound(tmp_path):
    journal = JournalFiles(str(tmp_path), 10, namespaces=5)
    children = []
    for child in range(3):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                for n in range(1000):
                    journal.record(f"{child}-{n}", {"n": n})
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in children]
    assert statuses == [0, 0, 0]
    assert 1 <= len(namespaces_on_disk(tmp_path)) <= 5
