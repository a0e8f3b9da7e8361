"""Native libraries' log lines kept off the terminal, unless asked for (``edge-seg --verbose``).

LiteRT announces its CPU delegate, TensorFlow its instruction sets, oneDNN and absl, and the
converter its settings, each straight to the process's standard error, below Python: the only
way to keep a command's own one-line messages alone there is to point file descriptor 2 at
``/dev/null`` while those libraries load and prepare (:func:`silenced`). libtiff, which Pillow
decodes TIFF files with, prints a damaged file's faults under a made-up name; it takes handlers
instead (:func:`quiet_libtiff`). What they raise is still raised, with its message.
"""

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Iterator

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


@contextlib.contextmanager
def quiet_libtiff() -> Iterator[None]:
    """Inside the block, the libtiff that Pillow decodes TIFF files with prints nothing, unless
    :data:`VERBOSE_ENV` is set: on a damaged file it printed lines that name no file
    ("tempfile.tif: Using code not yet in table.") before the command's own one-line error.
    What it reports is still raised. Its handlers are the whole process's, so this is set
    around a command, not around each decode (unlike :func:`silenced`, nothing of another
    thread is lost); where Pillow's libtiff cannot be reached, nothing changes."""
    setters = [] if os.environ.get(VERBOSE_ENV) == "1" else _libtiff_handler_setters()
    previous = [setter(None) for setter in setters]
    try:
        yield
    finally:
        for setter, handler in zip(setters, previous, strict=True):
            setter(handler)


def _libtiff_handler_setters() -> list[Callable]:
    """libtiff's ``TIFFSetErrorHandler`` and ``TIFFSetWarningHandler``, as Pillow's imaging
    library links them; none where they cannot be found (a Pillow without libtiff, Windows)."""
    try:
        from PIL import _imaging

        library = ctypes.CDLL(_imaging.__file__)
        setters = [library.TIFFSetErrorHandler, library.TIFFSetWarningHandler]
    except (ImportError, OSError, AttributeError):
        return []
    for setter in setters:
        setter.argtypes, setter.restype = [ctypes.c_void_p], ctypes.c_void_p
    return setters
