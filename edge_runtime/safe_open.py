"""Open an input file for reading without surprises: only a regular file (a FIFO would block, a
device never end), without blocking, and no larger than the caller allows."""

import os
import stat
from pathlib import Path
from typing import BinaryIO

from edge_runtime.errors import InputError


def open_regular(path: Path, what: str, max_bytes: int | None = None) -> BinaryIO:
    """Open ``path`` for binary reading; ``what`` names the kind of file expected in messages
    ("an image file", ...).

    Raises:
        InputError: missing, a directory or not a regular file, empty, larger than
            ``max_bytes``, or unreadable; the message names the file.
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, expected {what}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file, expected {what}")
        if info.st_size == 0:
            raise InputError(f"{path}: empty file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise InputError(
                f"{path}: {info.st_size / 2**20:.1f} MiB is larger than the "
                f"{max_bytes / 2**20:.0f} MiB allowed for {what}"
            )
        # O_NONBLOCK: a file swapped for a FIFO between the check and the open fails, not hangs
        return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
