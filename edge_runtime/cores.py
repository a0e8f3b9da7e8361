"""How many cores this process may use: its CPU affinity and its cgroup's CPU quota.

A quota is read from cgroup v2 (``cpu.max``) and from cgroup v1's CPU controller
(``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``), on this process's cgroup and every one above
it: the tightest applies.
"""

import math
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where cgroups are mounted: v2's hierarchy itself, or v1's controllers in folders below."""

OWN_CGROUP = Path("/proc/self/cgroup")
"""This process's cgroups, a line each: ``0::/PATH`` (v2), ``N:cpu,cpuacct:/PATH`` (v1)."""

V1_CPU_FOLDERS = ("cpu,cpuacct", "cpu")
"""Where cgroup v1's CPU controller is mounted below :data:`CGROUP_ROOT` (the first found)."""


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
    try:
        own = own_cgroups(OWN_CGROUP.read_text())
    except OSError:
        return None
    quotas = []
    if "" in own:
        quotas += [_read(folder / "cpu.max", v2_quota) for folder in _upwards(CGROUP_ROOT, own[""])]
    v1 = next((path for names, path in own.items() if "cpu" in names.split(",")), None)
    root = next((CGROUP_ROOT / f for f in V1_CPU_FOLDERS if (CGROUP_ROOT / f).is_dir()), None)
    if v1 is not None and root is not None:
        quotas += [_read(folder, v1_quota) for folder in _upwards(root, v1)]
    return min((q for q in quotas if q is not None), default=None)


def own_cgroups(listing: str) -> dict[str, str]:
    """``/proc/self/cgroup``'s paths by their controllers ("" for cgroup v2's)."""
    fields = (line.split(":", 2) for line in listing.splitlines())
    return {parts[1]: parts[2] for parts in fields if len(parts) == 3}


def v2_quota(cpu_max: Path) -> float | None:
    """A cgroup v2 ``cpu.max`` file ("150000 100000": 1.5 cores) in cores; None for "max"."""
    fields = cpu_max.read_text().split()
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


def _upwards(root: Path, own: str) -> list[Path]:
    """``root``/``own`` and the folders above it up to ``root``; none for a path that climbs
    out (``..``: a cgroup namespace this process is not in)."""
    if ".." in PurePosixPath(own).parts:
        return []
    folder = root / own.lstrip("/")
    return [folder, *(above for above in folder.parents if above.is_relative_to(root))]


def _read(place: Path, quota: Callable[[Path], float | None]) -> float | None:
    """``quota(place)``, None where it cannot be read."""
    try:
        return quota(place)
    except OSError:
        return None
