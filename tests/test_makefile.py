"""The Makefile: serving installs the runtime dependencies only, the tests add the `test` extra."""

import os
import shutil
import subprocess

import pytest

from tests.helpers import REPO

RUNTIME_INSTALL = "pip install --quiet -e . >"
TEST_INSTALL = "pip install --quiet -e '.[test]'"
MAKE = shutil.which("make")
# The runtime stamp's name, as the Makefile names it on this machine (with or without a C compiler).
RUNTIME_STAMP = ".runtime-installed-" + ("cc" if shutil.which("cc") or shutil.which("gcc") else "no-cc")


def dry_run(venv, *args, path=None, environ=None):
    """The commands `make` would run (`make -n`) with its virtualenv at `venv` (PATH `path`, `environ` added)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MOCK_HOST", "PORT")}
    if path is not None:
        env["PATH"] = str(path)
    env.update(environ or {})
    result = subprocess.run(
        [MAKE, "-n", "--no-print-directory", "-C", str(REPO), f"VENV={venv}", *args],
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
    for name in ("bin/python", RUNTIME_STAMP, ".test-installed"):
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
    assert any(f"{tmp_path / 'fresh'}/bin/python -m pip install --quiet -e '.[docs]' >" in line for line in commands)
    assert "[test]" not in "\n".join(commands)
    assert commands[-1] == f"NO_MKDOCS_2_WARNING=1 {tmp_path / 'fresh'}/bin/mkdocs build --strict --site-dir site"


def test_make_test_runs_the_suite_after_installing(tmp_path):
    commands = dry_run(tmp_path / "fresh", "test").splitlines()
    assert commands[-1] == f"{tmp_path / 'fresh'}/bin/python -m pytest"


@pytest.mark.parametrize(
    "target, installs",
    # (`make test` runs `make setup`, to which -W is not passed down: setup stands for it here.)
    [("run", [RUNTIME_INSTALL]), ("setup", [RUNTIME_INSTALL, TEST_INSTALL])],
)
def test_installs_are_redone_only_when_pyproject_changes(installed_venv, target, installs):
    assert "pip install" not in dry_run(installed_venv, target)
    # -W: as if pyproject.toml had just been edited.
    after_edit = dry_run(installed_venv, "-W", "pyproject.toml", target)
    assert "-m venv" not in after_edit
    assert [install for install in installs if install in after_edit] == installs
    assert (TEST_INSTALL in after_edit) == (TEST_INSTALL in installs)


def test_make_test_installs_the_system_programs_first(tmp_path):
    commands = dry_run(tmp_path / "fresh", "test").splitlines()
    assert commands[0] == "python3 tests/system.py install"
    assert commands.index("python3 tests/system.py install") < min(
        i for i, command in enumerate(commands) if "pip install" in command)


def test_a_compiler_installed_later_rebuilds_the_c_helpers_at_setup(tmp_path):
    """Installed without a compiler, the runtime stamp says so; once `cc` is on PATH, `make setup` reinstalls."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    newer = (REPO / "pyproject.toml").stat().st_mtime + 60
    for name in ("bin/python", ".runtime-installed-no-cc", ".test-installed"):
        (venv / name).touch()
        os.utime(venv / name, (newer, newer))
    without, with_cc = tmp_path / "without", tmp_path / "with"
    without.mkdir()
    with_cc.mkdir()
    (with_cc / "cc").symlink_to("/bin/true")
    assert "pip install" not in dry_run(venv, "setup", path=without)
    rebuilt = dry_run(venv, "setup", path=with_cc)
    assert RUNTIME_INSTALL in rebuilt and TEST_INSTALL in rebuilt


def test_an_install_without_a_compiler_says_the_c_helpers_were_not_built(tmp_path):
    (tmp_path / "empty").mkdir()
    commands = dry_run(tmp_path / "fresh", "setup", path=tmp_path / "empty")
    assert 'is_compiled() or print("make:", NOT_BUILT, "(no C compiler was found)")' in commands


SERVING_TARGETS = ["run", "dev", "demo"]


@pytest.mark.parametrize("target", SERVING_TARGETS)
@pytest.mark.parametrize("where", ["environment", "command line"])
def test_a_hostname_in_host_never_reaches_the_server(installed_venv, target, where):
    # tcsh sets HOST to the machine's name: neither it nor a HOST given to make is an address to bind.
    args, environ = ([target, "HOST=somehost"], {}) if where == "command line" else ([target], {"HOST": "somehost"})
    [command] = [line for line in dry_run(installed_venv, *args, environ=environ).splitlines() if " serve" in line]
    assert command.startswith(f"MOCK_HOST=127.0.0.1 PORT=8000 exec {installed_venv}/bin/conversations-mock serve")
    assert "somehost" not in command


@pytest.mark.parametrize("target", SERVING_TARGETS)
def test_mock_host_and_port_choose_the_address(installed_venv, target):
    from_make = dry_run(installed_venv, target, "MOCK_HOST=::1", "PORT=9000", environ={"HOST": "somehost"})
    from_environment = dry_run(installed_venv, target, environ={"MOCK_HOST": "::1", "PORT": "9000"})
    for commands in (from_make, from_environment):
        assert f"MOCK_HOST=::1 PORT=9000 exec {installed_venv}/bin/conversations-mock serve" in commands
