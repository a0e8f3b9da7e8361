"""Write files atomically: to a temporary name in the same directory, then rename."""

import contextlib
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

_serial = itertools.count()


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    The temporary name is short whatever the final one (a long file name must not fail only
    because of it), hidden, unique to this process, and keeps the suffix (some writers choose
    the format from it). It is removed on any error or interrupt, so ``path`` is either absent,
    the old file, or the complete new file.
    """
    path = Path(path)
    tmp = path.with_name(f".edge-seg-{os.getpid()}-{next(_serial)}.partial{path.suffix[:16]}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
