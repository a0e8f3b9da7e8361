"""Open an input file for reading without surprises: only a regular file (a FIFO would block, a
device never end), without blocking, and no larger than the caller allows."""

import os
import stat
from pathlib import Path
from typing import BinaryIO

from edge_runtime.errors import InputError, UnreadableError

_UNITS = ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"))


def size_and_limit(size: int, limit: int) -> tuple[str, str]:
    """A size and a limit in bytes as text, in the limit's unit ("200.0 KiB", "16 KiB"): never
    0, and never the same text when they differ (exact bytes when one decimal cannot tell)."""
    unit, name = next(((u, n) for u, n in _UNITS if limit >= u), (1, None))
    if name:
        size_text, limit_text = f"{size / unit:.1f}", f"{limit / unit:.1f}".removesuffix(".0")
        if float(size_text) not in (0, float(limit_text)):
            return f"{size_text} {name}", f"{limit_text} {name}"
    return f"{size:,} bytes", f"{limit:,} bytes"


def open_regular(path: Path, what: str, max_bytes: int | None = None) -> BinaryIO:
    """Open ``path`` for binary reading; ``what`` names the kind of file expected in messages
    ("an image file", ...).

    Raises:
        InputError: missing, a directory or not a regular file, empty, or larger than
            ``max_bytes``; the message names the file.
        UnreadableError: it cannot be read (an :class:`InputError` too).
    """
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, expected {what}")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file, expected {what}")
        if info.st_size == 0:
            raise InputError(f"{path}: empty file, expected {what}")
        if max_bytes is not None and info.st_size > max_bytes:
            size, limit = size_and_limit(info.st_size, max_bytes)
            raise InputError(f"{path}: {size} is larger than the {limit} allowed for {what}")
        # O_NONBLOCK: a file swapped for a FIFO between the check and the open fails, not hangs
        return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot be read ({exc.strerror or exc})") from None
