"""A model's first run, in a throwaway child process.

The interpreter checks a model's flatbuffer, not what its tensors and operators say: a damaged
model (a flipped bit in a tensor's shape, on an SD card, in a file no model card's SHA-256
covers) can crash it natively while it allocates tensors or runs, with SIGSEGV or SIGABRT, no
Python error and no message, and under systemd a crash loop. So a model is first built and run
in a forked child: if that child is killed by a signal, or does not finish, the model is refused
with one line, and the caller never runs it. The trial costs one fork and one small run (about
30 ms for the bundled model on a 2-core x86-64 host) once per model and settings in a process;
forked children inherit what their parent tried.
"""

import faulthandler
import hashlib
import os
import signal
from collections.abc import Callable, Hashable

from edge_runtime.errors import ModelError
from edge_runtime.processes import ENDING_SIGNALS, can_fork, exit_description, process_context

TRIAL_TIMEOUT_S = 60.0
"""Longest a trial run may take: far beyond any model of ours (milliseconds), so a trial that
runs this long is a model that hangs the interpreter."""


_passed: set[tuple[str, Hashable]] = set()
"""(SHA-256 of the model's bytes, the settings) of the trials that passed in this process."""


def run_trial(content: bytes, settings: Hashable, name: str, trial: Callable[[], object]) -> None:
    """Run ``trial()`` (which builds and runs the model of ``content`` with ``settings``) in a
    forked child, unless a trial of them already passed in this process. A trial that fails
    with a Python error is no crash: the caller's own build then raises that error itself. Where
    nothing can be forked, nothing is tried.

    Raises:
        ModelError: the child was killed by a signal, or ran past :data:`TRIAL_TIMEOUT_S`.
    """
    key = (hashlib.sha256(content).hexdigest(), settings)
    if key in _passed or not can_fork():
        return
    child = process_context().Process(target=_in_child, args=(key, trial), name="model trial")
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # as it is
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, ENDING_SIGNALS)
        try:  # the child starts with them held until it ignores them: never our handler
            child.start()
        finally:  # one that came meanwhile is ours now, and may end us here
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        child.join(TRIAL_TIMEOUT_S)
        finished = child.exitcode is not None
    finally:  # also when the caller is interrupted: no child outlives its trial
        if child.pid is not None and child.exitcode is None:
            child.kill()
            child.join()
    if not finished:
        raise ModelError(
            f"{name}: its trial run did not finish in {TRIAL_TIMEOUT_S:g} s (a damaged model?)"
        )
    if child.exitcode < 0:
        raise ModelError(
            f"{name}: crashes the interpreter ({exit_description(child.exitcode)}; "
            "a damaged model?)"
        )
    if child.exitcode == 0:
        _passed.add(key)


def _in_child(key: tuple[str, Hashable], trial: Callable[[], object]) -> None:
    """The trial, its output (native crash messages, warnings, a fault handler's traceback)
    kept off the caller's terminal, and the ending signals left to the caller (which the
    trial does not outlast)."""
    for signum in ENDING_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, ENDING_SIGNALS)  # any held: ignored
    faulthandler.disable()
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, 1)
    os.dup2(nowhere, 2)
    _passed.add(key)  # the model built in here is the trial: it tries nothing again
    trial()
