"""Native libraries' log lines kept off the terminal, unless asked for (``edge-seg --verbose``).

LiteRT announces its CPU delegate, TensorFlow its instruction sets, oneDNN and absl, and the
converter its settings, each straight to the process's standard error, below Python: the only
way to keep a command's own one-line messages alone there is to point file descriptor 2 at
``/dev/null`` while those libraries load and prepare. What they raise is still raised, with its
message.
"""

import contextlib
import os
import sys
from collections.abc import Iterator

VERBOSE_ENV = "EDGE_SEG_VERBOSE"
"""Set to 1 (``edge-seg --verbose`` does) to let the native log lines through."""


def quiet_tensorflow() -> None:
    """Ask TensorFlow's C++ logging for nothing below fatal (call before it is imported), unless
    :data:`VERBOSE_ENV` is set or the caller set ``TF_CPP_MIN_LOG_LEVEL`` itself."""
    if os.environ.get(VERBOSE_ENV) != "1":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def show_native_logs() -> None:
    """Let native log lines through from now on (in this process and the ones it starts)."""
    os.environ[VERBOSE_ENV] = "1"


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Standard error (the file descriptor, so native code's writes too) goes nowhere inside the
    block, unless :data:`VERBOSE_ENV` is set."""
    if os.environ.get(VERBOSE_ENV) == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    nowhere = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(nowhere, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(nowhere)
