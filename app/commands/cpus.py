"""How many CPUs this process may use: the default number of gunicorn workers.

os.cpu_count() is the host's: in a container limited to one CPU on a 16-core host it would start 16
workers (about 22 MB each) that share one CPU's time. The limit is the container's cgroup CPU quota
(`docker run --cpus`, a Kubernetes CPU limit) and the process's CPU affinity (`--cpuset-cpus`);
the smaller applies, rounded up (a quota of 1.5 CPUs gets 2 workers), and never below 1.

Written here rather than taken from a library: joblib/loky read the same files, but bring a process
pool for one function, and read only the machine's own /sys/fs/cgroup (this takes the root as an
argument, so the tests give it fake cgroup files).
"""

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 mounts the cpu controller on its own or joined with cpuacct, depending on the distribution.
_V1_CPU_DIRECTORIES = ("cpu", "cpu,cpuacct")


def cgroup_cpu_limit(root=None) -> float | None:
    """The CPUs the cgroup quota under `root` (default CGROUP_ROOT) allows (e.g. 1.5), or None without a quota.

    cgroup v2: `cpu.max` holds "QUOTA PERIOD" in microseconds, or "max PERIOD" without a quota.
    cgroup v1: `cpu/cpu.cfs_quota_us` (-1 without a quota) and `cpu/cpu.cfs_period_us`. Inside a
    container (Docker's and Kubernetes' default cgroup namespace) `root` is the container's own cgroup.
    """
    root = Path(CGROUP_ROOT if root is None else root)
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        quota = period = None
        for directory in _V1_CPU_DIRECTORIES:
            try:
                quota = (root / directory / "cpu.cfs_quota_us").read_text().strip()
                period = (root / directory / "cpu.cfs_period_us").read_text().strip()
                break
            except OSError:
                continue
    try:
        quota, period = int(quota), int(period)
    except (TypeError, ValueError):  # "max", files missing or unreadable: no quota
        return None
    if quota <= 0 or period <= 0:  # v1 says -1 for no quota
        return None
    return quota / period


def available_cpus(root=None) -> int:
    """The CPUs this process may use: the smaller of its cgroup quota (rounded up) and its affinity, at least 1."""
    try:
        counts = [len(os.sched_getaffinity(0))]
    except (AttributeError, OSError):  # not on Linux
        counts = [os.cpu_count() or 1]
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        counts.append(math.ceil(limit))
    return max(1, min(counts))
