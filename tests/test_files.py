"""write_atomically: a reader sees the old file or the new one, never half of one or a leftover; `-` is standard output."""

import json
import os
import stat
import sys

import pytest

from conversations_mock.commands.cli import main
from conversations_mock.files import FileExists, write_atomically
from tests.helpers import GENERATED_CHATBOT

OLD = b'{"chatbots": []}\n'
NEW = b'{"chatbots": [' + b" " * 100_000 + b"]}\n"


def _fail(error):
    def _raise(*args, **kwargs):
        raise error

    return _raise


class _HalfWriter:
    """A stream that writes half of what it is given to the file, then fails, as a full disk does."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        self._stream.write(data[: len(data) // 2])
        self._stream.flush()
        raise OSError(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._stream.__exit__(*exc)


def _half_write(monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _HalfWriter(real_fdopen(*a, **k)))
    return OSError


def _fsync_fails(monkeypatch):
    monkeypatch.setattr(os, "fsync", _fail(OSError(5, "Input/output error")))
    return OSError


def _interrupted_in_fsync(monkeypatch):
    monkeypatch.setattr(os, "fsync", _fail(KeyboardInterrupt()))
    return KeyboardInterrupt


def _rename_fails(monkeypatch):
    monkeypatch.setattr(os, "replace", _fail(OSError(18, "Invalid cross-device link")))
    monkeypatch.setattr(os, "link", _fail(OSError(18, "Invalid cross-device link")))
    return OSError


FAILURES = [_half_write, _fsync_fails, _interrupted_in_fsync, _rename_fails]


@pytest.mark.parametrize("failure", FAILURES)
def test_interrupted_overwrite_keeps_the_old_file_and_no_leftovers(tmp_path, monkeypatch, failure):
    target = tmp_path / "chatbots.json"
    target.write_bytes(OLD)
    error = failure(monkeypatch)
    with pytest.raises(error):
        write_atomically(target, NEW, overwrite=True)
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chatbots.json"]


@pytest.mark.parametrize("failure", FAILURES)
def test_interrupted_new_file_leaves_nothing(tmp_path, monkeypatch, failure):
    error = failure(monkeypatch)
    with pytest.raises(error):
        write_atomically(tmp_path / "chatbots.json", NEW)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_unless_asked(tmp_path):
    target = tmp_path / "chatbots.json"
    target.write_bytes(OLD)
    with pytest.raises(FileExists, match="--force"):
        write_atomically(target, NEW)
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chatbots.json"]


@pytest.mark.parametrize("exists", [False, True])
def test_writes_the_whole_file(tmp_path, exists):
    target = tmp_path / "chatbots.json"
    if exists:
        target.write_bytes(OLD)
    assert write_atomically(target, NEW, overwrite=True) == target
    assert target.read_bytes() == NEW
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chatbots.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
@pytest.mark.parametrize("exists", [False, True])
def test_written_file_gets_the_usual_permissions(tmp_path, exists, umask):
    """A generated fixture or exported document is as readable as any file the user creates."""
    target = tmp_path / "chatbots.json"
    if exists:
        target.write_bytes(OLD)
    previous = os.umask(umask)
    try:
        write_atomically(target, NEW, overwrite=exists)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("command", [["openapi"], ["generate", "--chatbot", GENERATED_CHATBOT, "--count", "1"]])
def test_dash_writes_to_standard_output(capsys, command):
    assert main([*command, "--out", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) and captured.err == ""


@pytest.mark.parametrize("command", [["openapi"], ["generate", "--chatbot", GENERATED_CHATBOT, "--count", "1"]])
def test_closed_standard_output_is_one_line(monkeypatch, capsys, command):
    # What Python makes of a command started with standard output closed (`--out - >&-`).
    monkeypatch.setattr(sys, "stdout", None)
    assert main([*command, "--out", "-"]) == 1
    assert capsys.readouterr().err == f"conversations-mock {command[0]}: cannot write to standard output: it is closed\n"
