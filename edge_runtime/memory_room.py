"""How much more memory this process may take: what the system has available and what its
cgroups' memory limits leave, the least.

The system's is ``MemAvailable`` in ``/proc/meminfo``: free memory and the cache the kernel can
drop, without swapping. A cgroup's is its limit less its use, the file cache it can drop not
counted as used: v2's ``memory.max`` or ``memory.high`` (systemd's ``MemoryMax=``,
``MemoryHigh=``) less ``memory.current`` and ``memory.stat``'s ``inactive_file``; v1's
``memory.limit_in_bytes`` (or ``memory.stat``'s ``hierarchical_memory_limit``, the tightest of
those above it too, which a container may not see as folders) less ``memory.usage_in_bytes`` and
``total_inactive_file`` (Docker's ``--memory`` on either). The tightest of this process's
cgroups and those above it applies (:func:`~edge_runtime.cgroups.tightest`).
"""

from pathlib import Path

from edge_runtime.cgroups import least, tightest

MEMINFO = Path("/proc/meminfo")
"""The kernel's account of the system's memory, a line each: ``MemAvailable:  812345 kB``."""

V1_MEMORY_FOLDERS = ("memory",)
"""Where cgroup v1's memory controller is mounted below the cgroup root."""


def memory_room() -> int | None:
    """Bytes this process may still take (the module's account); None where neither the
    system nor a cgroup says (not Linux)."""
    room = least([system_available(), tightest(v2_room, v1_room, "memory", V1_MEMORY_FOLDERS)])
    return None if room is None else max(0, int(room))


def system_available() -> int | None:
    """``MemAvailable`` of :data:`MEMINFO` in bytes; None where it cannot be read."""
    try:
        return available(MEMINFO.read_text())
    except OSError:
        return None


def available(meminfo: str) -> int | None:
    """``MemAvailable`` of a ``/proc/meminfo`` listing, in bytes; None without it (Linux before
    3.14) or unreadable."""
    for line in meminfo.splitlines():
        name, _, value = line.partition(":")
        if name == "MemAvailable":
            fields = value.split()
            return int(fields[0]) * 1024 if fields and fields[0].isdecimal() else None
    return None


def v2_room(folder: Path) -> int | None:
    """What a cgroup v2 folder's ``memory.max`` and ``memory.high`` leave, less the cgroup's use
    beyond the file cache it can drop; None where it sets neither ("max", or none: the root)."""
    limit = least(_number(folder / name) for name in ("memory.max", "memory.high"))
    if limit is None:
        return None
    used = _number(folder / "memory.current") or 0  # unreadable: the whole limit is room
    return limit - used + _stats(folder / "memory.stat").get("inactive_file", 0)


def v1_room(folder: Path) -> int | None:
    """What a cgroup v1 memory folder's ``memory.limit_in_bytes`` or its hierarchical limit
    leaves (near 2**63 where none is set), less the cgroup's use beyond the file cache it can
    drop; None where neither is a number."""
    stats = _stats(folder / "memory.stat")
    limit = least(
        [_number(folder / "memory.limit_in_bytes"), stats.get("hierarchical_memory_limit")]
    )
    if limit is None:
        return None
    used = _number(folder / "memory.usage_in_bytes") or 0  # unreadable: the whole limit is room
    return limit - used + stats.get("total_inactive_file", 0)


def _number(path: Path) -> int | None:
    """A cgroup file's one number; None for "max", a file that is not there, or anything else."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdecimal() else None


def _stats(path: Path) -> dict[str, int]:
    """A cgroup's ``memory.stat`` (``inactive_file 123`` a line), its entries that are numbers;
    none where it cannot be read."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    entries = (line.partition(" ") for line in lines)
    return {name: int(value) for name, _, value in entries if value.strip().isdecimal()}
