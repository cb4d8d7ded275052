"""The embedded store's journal files: bounded on disk, cleared under writers, many namespaces, forks."""

import os

from conversations_mock.store import journal_files
from conversations_mock.store.journal_files import JournalFiles


def test_each_process_keeps_at_most_two_files_of_size_entries(tmp_path):
    journal = JournalFiles(str(tmp_path), 3)
    for n in range(10):
        journal.record("a", {"n": n, "path": "/p"})
    assert [e["n"] for e in journal.read("a")] == [9, 8, 7]
    lines = sum(path.read_bytes().count(b"\n") for path in tmp_path.iterdir())
    assert len(list(tmp_path.iterdir())) == 2 and lines <= 6


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
    assert len(list(tmp_path.iterdir())) == 2


def test_a_namespace_is_a_file_name_whatever_it_spells(tmp_path):
    journal = JournalFiles(str(tmp_path / "j"), 5)
    journal.record("..", {"n": 1})
    journal.record("A.b-c_", {"n": 2})
    assert journal.read("..") == [{"n": 1}] and journal.read("a.b-c_") == []
    assert sorted(p.parent.name for p in (tmp_path / "j").iterdir()) == ["j", "j"]
