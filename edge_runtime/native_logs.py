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
import threading
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
    block, unless :data:`VERBOSE_ENV` is set. Blocks of several threads at once share one
    silence, and standard error points where it did before the first once the last has left
    (when each block put back the descriptor it had found, two that overlapped left the silence
    behind for good: threads each making a segmenter at once lost the process's standard
    error)."""
    if os.environ.get(VERBOSE_ENV) == "1":
        yield
        return
    block = object()
    try:  # entered before anything is done: a Ctrl-C at any point of the entry is undone
        with _SILENCE.lock:
            _SILENCE.enter(block)
        yield
    finally:
        try:
            with _SILENCE.lock:
                _SILENCE.leave(block)
        except BaseException:  # a Ctrl-C while leaving (or waiting for the lock): again, then on
            with _SILENCE.lock:
                _SILENCE.leave(block)
            raise


class _Silence:
    """The blocks of :func:`silenced` open in this process, each with its thread, and where
    standard error pointed before the first (``None`` while it points there)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.blocks: dict[object, threading.Thread] = {}
        self.saved: int | None = None

    def enter(self, block: object) -> None:
        """Count ``block`` open, then point standard error at ``/dev/null`` unless it is
        already: counted first, in one step, so that :meth:`leave` undoes whatever was done
        before a KeyboardInterrupt (a Ctrl-C after the ``dup2``, before the count, left
        standard error silenced for good)."""
        self.blocks[block] = threading.current_thread()
        if self.saved is None:
            sys.stderr.flush()
            self.saved = os.dup(2)
            nowhere = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(nowhere, 2)
            finally:
                os.close(nowhere)

    def leave(self, block: object) -> None:
        """Forget ``block`` (counted or not), and with none left open, point standard error
        back (where it was silenced, in part or whole); done again, it does what was left
        undone (:func:`silenced` does it again when a KeyboardInterrupt cuts it short)."""
        self.blocks.pop(block, None)
        if not self.blocks and self.saved is not None:
            self.speak()

    def speak(self) -> None:
        """Point standard error back where it was before the first block (forgotten only once
        it points there: cut short before, the next :meth:`leave` does it again)."""
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        saved, self.saved = self.saved, None
        os.close(saved)

    def after_fork(self) -> None:
        """In a forked child: a lock of its own, and the blocks of the thread that forked
        alone (the child's one thread) counted open: with none, standard error back, which the
        other threads silencing it in the parent would never give back there."""
        self.lock = threading.Lock()
        thread = threading.current_thread()
        self.blocks = {block: t for block, t in self.blocks.items() if t is thread}
        if not self.blocks and self.saved is not None:
            self.speak()


_SILENCE = _Silence()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(  # the lock of the moment: a child forks with its own
        before=lambda: _SILENCE.lock.acquire(),
        after_in_parent=lambda: _SILENCE.lock.release(),
        after_in_child=_SILENCE.after_fork,
    )


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
