"""The conversations-mock command: --version, and usage mistakes that point to their command's help."""

import subprocess
import sys
import tomllib
from importlib.metadata import version

import pytest

import conversations_mock
from conversations_mock.commands.cli import build_parser, main
from tests.helpers import API_KEY, DOCUMENTED_CHATBOT, REPO, documented_commands

VERIFY = ["verify", "--base-url", "http://127.0.0.1:1", "--api-key", API_KEY, "--chatbot", DOCUMENTED_CHATBOT]
GENERATE = ["generate", "--chatbot", DOCUMENTED_CHATBOT, "--count", "1", "--out", "-"]


@pytest.mark.parametrize(
    "argv, line",
    [
        (["serve", "--bogus"], "conversations-mock serve: unrecognized arguments: --bogus"
         " (see 'conversations-mock serve --help')"),
        ([*VERIFY, "--bogus", "x"], "conversations-mock verify: unrecognized arguments: --bogus x"
         " (see 'conversations-mock verify --help')"),
        ([*GENERATE, "--bogus"], "conversations-mock generate: unrecognized arguments: --bogus"
         " (see 'conversations-mock generate --help')"),
        (["openapi", "--out", "-", "--bogus"], "conversations-mock openapi: unrecognized arguments: --bogus"
         " (see 'conversations-mock openapi --help')"),
        (["serve", "--seed"], "conversations-mock serve: argument --seed: expected one argument"
         " (see 'conversations-mock serve --help')"),
        (["verify", "--base-url", "http://127.0.0.1:1"], "conversations-mock verify: the following arguments"
         " are required: --api-key, --chatbot (see 'conversations-mock verify --help')"),
        (["bogus"], "conversations-mock: argument command: invalid choice: 'bogus'"),
        (["--bogus"], "(see 'conversations-mock --help')"),
    ],
    ids=["serve-flag", "verify-flag", "generate-flag", "openapi-flag", "serve-no-value", "verify-missing",
         "no-such-command", "top-level-flag"],
)
def test_usage_mistake_points_to_its_command_help(capsys, argv, line):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and line in captured.err, captured.err


@pytest.mark.parametrize("argv", documented_commands(), ids=lambda argv: argv[0])
def test_documented_commands_parse_as_printed(argv):
    # Pasted from the README and docs/ as they are: no usage brackets, no placeholders argparse would refuse.
    assert build_parser().parse_args(argv).command == argv[0]


def test_documented_examples_are_found():
    # The test above checks what it finds: it must find the examples the docs have.
    assert sorted({argv[0] for argv in documented_commands()}) == ["generate", "serve", "verify"]


def test_version_is_the_installed_release_declared_in_pyproject():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert conversations_mock.__version__ == version("conversations-mock") == declared


def test_version_flag_prints_name_and_version():
    result = subprocess.run(
        [sys.executable, "-m", "conversations_mock.commands.cli", "--version"],
        capture_output=True, text=True, cwd=REPO, timeout=30,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"conversations-mock {version('conversations-mock')}\n", ""
    )


@pytest.mark.parametrize("argv, where", [
    (["serve", "--port", "0"], "conversations_mock.commands.serve.create_app"),  # before gunicorn's handlers
    (GENERATE, "conversations_mock.commands.generate.fixture_document"),
])
def test_ctrl_c_cutting_a_command_short_exits_130_without_a_traceback(monkeypatch, capsys, argv, where):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(where, interrupted)
    try:
        status = main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped: Python prints a KeyboardInterrupt traceback")
    assert status == 130
    assert capsys.readouterr() == ("", "")
