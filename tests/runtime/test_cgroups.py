"""The cores and the memory a process may use, which set the default of --jobs: its CPU
affinity capped by the tightest CPU quota of its cgroups (v2 and v1), and the system's available
memory capped by what its cgroups' memory limits leave, read from fake cgroup trees."""

import os
from pathlib import Path

import pytest

from edge_runtime import cgroups, cores, memory_room
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.pipeline import parallel
from edge_runtime.pipeline.decode import MAX_PIXELS
from edge_runtime.pipeline.parallel import SEGMENT_MEMORY, job_count

UNIT = "/system.slice/edge-seg-watch.service"

PHOTOS = [Path(f"photo{i}.jpg") for i in range(20)]
"""Photographs that each count as the largest accepted (their headers say 25 megapixels, in
the ``tree`` fixture): :data:`~edge_runtime.pipeline.parallel.SEGMENT_MEMORY`'s most, 384 MiB."""


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A fake /sys/fs/cgroup (``tree / "fs"``), /proc/self/cgroup (``tree / "self"``) and
    /proc/meminfo (``tree / "meminfo"``, not there until written), 8 cores, and photographs of
    25 megapixels (:data:`PHOTOS`)."""
    monkeypatch.setattr(cgroups, "OWN_CGROUP", tmp_path / "self")
    monkeypatch.setattr(cgroups, "CGROUP_ROOT", tmp_path / "fs")
    monkeypatch.setattr(memory_room, "MEMINFO", tmp_path / "meminfo")
    monkeypatch.setattr(parallel, "stored_pixels", lambda path: MAX_PIXELS)
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    (tmp_path / "fs").mkdir()
    return tmp_path


def _files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def _v1_quota(tree: Path, folder: str, quota_us: str, period_us: str = "100000") -> None:
    """A cgroup v1 CPU folder's quota and period in the fake tree."""
    files = {"cpu.cfs_quota_us": quota_us, "cpu.cfs_period_us": period_us}
    _files(tree / "fs" / "cpu,cpuacct" / folder, files)


def test_the_default_count_keeps_to_the_cores_this_process_may_use(tree, monkeypatch):
    """os.cpu_count() counted the machine's cores: under `taskset -c 3` or a container's
    cpuset the default started a process per core it could not use."""
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)
    (tree / "self").write_text("0::/\n")
    assert cores.usable_cores() == 1
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1
    monkeypatch.setattr(os, "process_cpu_count", lambda: 2, raising=False)  # Python 3.13's
    assert cores.usable_cores() == 2


def test_the_tightest_cgroup_v2_quota_above_this_process_caps_the_cores(tree):
    """systemd's CPUQuota=150% on the unit, 3 cores on its slice: 2 processes (1.5 rounded
    up), whatever the 8 cores allow; "max" sets none."""
    (tree / "self").write_text(f"1:name=systemd:/\n0::{UNIT}\n")
    _files(
        tree / "fs", {"/system.slice/cpu.max": "300000 100000", f"{UNIT}/cpu.max": "150000 100000"}
    )
    assert cores.cgroup_cpu_quota() == 1.5
    assert cores.usable_cores() == 2
    _files(tree / "fs", {"/system.slice/cpu.max": "max 100000", f"{UNIT}/cpu.max": "max 100000"})
    assert cores.cgroup_cpu_quota() is None
    assert cores.usable_cores() == 8


def test_a_cgroup_v1_quota_caps_the_cores_too(tree):
    """Docker's --cpus=1 on a cgroup v1 host (cpu.cfs_quota_us over cpu.cfs_period_us), a
    parent without a quota (-1)."""
    (tree / "self").write_text("5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n")
    _v1_quota(tree, "docker", "-1")
    _v1_quota(tree, "docker/abc", "100000")
    assert cores.cgroup_cpu_quota() == 1.0
    assert cores.usable_cores() == 1


@pytest.mark.parametrize(
    ("cpu_max", "quota", "processes"), [("50000 100000", 0.5, 1), ("250000 100000", 2.5, 3)]
)
def test_a_quota_is_rounded_up_to_whole_cores(tree, cpu_max, quota, processes):
    """Under a core still gives one process; 2.5 cores give 3 (rounded to the nearest even
    number it would be 2)."""
    (tree / "self").write_text("0::/unit\n")
    _files(tree / "fs", {"unit/cpu.max": cpu_max})
    assert cores.cgroup_cpu_quota() == quota
    assert cores.usable_cores() == processes


def test_a_cgroup_outside_this_namespace_reads_no_quota(tree):
    """A process entered into another cgroup namespace sees its cgroup as /../..: the quota at
    the namespace's root is not its own."""
    (tree / "self").write_text("0::/../../user.slice/session-1.scope\n")
    _files(tree / "fs", {"cpu.max": "50000 100000"})
    assert cores.cgroup_cpu_quota() is None


@pytest.mark.parametrize("text", ["", "max", "200000", "x 100000", "100000 0", "-1 100000"])
def test_a_cpu_max_without_a_quota_reads_none(tree, text):
    (tree / "self").write_text("0::/a\n")
    _files(tree / "fs", {"a/cpu.max": text})
    assert cores.cgroup_cpu_quota() is None


def test_no_cgroups_to_read_is_no_quota(tree):
    assert cores.cgroup_cpu_quota() is None  # no /proc/self/cgroup (macOS)
    (tree / "self").write_text("0::/gone\n")  # a cgroup without a cpu.max
    assert cores.cgroup_cpu_quota() is None


def test_a_cgroup_v1_host_without_a_v2_line_reads_its_quota(tree):
    """/proc/self/cgroup of a pure cgroup v1 host has no "0::" line: no v2 quota to look for."""
    (tree / "self").write_text("4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n")
    _v1_quota(tree, "docker/abc", "200000")
    assert cores.cgroup_cpu_quota() == 2.0
    assert cores.usable_cores() == 2


def test_the_v1_cpu_controller_is_not_taken_for_cpuset(tree):
    """cpuset's line, listed first and at another path, is not the CPU controller's."""
    (tree / "self").write_text("5:cpuset:/\n4:cpu,cpuacct:/docker/abc\n0::/\n")
    _v1_quota(tree, "docker/abc", "100000")
    assert cores.cgroup_cpu_quota() == 1.0


def test_a_v1_cpu_controller_that_is_not_mounted_reads_no_quota(tree):
    """A container that lists a cpu,cpuacct cgroup but has no folder of it mounted."""
    (tree / "self").write_text("4:cpu,cpuacct:/docker/abc\n0::/\n")
    assert cores.cgroup_cpu_quota() is None
    assert cores.usable_cores() == 8


def test_a_cgroup_path_holding_a_colon_is_read_whole(tree):
    """Only the first two colons of a /proc/self/cgroup line separate its fields."""
    assert cgroups.own_cgroups("0::/pod:abc\n") == {"": "/pod:abc"}
    (tree / "self").write_text("0::/pod:abc\n")
    _files(tree / "fs", {"pod:abc/cpu.max": "100000 100000"})
    assert cores.cgroup_cpu_quota() == 1.0


MiB = 2**20


def _meminfo(tree: Path, available_kb: int) -> None:
    (tree / "meminfo").write_text(
        f"MemTotal:        {2 * available_kb} kB\nMemFree:          1000 kB\n"
        f"MemAvailable:    {available_kb} kB\nBuffers:           100 kB\n"
    )


def _v2_memory(tree: Path, folder: str, limit: str, current: int, cache: int = 0, high="max"):
    """A cgroup v2 folder's memory limit, use and droppable file cache in the fake tree."""
    files = {"memory.max": limit, "memory.high": high, "memory.current": str(current)}
    stat = {"memory.stat": f"anon 1\ninactive_file {cache}"}
    _files(tree / "fs" / folder.lstrip("/"), {**files, **stat})


def test_the_default_count_keeps_to_the_memory_of_the_systemd_unit(tree):
    """The camera's unit (MemoryMax=512M) on a Pi with 8 GB: 8 processes of the largest
    photograph would take 3 GB; the unit holds one. Its file cache that can be dropped is room."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"0::{UNIT}\n")
    _v2_memory(tree, UNIT, str(512 * MiB), current=150 * MiB, cache=30 * MiB)
    assert memory_room.memory_room() == (512 - 150 + 30) * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1
    _v2_memory(tree, UNIT, str(2048 * MiB), current=150 * MiB)
    assert job_count(None, PHOTOS, RuntimeOptions()) == 4  # 1898 MiB hold 4 processes of 384
    assert job_count(8, PHOTOS, RuntimeOptions()) == 8  # as asked: the retry meets what follows


def test_memory_high_and_a_slice_above_bind_as_memory_max_does(tree):
    """systemd's MemoryHigh= (the kernel throttles a cgroup above it) and a slice's limit over
    the unit's own."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"0::{UNIT}\n")
    _v2_memory(tree, UNIT, "max", current=0, high=str(800 * MiB))
    _v2_memory(tree, "/system.slice", str(4096 * MiB), current=0)
    assert memory_room.memory_room() == 800 * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 2
    _v2_memory(tree, "/system.slice", str(4096 * MiB), current=3700 * MiB)
    assert memory_room.memory_room() == 396 * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


def test_a_cgroup_v1_memory_limit_binds_and_none_leaves_the_systems_memory(tree):
    """Docker's --memory=1g on a cgroup v1 host, under a parent without a limit (v1 writes
    none as a number near 2**63); without one, a Pi 4 with 2 GB and one with 1 GB."""
    (tree / "self").write_text("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n")
    unlimited = {"memory.limit_in_bytes": "9223372036854771712", "memory.usage_in_bytes": "1"}
    _files(tree / "fs" / "memory" / "docker", unlimited)
    usage = {"memory.usage_in_bytes": str(300 * MiB), "memory.stat": "total_inactive_file 1048576"}
    _files(tree / "fs" / "memory" / "docker/abc", {"memory.limit_in_bytes": str(2**30), **usage})
    _meminfo(tree, 8 * 2**20)
    assert memory_room.memory_room() == (1024 - 300 + 1) * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1
    _files(tree / "fs" / "memory" / "docker/abc", unlimited)
    _meminfo(tree, 1_600_000)  # a Pi 4 with 2 GB: 1562 MiB available
    assert job_count(None, PHOTOS, RuntimeOptions()) == 4
    _meminfo(tree, 700_000)  # with 1 GB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


def test_memory_that_holds_no_process_still_runs_one(tree):
    _meminfo(tree, 100_000)
    assert memory_room.memory_room() < SEGMENT_MEMORY.base
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


@pytest.mark.parametrize(
    "meminfo", [None, "MemTotal: 100 kB\n", "MemAvailable:\n", "MemAvailable: x kB\n"]
)
def test_nothing_that_says_how_much_memory_is_left_leaves_the_cores_to_count(tree, meminfo):
    """No /proc/meminfo (macOS), one without MemAvailable (Linux before 3.14) or unreadable, and
    no cgroup: the cores alone set the count."""
    if meminfo is not None:
        (tree / "meminfo").write_text(meminfo)
    (tree / "self").write_text(f"0::{UNIT}\n")
    _files(tree / "fs", {f"{UNIT}/memory.max": "max"})  # no limit: no memory.current read
    assert memory_room.memory_room() is None
    assert job_count(None, PHOTOS, RuntimeOptions()) == 8


@pytest.mark.parametrize("current", [None, "", "x"])
def test_a_v2_limit_whose_use_cannot_be_read_still_binds(tree, current):
    """memory.current missing, empty or no number: no traceback from the default --jobs, and
    the unit's MemoryMax=512M is not dropped (its whole limit is counted as room)."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"0::{UNIT}\n")
    files = {f"{UNIT}/memory.max": str(512 * MiB), f"{UNIT}/memory.high": "max"}
    if current is not None:
        files[f"{UNIT}/memory.current"] = current
    _files(tree / "fs", files)
    assert memory_room.memory_room() == 512 * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


@pytest.mark.parametrize("limit", ["", "x", "max"])
def test_a_v1_limit_that_is_no_number_is_no_limit(tree, limit):
    (tree / "self").write_text("4:memory:/docker/abc\n")
    _files(
        tree / "fs" / "memory" / "docker/abc",
        {"memory.limit_in_bytes": limit, "memory.usage_in_bytes": "1"},
    )
    _meminfo(tree, 8 * 2**20)
    assert memory_room.memory_room() == 8 * 2**30
    assert job_count(None, PHOTOS, RuntimeOptions()) == 8


def test_a_v1_limit_whose_use_cannot_be_read_still_binds(tree):
    (tree / "self").write_text("4:memory:/docker/abc\n")
    _files(
        tree / "fs" / "memory" / "docker/abc",
        {"memory.limit_in_bytes": str(2**30), "memory.usage_in_bytes": ""},
    )
    _meminfo(tree, 8 * 2**20)
    assert memory_room.memory_room() == 2**30
    assert job_count(None, PHOTOS, RuntimeOptions()) == 2


def test_a_meminfo_value_that_is_no_decimal_number_reads_none(tree):
    """str.isdigit() accepts '²', which int() refuses: no traceback."""
    (tree / "meminfo").write_text("MemAvailable:    ² kB\n")
    assert memory_room.memory_room() is None


def test_a_hybrid_hosts_v2_limits_are_read_in_its_unified_hierarchy(tree):
    """systemd's hybrid layout: v1 controllers beside the v2 hierarchy in unified/, where a
    kernel started with cgroup_no_v1=memory keeps the memory controller."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"4:cpu,cpuacct:/\n0::{UNIT}\n")
    _files(tree / "fs" / "unified", {f"{UNIT}/memory.max": str(512 * MiB)})
    _files(tree / "fs" / "unified", {f"{UNIT}/cpu.max": "200000 100000"})
    _v1_quota(tree, "", "-1")
    assert memory_room.memory_room() == 512 * MiB
    assert cores.cgroup_cpu_quota() == 2.0
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


def test_a_v1_cpu_controller_mounted_alone_is_read(tree):
    """A v1 host that mounts cpu in its own folder, without cpu,cpuacct: the second of the
    mounts is looked for. Guards against taking only the first of V1_CPU_FOLDERS (or dropping
    "cpu" from it): the quota was lost and 8 processes shared one core."""
    (tree / "self").write_text("4:cpu:/docker/abc\n3:cpuacct:/docker/abc\n")
    files = {"cpu.cfs_quota_us": "100000", "cpu.cfs_period_us": "100000"}
    _files(tree / "fs" / "cpu" / "docker/abc", files)
    assert cores.cgroup_cpu_quota() == 1.0
    assert cores.usable_cores() == 1


def test_a_v1_container_whose_own_cgroup_is_mounted_as_the_root_is_bound(tree):
    """Docker on cgroup v1 without a cgroup namespace: /proc/self/cgroup names the host's path
    (/docker/abc) but the container's own cgroup is bind-mounted at the controller's folder,
    with nothing below it. The walk up reaches that folder: its limits bind. Guards against
    leaving the mount's root folder out of the folders above."""
    (tree / "self").write_text("5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n")
    usage = {"memory.usage_in_bytes": str(300 * MiB), "memory.stat": "total_inactive_file 0"}
    _files(tree / "fs" / "memory", {"memory.limit_in_bytes": str(2**30), **usage})
    _v1_quota(tree, "", "200000")
    _meminfo(tree, 8 * 2**20)
    assert memory_room.memory_room() == (1024 - 300) * MiB
    assert cores.cgroup_cpu_quota() == 2.0
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


@pytest.mark.parametrize("limit, high", [(600, 1024), (1024, 600)])
def test_the_lower_of_memory_max_and_memory_high_binds(tree, limit, high):
    """A unit with both MemoryMax= and MemoryHigh=: the lower binds, whichever it is. Guards
    against max() of the two (only one of them was ever set in the other tests)."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"0::{UNIT}\n")
    _v2_memory(tree, UNIT, str(limit * MiB), current=0, high=str(high * MiB))
    assert memory_room.memory_room() == 600 * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


def test_a_cgroup_over_its_memory_high_has_no_room_left(tree):
    """memory.high only throttles: a cgroup's use may stand above it. What it leaves is none,
    not a negative number of bytes."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"0::{UNIT}\n")
    _v2_memory(tree, UNIT, "max", current=600 * MiB, high=str(512 * MiB))
    assert memory_room.memory_room() == 0
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


def test_a_memory_stat_entry_that_is_no_number_credits_no_cache_and_the_limit_binds(tree):
    """An inactive_file that is no number is no cache to count as room; the limit stays.
    Guards against int() on it: its ValueError dropped the whole cgroup's limit."""
    _meminfo(tree, 8 * 2**20)
    (tree / "self").write_text(f"0::{UNIT}\n")
    _v2_memory(tree, UNIT, str(512 * MiB), current=100 * MiB, cache="x")
    assert memory_room.memory_room() == 412 * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1


def test_a_v1_limit_set_above_what_a_container_sees_binds_through_its_hierarchical_limit(tree):
    """A v1 container sees only its own cgroup, mounted as the root, without a limit of its
    own; a pod's limit on the cgroup above it shows in memory.stat's
    hierarchical_memory_limit."""
    (tree / "self").write_text("5:memory:/kubepods/pod1/abc\n")
    stat = f"hierarchical_memory_limit {2**30}\ntotal_inactive_file {10 * MiB}\n"
    files = {"memory.limit_in_bytes": "9223372036854771712", "memory.stat": stat}
    _files(tree / "fs" / "memory", {**files, "memory.usage_in_bytes": str(300 * MiB)})
    _meminfo(tree, 8 * 2**20)
    assert memory_room.memory_room() == (1024 - 300 + 10) * MiB
    assert job_count(None, PHOTOS, RuntimeOptions()) == 1
