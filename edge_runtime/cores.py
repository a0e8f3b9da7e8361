"""How many cores this process may use: its CPU affinity and its cgroup's CPU quota.

A quota is read from cgroup v2 (``cpu.max``) and from cgroup v1's CPU controller
(``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``), on this process's cgroup and every one above
it: the tightest applies (:func:`~edge_runtime.cgroups.tightest`).
"""

import math
import os
from pathlib import Path

from edge_runtime.cgroups import tightest

V1_CPU_FOLDERS = ("cpu,cpuacct", "cpu")
"""Where cgroup v1's CPU controller is mounted below the cgroup root (the first found)."""


def usable_cores() -> int:
    """The cores this process may use: its affinity's, capped by its CPU quota rounded up."""
    counted = getattr(os, "process_cpu_count", None)  # Python 3.13: affinity, -X cpu_count
    if counted is not None:
        cores = counted() or 1
    elif hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS before Python 3.13
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def cgroup_cpu_quota() -> float | None:
    """The tightest CPU quota in cores on this process's cgroups and those above; None if none."""
    return tightest(v2_quota, v1_quota, "cpu", V1_CPU_FOLDERS)


def v2_quota(folder: Path) -> float | None:
    """A cgroup v2 folder's quota (``cpu.max``: "150000 100000" is 1.5 cores) in cores; None
    for "max"."""
    fields = (folder / "cpu.max").read_text().split()
    return _ratio(*fields) if len(fields) == 2 else None


def v1_quota(folder: Path) -> float | None:
    """A cgroup v1 CPU folder's quota (``cpu.cfs_quota_us``, -1 for none) in cores."""
    quota = (folder / "cpu.cfs_quota_us").read_text()
    return _ratio(quota, (folder / "cpu.cfs_period_us").read_text())


def _ratio(quota: str, period: str) -> float | None:
    """Quota over period, both microseconds; None for no quota or anything unreadable."""
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None
