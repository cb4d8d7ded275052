"""The default number of workers: the CPUs the process may use, from fake cgroup files (v1 and v2)."""

import os

import pytest

from conversations_mock.commands import cpus


def _cgroup(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("files, limit", [
    ({"cpu.max": "150000 100000"}, 1.5),  # v2: docker run --cpus 1.5
    ({"cpu.max": "max 100000"}, None),  # v2 without a quota
    ({"cpu/cpu.cfs_quota_us": "200000", "cpu/cpu.cfs_period_us": "100000"}, 2.0),  # v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "50000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 0.5),  # v1, joined
    ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),  # v1 without a quota
    ({"cpu/cpu.cfs_quota_us": "200000"}, None),  # a period missing
    ({"cpu.max": "garbled"}, None),
    ({}, None),  # no cgroup files at all (not Linux, or not mounted)
])
def test_the_cgroup_quota_is_read_from_v1_and_v2_files(tmp_path, files, limit):
    assert cpus.cgroup_cpu_limit(_cgroup(tmp_path, files)) == limit


@pytest.mark.parametrize("files, affinity, expected", [
    ({"cpu.max": "150000 100000"}, 8, 2),  # a quota of 1.5 CPUs, rounded up
    ({"cpu.max": "50000 100000"}, 8, 1),  # half a CPU: at least one worker
    ({"cpu/cpu.cfs_quota_us": "400000", "cpu/cpu.cfs_period_us": "100000"}, 8, 4),
    ({"cpu.max": "1600000 100000"}, 3, 3),  # pinned to fewer CPUs than the quota gives
    ({"cpu.max": "max 100000"}, 6, 6),
    ({}, 5, 5),
])
def test_the_cpus_available_are_the_smaller_of_quota_and_affinity(tmp_path, monkeypatch, files, affinity, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)))
    assert cpus.available_cpus(_cgroup(tmp_path, files)) == expected
