"""tests/system.py and the suite's handling of missing programs: skipped and named, failed under CI, installed as root."""

import pytest

from tests import system

# A suite of two tests, one needing a program this machine lacks.
SUITE = """
from tests.helpers import require

def test_needs_it():
    require("no-such-server")

def test_needs_nothing():
    pass
"""
CONFTEST = "from tests.conftest import pytest_collection_modifyitems, pytest_terminal_summary\n"


@pytest.fixture
def absent_program(monkeypatch):
    """A program the suite knows, installed by a package, that no machine has."""
    monkeypatch.setitem(system.PROGRAMS, "no-such-server", (("no-such-package",), "the tests of a missing server"))
    return "no-such-server"


@pytest.fixture
def suite(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(SUITE)
    return pytester


def test_a_missing_program_skips_its_tests_and_one_line_says_how_to_install_it(suite, absent_program, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest("-ra")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*no-such-server is not installed, for the tests of a missing server: apt-get install -y no-such-package*",
        "SKIPPED 1 tests for want of no-such-server (1): as root, `make test` installs them, "
        "or: apt-get install -y no-such-package",
    ])


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_program_fails_its_tests(suite, absent_program, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*no-such-server is not installed*(CI=true: a missing program fails)*"])
    assert "SKIPPED" not in result.stdout.str()


def test_a_present_program_runs_its_tests(suite, monkeypatch):
    monkeypatch.setitem(system.PROGRAMS, "no-such-server", (("sh",), "a program every machine has"))
    monkeypatch.setattr(system, "find", lambda program: "/bin/sh")
    suite.runpytest().assert_outcomes(passed=2)


def test_tests_that_start_servers_are_marked_live(pytester):
    pytester.makeconftest(CONFTEST + "import pytest\n\n@pytest.fixture\ndef live_server():\n    return None\n")
    pytester.makepyfile(test_web="def test_in_process():\n    pass\n\ndef test_served(live_server):\n    pass\n")
    pytester.mkdir("live")
    pytester.makepyfile(**{"live/test_browser": "def test_in_a_browser():\n    pass\n"})
    result = pytester.runpytest("-m", "not live", "-v")
    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["*test_in_process PASSED*"])


@pytest.mark.parametrize("euid, apt", [(1000, "/usr/bin/apt-get"), (0, None)])
def test_without_root_or_apt_the_install_names_the_command_and_goes_on(monkeypatch, capsys, euid, apt):
    monkeypatch.setattr(system, "missing", lambda: ["redis-server", "nginx"])
    monkeypatch.setattr(system.os, "geteuid", lambda: euid)
    monkeypatch.setattr(system, "find", lambda program: apt if program == "apt-get" else None)
    monkeypatch.delenv("CI", raising=False)
    assert system.install() == 0
    said = capsys.readouterr().err
    assert "redis-server, nginx missing and not installed" in said
    assert f"will skip. To install them: {'sudo ' if euid else ''}apt-get install -y redis-server nginx" in said


def test_every_program_names_its_packages_and_its_tests():
    assert system.install_command(system.PROGRAMS) == (
        "apt-get install -y gcc libc6-dev redis-server nginx chromium nodejs npm")  # nodejs once, for node and npm
    assert all(packages and why for packages, why in system.PROGRAMS.values())
