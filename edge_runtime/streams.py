"""The process's standard output and error, pointed at the null device when they are gone (a
pipe's reader, a hung-up terminal, a stream closed at the start): what is written there is
lost, never the run."""

import contextlib
import os
import sys


def to_null_device(fd: int) -> None:
    """Point file descriptor ``fd`` at the null device (it may be closed: then it is taken, so
    that no file opened later gets that number and what native code writes there)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)


class ForgivingStderr:
    """Standard error that, once a write to it fails (EIO after the terminal hung up, a full
    disk), goes to the null device and lets the run go on: its lines are lost, not the run's
    files and exit status. Everything else is the stream's."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError:
            self._give_up()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            self._give_up()

    def _give_up(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # no descriptor: a test's stream
            to_null_device(self._stream.fileno())
            self._stream.flush()  # what it held goes to the null device


def stderr_forgiving() -> None:
    """Make :data:`sys.stderr` a :class:`ForgivingStderr` (opened on the null device when the
    process started with it closed)."""
    if sys.stderr is None:
        to_null_device(2)
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 (the process's, never closed)
    if not isinstance(sys.stderr, ForgivingStderr):
        sys.stderr = ForgivingStderr(sys.stderr)
