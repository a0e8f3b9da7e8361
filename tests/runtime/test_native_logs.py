"""Standard error silenced around native libraries' chatter, by several threads at once."""

import contextlib
import itertools
import os
import threading

import pytest

from edge_runtime import native_logs
from edge_runtime.native_logs import VERBOSE_ENV, silenced


def _where(fd: int = 2) -> tuple[int, int]:
    stat = os.fstat(fd)
    return stat.st_dev, stat.st_ino


@contextlib.contextmanager
def _standard_error_kept():
    """Standard error pointed back where it was after the test, whatever the code did to it."""
    kept = os.dup(2)
    try:
        yield
    finally:
        os.dup2(kept, 2)
        os.close(kept)


@pytest.fixture
def nowhere():
    """Where a silenced standard error points."""
    with open(os.devnull, "wb") as f:
        yield _where(f.fileno())


def test_overlapping_silences_of_two_threads_leave_standard_error_where_it_was(
    monkeypatch, nowhere
):
    """Each block saved fd 2 and put back what it saved: the second, entered while the first
    silenced, saved /dev/null and put it back last, so the camera's process (four threads each
    making a Segmenter at once) lost its standard error for good, in one round of 16."""
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def first():
        with silenced():
            first_in.set()
            second_in.wait()
        first_out.set()

    def second():
        first_in.wait()
        with silenced():
            second_in.set()
            first_out.wait()
            seen.append(_where())  # the other thread left: still silenced while this is in

    with _standard_error_kept():
        before = _where()
        threads = [threading.Thread(target=f) for f in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        after = _where()
    assert seen == [nowhere]
    assert after == before != nowhere


_ENTRY_CALLS = ("dup", "open", "dup2", "close")
"""The calls of silenced()'s entry (the first block's), in order."""


@contextlib.contextmanager
def _interrupted(monkeypatch, call: int, after: bool):
    """A KeyboardInterrupt (a Ctrl-C: Python's handlers run between bytecodes) just before, or
    just after, the ``call``-th of the calls :data:`_ENTRY_CALLS` name; a descriptor made by a
    call that is then interrupted is closed here, as the code never got it."""
    calls, close = itertools.count(), os.close
    with monkeypatch.context() as patched:
        for name in _ENTRY_CALLS:
            real = getattr(os, name)

            def interrupting(*args, real=real, name=name):
                this = next(calls)
                if this == call and not after:
                    raise KeyboardInterrupt
                result = real(*args)
                if this == call:
                    if name in ("dup", "open"):
                        close(result)
                    raise KeyboardInterrupt
                return result

            patched.setattr(os, name, interrupting)
        yield


_CALLS = (*(f"entry-{name}" for name in _ENTRY_CALLS), "leaving-dup2", "leaving-close")
"""The calls of the first block's entry (:data:`_ENTRY_CALLS`), then of the last block's
leaving, counted on from them: its dup2, then its close."""


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("call", range(len(_CALLS)), ids=_CALLS)
def test_a_ctrl_c_while_a_silence_begins_or_ends_leaves_standard_error_where_it_was(
    monkeypatch, nowhere, call, after
):
    """A KeyboardInterrupt after the dup2 and before the block was counted (or its try
    entered) left standard error pointed at /dev/null, and no block open to point it back:
    the process's standard error was lost for good, and the next silence saved /dev/null. One
    as the last block left, before its dup2 pointed standard error back, did the same (the
    command's own line for the Ctrl-C lost): leaving is done again, then raised."""
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    with _standard_error_kept():
        before = _where()
        with _interrupted(monkeypatch, call, after), pytest.raises(KeyboardInterrupt), silenced():
            pass
        where = _where()
        left_open = bool(native_logs._SILENCE.blocks), native_logs._SILENCE.saved
        with silenced():
            inside = _where()
        after_next = _where()
    assert where == before != nowhere
    assert left_open == (False, None)
    assert (inside, after_next) == (nowhere, before)


class _InterruptedOnce:
    """A lock whose ``count``-th acquiring raises KeyboardInterrupt (a Ctrl-C while it waits for
    another thread's: acquiring a lock can be interrupted by a signal)."""

    def __init__(self, count: int):
        self.lock, self.uses = threading.Lock(), itertools.count(1)
        self.count = count

    def __enter__(self):
        if next(self.uses) == self.count:
            raise KeyboardInterrupt
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def test_a_ctrl_c_while_a_silence_waits_to_end_leaves_standard_error_where_it_was(
    monkeypatch, nowhere
):
    """Interrupted waiting for the lock to leave, a block stayed counted open for good:
    standard error stayed at /dev/null, and no later block pointed it back."""
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    monkeypatch.setattr(native_logs._SILENCE, "lock", _InterruptedOnce(2))
    with _standard_error_kept():
        before = _where()
        with pytest.raises(KeyboardInterrupt), silenced():
            pass
        where = _where()
        with silenced():
            pass
        after_next = _where()
    assert (where, after_next) == (before, before) != (nowhere, nowhere)
    assert not native_logs._SILENCE.blocks


_HELD = """
import os, signal, sys, threading
from edge_runtime.native_logs import silenced

inside, leave = threading.Event(), threading.Event()

def hold():
    with silenced():
        inside.set()
        leave.wait()

threading.Thread(target=hold, daemon=True).start()
inside.wait()
"""
"""A script's start: a thread holds a silenced() block open."""

_SCRIPT = (
    _HELD
    + """
pid = os.fork()
if pid == 0:
    signal.alarm(15)  # a child that hangs ends
    with silenced():
        pass
    sys.stderr.write("the child's own line\\n")
    sys.stderr.flush()
    grandchild = os.fork()  # the child's own lock, free
    if grandchild == 0:
        os._exit(0)
    os._exit(os.waitpid(grandchild, 0)[1])
status = os.waitpid(pid, 0)[1]
leave.set()
sys.exit(status and f"the child ended with status {status}")
"""
)


def test_a_process_forked_while_a_thread_is_silenced_has_its_standard_error(monkeypatch):
    """The child inherited fd 2 pointed at /dev/null by a thread it does not have, which was
    never to put it back there: whatever the child said was lost. The child forks in turn."""
    import subprocess
    import sys

    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "the child's own line\n", done.stderr


_FORKED_INSIDE = (
    _HELD
    + """

def say(line):
    os.write(2, line.encode() + b"\\n")

with silenced():
    pid = os.fork()
    if pid == 0:
        signal.alarm(15)  # a child that hangs ends
        say("inside the block that forked: silenced")
if pid == 0:
    say("the child's first line")
    with silenced():
        say("inside a later block: silenced")
    say("the child's last line")
    os._exit(0)
status = os.waitpid(pid, 0)[1]
leave.set()
sys.exit(status and "the child failed")
"""
)


def test_a_process_forked_inside_a_silenced_block_keeps_its_silence_and_count(monkeypatch):
    """The child took its forking thread's own block for one of the parent's other threads
    (here one silenced too): it spoke inside that block and, once out of it, counted -1
    blocks open, so that none of its later blocks silenced anything."""
    import subprocess
    import sys

    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_INSIDE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "the child's first line\nthe child's last line\n"


_SAYS_AT_ONCE = (
    _HELD
    + """
pid = os.fork()
if pid == 0:
    os.write(2, b"the child's own line\\n")
    os._exit(0)
status = os.waitpid(pid, 0)[1]
leave.set()
sys.exit(status and "the child failed")
"""
)


def test_a_process_forked_while_a_thread_is_silenced_speaks_before_any_block(monkeypatch):
    """The child's standard error is pointed back at the fork itself, not at the child's first
    block: what it writes before any (a forked worker's error) is not lost."""
    import subprocess
    import sys

    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    done = subprocess.run(
        [sys.executable, "-c", _SAYS_AT_ONCE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "the child's own line\n", done.stderr
