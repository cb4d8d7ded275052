"""The Makefile: serving installs the runtime dependencies only, the tests add the `test` extra."""

import os
import subprocess

import pytest

from tests.helpers import REPO

RUNTIME_INSTALL = "pip install --quiet -e .\n"
TEST_INSTALL = "pip install --quiet -e '.[test]'"


def dry_run(venv, *args):
    """The commands `make` would run (`make -n`) with its virtualenv at `venv`."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(REPO), f"VENV={venv}", *args],
        capture_output=True, text=True, env=env, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def installed_venv(tmp_path):
    """A virtualenv directory whose stamps say both installs are newer than pyproject.toml."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    newer = (REPO / "pyproject.toml").stat().st_mtime + 60
    for name in ("bin/python", ".runtime-installed", ".test-installed"):
        (venv / name).touch()
        os.utime(venv / name, (newer, newer))
    return venv


@pytest.mark.parametrize("target", ["run", "dev", "demo", "bench", "pools"])
def test_serving_targets_install_the_runtime_only(tmp_path, target):
    commands = dry_run(tmp_path / "fresh", target)
    assert f"-m venv {tmp_path / 'fresh'}\n" in commands
    assert RUNTIME_INSTALL in commands
    assert "[test]" not in commands


@pytest.mark.parametrize("target", ["test", "setup"])
def test_test_targets_add_the_test_extra(tmp_path, target):
    commands = dry_run(tmp_path / "fresh", target)
    assert RUNTIME_INSTALL in commands
    assert TEST_INSTALL in commands
    assert commands.index(RUNTIME_INSTALL) < commands.index(TEST_INSTALL)


def test_make_docs_installs_the_docs_extra_and_builds_with_warnings_as_errors(tmp_path):
    commands = dry_run(tmp_path / "fresh", "docs").splitlines()
    assert f"{tmp_path / 'fresh'}/bin/python -m pip install --quiet -e '.[docs]'" in commands
    assert "[test]" not in "\n".join(commands)
    assert commands[-1] == f"NO_MKDOCS_2_WARNING=1 {tmp_path / 'fresh'}/bin/mkdocs build --strict --site-dir site"


def test_make_test_runs_the_suite_after_installing(tmp_path):
    commands = dry_run(tmp_path / "fresh", "test").splitlines()
    assert commands[-1] == f"{tmp_path / 'fresh'}/bin/python -m pytest"


@pytest.mark.parametrize(
    "target, installs",
    [("run", [RUNTIME_INSTALL]), ("test", [RUNTIME_INSTALL, TEST_INSTALL])],
)
def test_installs_are_redone_only_when_pyproject_changes(installed_venv, target, installs):
    assert "pip install" not in dry_run(installed_venv, target)
    # -W: as if pyproject.toml had just been edited.
    after_edit = dry_run(installed_venv, "-W", "pyproject.toml", target)
    assert "-m venv" not in after_edit
    assert [install for install in installs if install in after_edit] == installs
    assert (TEST_INSTALL in after_edit) == (TEST_INSTALL in installs)
