"""Results printed on standard output while a run goes on, until standard output closes."""

import sys

import click

from edge_runtime.pipeline.parallel import Stop
from edge_runtime.streams import to_null_device

CLOSED = " as standard output closed"
"""What asks a run to stop when its standard output closes (a pipe's reader gone, a full
disk): :attr:`~edge_runtime.pipeline.parallel.Stop.by`."""


class ResultLines:
    """Prints a run's lines on standard output. Once it cannot (``| head`` has read enough, the
    disk is full), it prints nothing more, asks ``stop`` to stop the run after the items in
    hand, and :attr:`closed` says why: the run's files are still written, for the items done."""

    def __init__(self, stop: Stop | None = None):
        self.stop = stop or Stop()
        self.closed: str | None = None
        """Why standard output closed ("Broken pipe"), or ``None`` while it is open."""

    def echo(self, line: str) -> None:
        """Print ``line``, unless standard output has closed (then mark it closed)."""
        if self.closed is not None:
            return
        try:
            click.echo(line)
        except OSError as exc:
            self.closed = exc.strerror or str(exc)
            # what Python flushes at exit would fail again, with a traceback
            to_null_device(sys.stdout.fileno())
            self.stop.request_because(CLOSED)

    def check(self, done: str) -> None:
        """Fail the run (exit status 1) if standard output closed during it; ``done`` says what
        the run did, which its files hold.

        Raises:
            click.ClickException: it closed.
        """
        if self.closed is not None:
            raise click.ClickException(
                f"standard output closed ({self.closed}): stopped after {done}"
            )
