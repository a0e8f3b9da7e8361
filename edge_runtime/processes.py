"""Child processes: how they are started, which the OOM killer ends first, and what a child's
end says; and ending this process cleanly on SIGTERM."""

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from pathlib import Path

ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that end a run from outside: Ctrl-C, a service stopped, the terminal hung up
(an SSH session dropped)."""


def can_fork() -> bool:
    """Whether children can be forked here (Linux, macOS): they then share the parent's memory,
    a model's bytes included, and need nothing pickled."""
    return "fork" in multiprocessing.get_all_start_methods()


def process_context() -> BaseContext:
    """Forked children where the system can fork (Linux: a script without a ``__main__`` guard,
    or Python read from a pipe, can still use them), else spawned ones."""
    return multiprocessing.get_context("fork" if can_fork() else "spawn")


OOM_SCORE_ADJ = Path("/proc/self/oom_score_adj")
"""Linux's adjustment of this process's standing with the OOM killer, -1000 (never) to 1000
(first)."""


def first_for_the_oom_killer() -> bool:
    """Make this process the one the kernel's OOM killer ends first (:data:`OOM_SCORE_ADJ` at
    1000: a worker, whose photograph is done again, rather than the parent that holds the run's
    results or the camera's other programs); whether it is now. Raising it needs no privilege;
    a system without it (not Linux) keeps what it does."""
    try:
        descriptor = os.open(OOM_SCORE_ADJ, os.O_WRONLY)  # never made: a /proc that is no procfs
        try:
            os.write(descriptor, b"1000")
        finally:
            os.close(descriptor)
        return OOM_SCORE_ADJ.read_text().strip() == "1000"
    except OSError:
        return False


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
