"""The conversations-mock command: --version names the installed release."""

import subprocess
import sys
import tomllib
from importlib.metadata import version

import conversations_mock
from tests.helpers import REPO


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
