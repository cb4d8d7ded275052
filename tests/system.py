"""The Debian programs the test suite drives, the packages that hold them, and their installation.

`make test` runs `python3 tests/system.py install` before the suite: as root, with apt-get, whatever
is missing is installed; otherwise it says what is missing, and the tests that need it skip, naming it
(`tests/helpers.require`), or fail under CI=true. Standard library only: it runs before the venv exists.
"""

import os
import shutil
import subprocess
import sys

# Each program the suite runs, the Debian packages that bring it, and what needs it.
PROGRAMS = {
    "cc": (("gcc", "libc6-dev"), "the page builder's C helpers (app/data/_speedups.c)"),
    "redis-server": (("redis-server",), "the Redis store and replica tests"),
    "nginx": (("nginx",), "the replica tests behind a load balancer"),
    "chromium": (("chromium",), "the browser tests"),
    "node": (("nodejs",), "the node examples"),
    "npm": (("nodejs", "npm"), "the Playwright example"),
}
# Debian starts these services on install; the tests start their own, on ports they pick.
SERVICES = ("redis-server", "nginx")


def find(program: str) -> str | None:
    """The path of `program`, looking in the sbin folders too (nginx lives there), or None."""
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")


def missing() -> list[str]:
    """The programs of PROGRAMS this machine lacks."""
    return [program for program in PROGRAMS if find(program) is None]


def install_command(programs) -> str:
    """The command that installs `programs` on Debian."""
    packages = dict.fromkeys(package for program in programs for package in PROGRAMS[program][0])
    return "apt-get install -y " + " ".join(packages)


def in_ci() -> bool:
    """Whether this run is CI's, where a missing program fails its tests instead of skipping them."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def install() -> int:
    """Install the missing programs where this process can (root, apt-get); say what is missing otherwise."""
    lacking = missing()
    if not lacking:
        return 0
    command = install_command(lacking)
    if os.geteuid() != 0 or find("apt-get") is None:
        why, sudo = ("not root", "sudo ") if os.geteuid() != 0 else ("no apt-get", "")
        print(f"system: {', '.join(lacking)} missing and not installed ({why}); the tests that need them will "
              f"{'fail (CI=true)' if in_ci() else 'skip'}. To install them: {sudo}{command}", file=sys.stderr)
        return 0
    print(f"system: installing {', '.join(lacking)} ({command})", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-qq"], command.split() + ["-qq"]):
        done = subprocess.run(step, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            print(done.stdout[-3000:], file=sys.stderr)
            print(f"system: `{' '.join(step)}` failed; the tests that need {', '.join(lacking)} will "
                  f"{'fail (CI=true)' if in_ci() else 'skip'}", file=sys.stderr)
            return 0
    for service in SERVICES:
        if service in lacking and find("service"):
            subprocess.run(["service", service, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    still = missing()
    if still:
        print(f"system: {', '.join(still)} still missing after the install", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python3 tests/system.py install")
    sys.exit(install())
