"""Child processes: how many the cores hold, how they are started, and what a child's end
says; and ending this process cleanly on SIGTERM."""

import contextlib
import math
import multiprocessing
import os
import signal
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where cgroup v2 is mounted (its ``cpu.max`` files hold the CPU quotas)."""

OWN_CGROUP = Path("/proc/self/cgroup")
"""Which cgroup this process is in (cgroup v2's line: ``0::/PATH``)."""


def usable_cores() -> int:
    """The cores this process may use: those its CPU affinity allows (``taskset``, a
    container's cpuset), no more than its cgroup's CPU quota (systemd's ``CPUQuota=``, a
    container's ``--cpus``) rounded up, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def cgroup_cpu_quota() -> float | None:
    """The tightest CPU quota in cores on this process's cgroup (v2) and those above it; None
    where none is set or cgroup v2 is not there."""
    try:
        lines = OWN_CGROUP.read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in lines if line.startswith("0::")), None)
    if own is None:
        return None
    quotas = []
    folder = CGROUP_ROOT / own.lstrip("/")
    for place in (folder, *folder.parents):
        if not place.is_relative_to(CGROUP_ROOT):
            break
        try:
            quotas.append(quota_in_cores((place / "cpu.max").read_text()))
        except OSError:
            continue
    found = [q for q in quotas if q is not None]
    return min(found) if found else None


def quota_in_cores(cpu_max: str) -> float | None:
    """A cgroup v2 ``cpu.max`` ("150000 100000": 1.5 cores) in cores; None for "max" (none) or
    anything else."""
    fields = cpu_max.split()
    try:
        quota, period = int(fields[0]), int(fields[1]) if len(fields) > 1 else 100_000
    except (IndexError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def can_fork() -> bool:
    """Whether children can be forked here (Linux, macOS): they then share the parent's memory,
    a model's bytes included, and need nothing pickled."""
    return "fork" in multiprocessing.get_all_start_methods()


def process_context() -> BaseContext:
    """Forked children where the system can fork (Linux: a script without a ``__main__`` guard,
    or Python read from a pipe, can still use them), else spawned ones."""
    return multiprocessing.get_context("fork" if can_fork() else "spawn")


def exit_description(exitcode: int) -> str:
    """How a child ended, from its :attr:`multiprocessing.Process.exitcode` (minus the signal
    number when a signal ended it): "killed by signal 9 (out of memory?)", "killed by signal 6
    (SIGABRT)", "exited with status 3"."""
    if exitcode >= 0:
        return f"exited with status {exitcode}"
    number = -exitcode
    if number == signal.SIGKILL:  # what the kernel's OOM killer sends
        return f"killed by signal {number} (out of memory?)"
    try:
        return f"killed by signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"killed by signal {number}"


class Terminated(BaseException):
    """SIGTERM, raised where the process was (a BaseException, as KeyboardInterrupt is, so that
    no handler of errors takes it for one): the command line says so on one line, status 143."""


@contextlib.contextmanager
def ending_cleanly_on_sigterm() -> Iterator[None]:
    """SIGTERM ends what runs inside as SIGINT does, through its clean-up (a hidden unpacking
    folder, an unfinished output removed): :class:`Terminated` is raised; the handler before is
    put back after."""

    def end(_signum, _frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, end)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
