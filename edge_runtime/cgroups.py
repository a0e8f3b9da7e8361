"""This process's cgroups, v2 and v1: the tightest limit that they and those above them set.

A limit is read on this process's cgroup v2 folder and every one above it, and on the folders of
its cgroup v1 controller (mounted below :data:`CGROUP_ROOT`): the least applies. On a hybrid
host (v1 controllers, and systemd's v2 hierarchy in :data:`HYBRID_V2`), v2's are read there.
"""

from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where cgroups are mounted: v2's hierarchy itself, or v1's controllers in folders below."""

HYBRID_V2 = "unified"
"""Where a hybrid host mounts the cgroup v2 hierarchy below :data:`CGROUP_ROOT` (systemd's
choice: the v1 controllers in folders beside it); a controller a kernel started with
``cgroup_no_v1=`` keeps from v1 is there."""

OWN_CGROUP = Path("/proc/self/cgroup")
"""This process's cgroups, a line each: ``0::/PATH`` (v2), ``N:cpu,cpuacct:/PATH`` (v1)."""

Limit = Callable[[Path], float | None]
"""Reads one cgroup folder's limit; None for none (an OSError or a ValueError reads as none)."""


def tightest(v2: Limit, v1: Limit, controller: str, mounts: tuple[str, ...]) -> float | None:
    """The least of ``v2`` over this process's cgroup v2 folder and those above it, and of
    ``v1`` over those of its cgroup v1 ``controller`` ("cpu"), mounted below
    :data:`CGROUP_ROOT` in the first of ``mounts`` ("cpu,cpuacct", "cpu") that is there; None
    where none is set or none can be read."""
    try:
        own = own_cgroups(OWN_CGROUP.read_text())
    except OSError:
        return None
    limits = []
    if "" in own:
        hybrid = CGROUP_ROOT / HYBRID_V2
        v2_root = hybrid if hybrid.is_dir() else CGROUP_ROOT
        limits += [_read(folder, v2) for folder in _upwards(v2_root, own[""])]
    path = next((path for names, path in own.items() if controller in names.split(",")), None)
    root = next((CGROUP_ROOT / f for f in mounts if (CGROUP_ROOT / f).is_dir()), None)
    if path is not None and root is not None:
        limits += [_read(folder, v1) for folder in _upwards(root, path)]
    return least(limits)


def least(limits: Iterable[float | None]) -> float | None:
    """The least of the ``limits`` that are set (not None); None where none is."""
    return min((limit for limit in limits if limit is not None), default=None)


def own_cgroups(listing: str) -> dict[str, str]:
    """``/proc/self/cgroup``'s paths by their controllers ("" for cgroup v2's)."""
    fields = (line.split(":", 2) for line in listing.splitlines())
    return {parts[1]: parts[2] for parts in fields if len(parts) == 3}


def _upwards(root: Path, own: str) -> list[Path]:
    """``root``/``own`` and the folders above it up to ``root``; none for a path that climbs
    out (``..``: a cgroup namespace this process is not in)."""
    if ".." in PurePosixPath(own).parts:
        return []
    folder = root / own.lstrip("/")
    return [folder, *(above for above in folder.parents if above.is_relative_to(root))]


def _read(folder: Path, limit: Limit) -> float | None:
    """``limit(folder)``, None where it cannot be read."""
    try:
        return limit(folder)
    except (OSError, ValueError):  # a file that is not there, or holds no number
        return None
