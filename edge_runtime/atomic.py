"""Write files atomically: to a temporary name in the same directory, then rename (PNG pictures
too, :func:`save_png`)."""

import contextlib
import errno
import itertools
import os
import re
import signal
import stat
import tempfile
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from edge_runtime.errors import OutputError
from edge_runtime.file_names import utf8_text
from edge_runtime.processes import ENDING_SIGNALS

_serial = itertools.count()

_PARTIAL_NAME = re.compile(r"\.edge-seg-(\d+)-\d+\.partial(\.[^.]{0,15})?")
"""The temporary names :func:`atomic_path` gives, and nothing else."""

STALE_PARTIAL_AGE = 600.0
"""Seconds after its last change that a temporary file of :func:`atomic_path` is taken as left
by a writer that was killed (by SIGKILL, or the power going): far longer than any write."""


def refuse_in_the_way(path: Path) -> None:
    """Refuse to write over what :func:`what_is_in_the_way` finds at ``path`` (an OSError whose
    ``strerror`` says what it is): renaming over it would replace a device, a pipe or a link."""
    in_the_way = what_is_in_the_way(path)
    if in_the_way:
        raise OSError(errno.EEXIST, in_the_way, str(path))


def _temporary(path: Path) -> Path:
    """A temporary name beside ``path``: short whatever its own, hidden, unique to this process,
    with its suffix (some writers choose the format from it)."""
    return path.with_name(f".edge-seg-{os.getpid()}-{next(_serial)}.partial{path.suffix[:16]}")


@contextlib.contextmanager
def atomic_path(path: str | Path, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds
    (``durable``: the temporary flushed to the storage before, and the folder after, so that
    the power going leaves the old file or the new one, whole).

    The temporary name is short whatever the final one (a long file name must not fail only
    because of it), hidden, unique to this process, and keeps the suffix (some writers choose
    the format from it). It is removed on any error or interrupt, so ``path`` is either absent,
    the old file, or the complete new file; only a writer killed outright leaves it behind
    (:func:`remove_stale_partials`). An error that names the temporary file is made to name
    ``path``. What :func:`what_is_in_the_way` finds at ``path`` is refused (an OSError whose
    ``strerror`` says what it is): renaming over it would replace a device, a pipe or a link.
    """
    path = Path(path)
    refuse_in_the_way(path)
    tmp = _temporary(path)
    try:
        yield tmp
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
        if durable:
            _fsync(path.parent)
    except OSError as exc:
        if exc.filename != str(tmp) or exc.errno is None:
            raise
        # name the file asked for, not its hidden temporary
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP that arrive inside the block are acted on after it, as they would
    have been (a few renames must not be cut in two). Outside the main thread, where handlers
    cannot be set, it holds nothing; nor a signal whose handler was set outside Python, which
    could not be put back."""
    held = ()
    if threading.current_thread() is threading.main_thread():
        held = [sig for sig in ENDING_SIGNALS if signal.getsignal(sig) is not None]
    arrived: list[int] = []
    with contextlib.ExitStack() as handlers:
        for sig in held:  # each put back, whatever happens after it was set
            handlers.callback(signal.signal, sig, signal.getsignal(sig))
            signal.signal(sig, lambda sig, _frame: arrived.append(sig))
        yield
    for sig in dict.fromkeys(arrived):
        signal.raise_signal(sig)


@contextlib.contextmanager
def files_together(folder: Path, names: tuple[str, ...]) -> Iterator[dict[str, Path]]:
    """Yield a temporary path in ``folder`` for each of ``names``; when the block succeeds, put
    those written in place, in the order of ``names``, and remove the others there (an earlier
    set's).

    Stopped or failed inside the block, nothing in ``folder`` changes (the temporaries are
    removed); the renames that follow it are not cut in two by SIGINT or SIGTERM
    (:func:`signals_held`). So stopped, ``folder`` holds the earlier set or the new one, never
    part of each: a run's model beside another run's record. Killed outright (or on a failed
    rename), part of the renames may be done: name last the file that must not be found alone.
    What :func:`what_is_in_the_way` finds at one of the paths is refused (an OSError whose
    ``strerror`` says what it is).
    """
    targets = {name: folder / name for name in names}
    for path in targets.values():
        refuse_in_the_way(path)
    temporaries = {name: _temporary(path) for name, path in targets.items()}
    try:
        yield temporaries
        with signals_held():
            for name, tmp in temporaries.items():
                if tmp.exists():
                    os.replace(tmp, targets[name])
                else:
                    targets[name].unlink(missing_ok=True)
    finally:
        for tmp in temporaries.values():
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def folders_removed_on_failure(*folders: Path) -> Iterator[None]:
    """Inside the block, ``folders`` (and those above them) may be made; if it fails, those it
    made are removed again, when empty, so that a refused output leaves no folder behind."""
    missing: list[Path] = []
    for folder in folders:
        while not folder.exists() and folder != folder.parent and folder not in missing:
            missing.append(folder)
            folder = folder.parent
    try:
        yield
    except BaseException:
        for folder in sorted(missing, key=lambda f: len(f.parts), reverse=True):  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()  # refused unless it is an empty folder
        raise


def _longest_name(folder: Path) -> int:
    """The longest file name, in bytes, that ``folder``'s file system takes (255 when it does
    not say)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def synced(paths: Iterable[Path]) -> None:
    """Flush the files among ``paths`` (those that exist), and the folders that hold them, to
    the storage: what the power going leaves of them is what they hold now, under their names.

    Raises:
        OSError: one cannot be opened or flushed.
    """
    folders = {}
    for path in map(Path, paths):
        if path.is_file():
            _fsync(path)
            folders[path.parent] = None
    for folder in folders:
        _fsync(folder)


CANNOT_SYNC = (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS)
"""What a file system that cannot flush a file or folder says (some do not flush folders):
there is nothing more to be had, and nothing failed."""


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as exc:
        if exc.errno not in CANNOT_SYNC:
            raise
    finally:
        os.close(descriptor)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically in UTF-8; what a file name's bytes that are not
    UTF-8 became is written as its escape (:func:`~edge_runtime.file_names.utf8_text`).

    Raises:
        OutputError: it cannot be written (naming ``path``, not the temporary file).
    """
    try:
        with atomic_path(path) as tmp:
            _write_utf8(tmp, text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_texts(folder: Path, texts: dict[str, str]) -> None:
    """Write each of ``texts`` (file name: text) in ``folder`` as :func:`write_text` does, all
    of them or none (:func:`files_together`): a report's table never beside another run's.

    Raises:
        OutputError: they cannot be written (naming them).
    """
    try:
        with files_together(folder, tuple(texts)) as temporaries:
            for name, text in texts.items():
                _write_utf8(temporaries[name], text)
    except OSError as exc:
        named = " and ".join(texts)
        raise OutputError(f"{folder}: cannot write {named} ({exc.strerror or exc})") from None


def _write_utf8(path: Path, text: str) -> None:
    path.write_text(utf8_text(text), encoding="utf-8")


def what_is_in_the_way(path: Path) -> str | None:
    """What lies at ``path`` that a write must not replace, in words: a folder, a symbolic link
    (the file it points to would be left as it was), a device, a pipe or a socket (as root,
    ``--csv /dev/null`` once replaced the device with a file); ``None`` for a regular file or
    nothing."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file to write"
    if stat.S_ISLNK(mode):
        return "is a symbolic link, not written over: name the file it points to"
    return "is a device, a pipe or a socket, not a regular file: not written over"


def check_writable(path: Path) -> None:
    """Refuse, before any work, a file that :func:`atomic_path` could not write.

    Raises:
        OutputError: something is in the way at ``path`` (:func:`what_is_in_the_way`), its
            folder is missing, not a folder or not writable, or its name longer than the
            folder's file system takes.
    """
    folder = path.parent
    in_the_way = what_is_in_the_way(path)
    if in_the_way:
        raise OutputError(f"{path}: {in_the_way}")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: not a folder, so {path.name} cannot be written in it")
    if not folder.is_dir():
        raise OutputError(f"{folder}: no such folder to write {path.name} in")
    length, longest = len(os.fsencode(path.name)), _longest_name(folder)
    if length > longest:
        raise OutputError(
            f"{path}: a name of {length} bytes, longer than the {longest} its folder's file "
            "system takes"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{folder}: not writable, so {path.name} cannot be written there")
    try:  # access() says yes to root where the file system says no (/sys, some mounts)
        descriptor, probe = tempfile.mkstemp(prefix=".edge-seg-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"{folder}: not writable ({exc.strerror}), so {path.name} cannot be written there"
        ) from None
    os.close(descriptor)
    os.unlink(probe)


def remove_stale_partials(directory: Path, age: float = STALE_PARTIAL_AGE) -> list[Path]:
    """Remove the temporary files of :func:`atomic_path` in ``directory`` (regular files with
    its naming, never another file) unchanged for ``age`` seconds; returns those removed.

    Raises:
        OSError: the directory cannot be listed.
    """
    removed = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if not _PARTIAL_NAME.fullmatch(entry.name):
                continue
            with contextlib.suppress(FileNotFoundError):  # its writer finished meanwhile
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and time.time() - info.st_mtime >= age:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return sorted(removed)


def remove_partials_of(directory: Path, pid: int) -> list[Path]:
    """Remove the temporary files of :func:`atomic_path` that process ``pid`` left in
    ``directory`` (a worker killed outright: they would wait :data:`STALE_PARTIAL_AGE`
    otherwise); returns those removed. A directory that cannot be listed is left as it is."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            named = _PARTIAL_NAME.fullmatch(entry.name)
            if named is None or int(named[1]) != pid:
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return sorted(removed)


PNG_OPTIONS = {"compress_level": 1, "compress_type": zlib.Z_RLE}
"""How every PNG is written: zlib's fastest level, run-length matching only (masks and maps are
runs of a few values). On DRIVE's 05_test it writes the mask 2x, the probabilities 2.6x, the
artery/vein map 1.6x and the overlay 5.8x faster than Pillow's default (level 6, 21 against
124 ms for the overlay), in files of 0.95-1.01x the size (``python benchmarks/png_level.py``):
a camera's processor, not its card, is what the next photograph waits for."""


def save_png(
    path: Path, image: np.ndarray | Image.Image, text: Mapping[str, str] | None = None
) -> None:
    """Write a uint8 (H, W) or (H, W, 3) array, or a Pillow image, as PNG
    (:data:`PNG_OPTIONS`), atomically (never a partial file), with ``text`` chunks
    (keyword: text, before the pixels) if given.

    Raises:
        OutputError: the file cannot be written (full disk, a directory in the way, ...).
    """
    try:
        with atomic_path(path) as tmp:
            picture = image if isinstance(image, Image.Image) else _shared_image(image)
            chunks = None
            if text:
                chunks = PngImagePlugin.PngInfo()
                for keyword, value in text.items():
                    chunks.add_text(keyword, value)
            picture.save(tmp, format="PNG", pnginfo=chunks, **PNG_OPTIONS)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _shared_image(array: np.ndarray) -> Image.Image:
    """A Pillow image over a uint8 array's own memory where it can be (grayscale), sparing a
    photograph-sized copy."""
    if array.ndim == 2 and array.flags.c_contiguous:
        height, width = array.shape
        return Image.frombuffer("L", (width, height), array, "raw", "L", 0, 1)
    return Image.fromarray(array)
