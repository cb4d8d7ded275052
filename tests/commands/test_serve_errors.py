"""Configuration mistakes stop `conversations-mock serve` with one clear line, exit 2, no traceback."""

import json
import socket
import subprocess
import sys

import pytest

from tests.helpers import REPO


def _serve(*args, env_overrides=None):
    import os

    env = {k: v for k, v in os.environ.items() if not (k.startswith("MOCK_") or k == "PORT")}
    env.update(env_overrides or {})
    return subprocess.run(
        [sys.executable, "-m", "conversations_mock.commands.cli", "serve", "--host", "127.0.0.1", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=30,
    )


def _assert_one_clear_line(result, *names):
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0]
    return lines[0]


@pytest.fixture
def taken_port():
    """A port something else is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_unknown_flag_is_named():
    line = _assert_one_clear_line(_serve("--bogus", "1"), "--bogus")
    assert "unrecognized arguments" in line


def test_flag_without_value_is_named():
    _assert_one_clear_line(_serve("--seed"), "--seed", "expected one argument")


def test_taken_port_is_named_and_any_free_port_suggested(taken_port):
    line = _assert_one_clear_line(_serve("--port", str(taken_port)), "--port", "PORT", str(taken_port))
    assert line == (f"conversations-mock: Setting port (--port / PORT): 127.0.0.1:{taken_port} is already in use; "
                    "stop what listens there, or give --port 0 for any free port.")


@pytest.mark.parametrize(
    "host, words",
    [
        ("localhost:80", "(got 'localhost:80'): Give an address or name without a port; the port is --port / PORT."),
        ("http://127.0.0.1", "without a scheme or path"),
        # TEST-NET-1 (RFC 5737): an address no machine here has.
        ("192.0.2.1", "192.0.2.1 is not an address of this machine; give one it has, e.g. 127.0.0.1"),
    ],
    ids=["with-port", "with-scheme", "not-this-machine"],
)
def test_a_wrong_host_is_the_host_settings_mistake(taken_port, host, words):
    # Even with a taken port, the host is what is wrong: the line must not send anyone to --port.
    result = _serve("--host", host, "--port", str(taken_port))
    line = _assert_one_clear_line(result, "Setting host (--host / MOCK_HOST)", words)
    assert "Setting port" not in line


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (("--seed", "abc"), {}, ("--seed", "MOCK_SEED", "'abc'", "Not a valid integer; give a whole number from 0 to "
                                 "9223372036854775807.")),
        (("--workers", "two"), {}, ("--workers", "MOCK_WORKERS", "give a whole number from 1 to 64.")),
        (("--max-body", "1MB"), {}, ("--max-body", "MOCK_MAX_BODY", "give a whole number from 0 up.")),
        ((), {"MOCK_SEED": "12x"}, ("--seed", "MOCK_SEED", "'12x'")),
        (("--port", "70000"), {}, ("--port", "PORT", "70000 is out of range; give a whole number from 0 to 65535.")),
        (("--fixtures", "/no/such/directory"), {}, ("--fixtures", "MOCK_FIXTURES_DIR", "/no/such/directory")),
    ],
    ids=["seed-flag", "workers-flag", "max-body-flag", "seed-env", "port-range", "fixtures-dir"],
)
def test_bad_setting_is_named(args, env, names):
    _assert_one_clear_line(_serve(*args, env_overrides=env), *names)


def _not_utf8(directory):
    (directory / "latin1.json").write_bytes('{"chatbots": [], "note": "caf\u00e9"}'.encode("latin-1"))
    return directory / "latin1.json", "UTF-8"


def _a_directory(directory):
    # root ignores file permissions, so "unreadable" is a directory where a file is expected.
    (directory / "x.json").mkdir()
    return directory / "x.json", "cannot be read"


def _not_json(directory):
    (directory / "broken.json").write_text('{"chatbots": [', encoding="utf-8")
    return directory / "broken.json", "not valid JSON"


def _wrong_shape(directory):
    (directory / "shape.json").write_text('{"chatbots": [{"id": "not-a-uuid"}]}', encoding="utf-8")
    return directory / "shape.json", "chatbots[0].id"


@pytest.mark.parametrize("make_file", [_not_utf8, _a_directory, _not_json, _wrong_shape])
def test_bad_fixture_file_is_named(tmp_path, make_file):
    path, reason = make_file(tmp_path)
    _assert_one_clear_line(_serve("--fixtures", str(tmp_path)), str(path), reason)


def test_every_problem_of_a_fixture_file_is_a_line(tmp_path):
    document = {"chatbots": [{"id": "nope", "conversations": []}, {"id": "11111111-2222-4333-8444-555555555555"}]}
    (tmp_path / "two.json").write_text(json.dumps(document), encoding="utf-8")
    result = _serve("--fixtures", str(tmp_path))
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    path = tmp_path / "two.json"
    assert result.stderr.splitlines() == [
        f"conversations-mock: {path}: chatbots[0].id: Not a valid UUID.",
        f"conversations-mock: {path}: chatbots[1]: Give exactly one of 'conversations' or 'generated'.",
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_host_past_loopback_with_a_bad_admin_token_does_not_start(host):
    # Without a token such a host gets one made at start (tests/live/test_serve.py); a bad one is still refused.
    line = _assert_one_clear_line(_serve("--host", host, "--port", "0", env_overrides={"MOCK_ADMIN_TOKEN": "short"}),
                                  "Setting admin_token (--admin-token / MOCK_ADMIN_TOKEN)")
    assert "16 to 256" in line and "short" not in line


def test_a_store_this_build_cannot_open_is_named():
    line = _assert_one_clear_line(_serve("--port", "0", "--store", "nosuch://x"), "Setting store (--store / MOCK_STORE)")
    assert "redis://" in line
