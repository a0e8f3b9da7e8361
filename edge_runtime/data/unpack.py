"""Unpack a dataset's archives into the layout ``eval`` and ``train`` read, leaving either the
whole checked dataset in place or nothing.

An archive is refused whole when any member is unsafe: an absolute path, a ``..`` component, a
link, a device or other special file. Only the members the catalog names
(:class:`~edge_runtime.data.catalog.Member`) are unpacked, each bounded: an archive may unpack to
at most :data:`MAX_RATIO` times its own size and :data:`MAX_UNPACKED_BYTES` in all (a
decompression bomb is stopped while it expands, whatever sizes it declares). Everything goes to a
hidden folder beside the target, is checked there (each folder's file count, then every
photograph read with its label by :mod:`edge_runtime.data.photos`) and only then renamed into
place. Every problem is an :class:`~edge_runtime.errors.InputError` naming the archive (or an
:class:`~edge_runtime.errors.OutputError` when the disk refuses), and the hidden folder is removed.
"""

import contextlib
import glob
import gzip
import io
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from PIL import Image

from edge_runtime.atomic import folders_removed_on_failure
from edge_runtime.data.catalog import Dataset, Member
from edge_runtime.data.photos import find_dataset, load_labelled
from edge_runtime.errors import InputError, OutputError, counted, first_line
from edge_runtime.pipeline.decode import MAX_PIXELS
from edge_runtime.safe_open import open_regular

MAX_ARCHIVE_BYTES = 2 * 2**30
"""Largest archive read (HRF's, the largest, is 73 MB)."""

MAX_MEMBERS = 20_000
"""Most members an archive may list (the public sets' hold a few hundred at most): each is held
while the archive is checked, so more would grow memory without bound."""

MAX_UNPACKED_BYTES = 2 * 2**30
"""Most bytes one archive may unpack to (HRF's archive, the largest, is 73 MB)."""

MAX_RATIO = 250
"""Most bytes one archive may unpack to per byte of its own: photographs compress little, an
archive of binary vessel maps alone about 40 times (STARE's labels, gzip-compressed PGM), a
decompression bomb about 1000 times."""

MAX_IMAGE_MEMBER_BYTES = 64 * 2**20
"""Most bytes of one image that is converted, held in memory while it is (STARE's PPM files are
1.3 MB)."""

PARTIAL = ".partial"
"""Folder inside the target where downloads wait until they are unpacked."""

_TAR_MODES = ((b"\x1f\x8b", "r:gz"), (b"BZh", "r:bz2"), (b"\xfd7zXZ\x00", "r:xz"))
"""A compressed tar archive's mode, by its first bytes; any other is read as a plain tar (not
left to tarfile's guessing, whose xz attempt reads a file of zeros to its end)."""

_CHUNK = 2**20
_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    zlib.error,
    OSError,
    ValueError,
    RuntimeError,  # an encrypted zip member
    NotImplementedError,  # a zip compression method the standard library lacks
)
"""What reading a damaged or truncated archive raises."""

Progress = Callable[[str, int, int | None], None]
"""Called as work advances: what is being done, how far, out of how much (``None``: unknown)."""


def no_progress(_what: str, _done: int, _total: int | None) -> None:
    """A :data:`Progress` that shows nothing."""


@dataclass(frozen=True)
class Prepared:
    """A dataset unpacked and checked: where it is and what it holds."""

    root: Path
    photographs: int
    files: int
    bytes: int


@dataclass(frozen=True)
class _Entry:
    """An archive member: its path, what it is, the size it declares, how to read it."""

    name: str
    kind: Literal["file", "folder", "link", "special"]
    size: int
    open: Callable[[], BinaryIO]


class _Budget:
    """The bytes an archive may unpack to; more is refused as a decompression bomb."""

    def __init__(self, archive: Path, size: int) -> None:
        self.archive = archive
        self.limit = min(MAX_UNPACKED_BYTES, MAX_RATIO * size)
        self.spent = 0

    @property
    def left(self) -> int:
        """Bytes that may still be unpacked."""
        return self.limit - self.spent

    def take(self, count: int) -> None:
        """Spend ``count`` bytes.

        Raises:
            InputError: more than the limit in all.
        """
        self.spent += count
        self.refuse_over(self.spent)

    def refuse_over(self, count: int) -> None:
        """Refuse ``count`` bytes if they are more than the limit.

        Raises:
            InputError: they are.
        """
        if count > self.limit:
            raise InputError(
                f"{self.archive}: unpacks to more than {self.limit:,} bytes ({MAX_RATIO} times "
                f"its size, at most {MAX_UNPACKED_BYTES:,}): refused as a decompression bomb"
            )


def prepare(
    dataset: Dataset, archives: Sequence[Path], target: Path, progress: Progress = no_progress
) -> Prepared:
    """Unpack ``archives`` (the publisher's, downloaded) into ``target`` in ``dataset``'s
    layout, check it, and move it into place; ``target`` must not hold anything yet but
    downloads (:data:`PARTIAL`), which are removed once it is in place.

    Raises:
        InputError: the dataset is not public, ``target`` is taken, an archive is unreadable,
            damaged, unsafe, a bomb or not the dataset's, or the result is incomplete or holds an
            unreadable photograph.
        OutputError: the folder beside ``target`` cannot be written.
    """
    check_target(dataset, target)
    staging = target.parent / f"{_staging_prefix(target)}{os.getpid()}"
    blocked = next((f for f in (target.parent, *target.parent.parents) if f.is_file()), None)
    if blocked is not None:
        raise OutputError(f"{blocked}: not a folder, so {target} cannot be made in it")
    # a refused archive leaves nothing behind, nor its folders
    with folders_removed_on_failure(target.parent):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_staging(target)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
        except OSError as exc:
            raise OutputError(f"{staging}: cannot be created ({exc.strerror or exc})") from None
        try:
            written: dict[str, str] = {}
            for archive in archives:
                _unpack(archive, dataset, staging, written, progress)
            photographs = _check(staging, dataset, archives, progress)
            size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())
            _install(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Prepared(target, photographs, len(written), size)


def _staging_prefix(target: Path) -> str:
    """The name of a staging folder beside ``target``, but the process id that ends it."""
    return f".{target.name}.unpacking-"


def _remove_stale_staging(target: Path) -> None:
    """Remove the staging folders beside ``target`` of runs that ended without removing theirs
    (killed): those whose process is gone."""
    prefix = _staging_prefix(target)
    for folder in target.parent.glob(f"{glob.escape(prefix)}*"):
        pid = folder.name.removeprefix(prefix)
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists (this user's or another's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's
    return True


def check_target(dataset: Dataset, target: Path) -> None:
    """Refuse a dataset that is not public, and a target that already holds anything but
    downloads.

    Raises:
        InputError: either.
    """
    if dataset.access == "private":
        raise InputError(f"{dataset.name}: {dataset.how_to_get()}: {dataset.title}")
    if target.is_file() or (target.is_dir() and any(p.name != PARTIAL for p in target.iterdir())):
        raise InputError(f"{target}: already exists; remove it to unpack {dataset.name} again")


def _unpack(
    path: Path, dataset: Dataset, staging: Path, written: dict[str, str], progress: Progress
) -> None:
    """Unpack the members of one archive that ``dataset`` names; ``written`` maps each file
    made so far to the member it came from."""
    with open_regular(path, "an archive") as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_ARCHIVE_BYTES:
            raise InputError(
                f"{path}: {size:,} bytes, larger than the {MAX_ARCHIVE_BYTES:,} of any archive "
                f"of {dataset.name}"
            )
        budget = _Budget(path, size)
        with _entries(path, file, budget) as entries:
            if not entries:
                raise InputError(f"{path}: an empty archive (it holds no files)")
            for entry in entries:
                _refuse_unsafe(path, entry)
            chosen = [
                (entry, rule, target)
                for entry in entries
                if entry.kind == "file" and not _junk(entry.name)
                for rule, target in _targets(entry.name, dataset.members)
            ]
            if not chosen:
                expected = ", ".join(a.file for a in dataset.archives)
                raise InputError(
                    f"{path}: holds none of {dataset.name}'s files (expected {expected})"
                )
            for done, (entry, rule, target) in enumerate(chosen, 1):
                if target in written:
                    raise InputError(
                        f"{path}: {entry.name} would replace {target}, already unpacked from "
                        f"{written[target]} (an archive given twice?)"
                    )
                written[target] = entry.name
                _extract(path, entry, rule, staging / target, budget)
                progress(f"unpacking {path.name}", done, len(chosen))


@contextlib.contextmanager
def _entries(path: Path, file: BinaryIO, budget: _Budget) -> Iterator[list[_Entry]]:
    """The members of a zip or tar archive (tar possibly compressed), kept open; refused as
    soon as the sizes they declare exceed the budget (a compressed tar is decompressed to be
    listed)."""
    start = file.read(6)
    is_zip = start.startswith((b"PK\x03\x04", b"PK\x05\x06"))  # the latter: empty
    file.seek(0)
    with contextlib.ExitStack() as stack:
        entries = []
        try:
            if is_zip:
                archive = stack.enter_context(zipfile.ZipFile(file))
                members = (_zip_entry(archive, info) for info in archive.infolist())
            else:
                mode = next((m for magic, m in _TAR_MODES if start.startswith(magic)), "r:")
                archive = stack.enter_context(tarfile.open(fileobj=file, mode=mode))
                members = (_tar_entry(archive, member) for member in archive)
            declared = 0
            for entry in members:
                entries.append(entry)
                declared += entry.size
                budget.refuse_over(declared)
                if len(entries) > MAX_MEMBERS:
                    raise InputError(
                        f"{path}: lists more than {MAX_MEMBERS:,} members, expected a dataset's "
                        "few hundred: refused"
                    )
        except InputError:
            raise
        except _ERRORS as exc:
            kind = "a damaged zip archive" if is_zip else "not a zip or tar archive, or damaged"
            raise InputError(f"{path}: {kind} ({first_line(exc)})") from None
        yield entries


def _zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Entry:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        kind = "link"
    elif info.is_dir():
        kind = "folder"
    elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: no file type recorded
        kind = "special"
    else:
        kind = "file"
    return _Entry(info.filename, kind, info.file_size, lambda: archive.open(info))


def _tar_entry(archive: tarfile.TarFile, member: tarfile.TarInfo) -> _Entry:
    if member.isreg():
        kind = "file"
    elif member.isdir():
        kind = "folder"
    elif member.issym() or member.islnk():
        kind = "link"
    else:
        kind = "special"
    return _Entry(member.name, kind, member.size, lambda: archive.extractfile(member))


def _refuse_unsafe(path: Path, entry: _Entry) -> None:
    parts = re.split(r"[/\\]", entry.name)
    if "\x00" in entry.name:
        problem = "has a NUL character in its name"
    elif entry.name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", entry.name):
        problem = "is an absolute path"
    elif ".." in parts:
        problem = "leaves the folder it is unpacked into (..)"
    elif entry.kind == "link":
        problem = "is a link (a dataset holds regular files only)"
    elif entry.kind == "special":
        problem = "is a device or special file (a dataset holds regular files only)"
    else:
        return
    raise InputError(f"{path}: member {entry.name!r} {problem}: the archive is refused")


def _junk(name: str) -> bool:
    """Hidden files and macOS's resource forks, never part of a dataset."""
    parts = name.split("/")
    return parts[-1].startswith(".") or "__MACOSX" in parts


def _targets(name: str, rules: Sequence[Member]) -> Iterator[tuple[Member, str]]:
    """The files of the layout that a member becomes, by each rule that matches it."""
    for rule in rules:
        match = re.search(rule.pattern, name)
        if match:
            yield rule, match.expand(rule.target)


def _extract(path: Path, entry: _Entry, rule: Member, out: Path, budget: _Budget) -> None:
    where = f"{path}: member {entry.name}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _open(entry, where) as stream:
            if rule.conversion == "copy":
                with open(out, "xb") as sink:
                    while chunk := _read(stream, _CHUNK, where):
                        budget.take(len(chunk))
                        sink.write(chunk)
            else:
                _CONVERSIONS[rule.conversion](stream, budget, where).save(out, format="PNG")
    except (InputError, OutputError):
        raise
    except OSError as exc:
        raise OutputError(f"{out}: cannot be written ({exc.strerror or exc})") from None


def _open(entry: _Entry, where: str) -> BinaryIO:
    try:
        return entry.open()
    except _ERRORS as exc:
        raise InputError(f"{where}: cannot be read ({exc})") from None


def _png_from_ppm_gz(stream: BinaryIO, budget: _Budget, where: str) -> Image.Image:
    """A gzip-compressed PPM or PGM image (STARE's)."""
    with gzip.GzipFile(fileobj=stream) as unzipped:
        return _image(_read_bounded(unzipped, budget, where), where)


def _vessels_from_av(stream: BinaryIO, budget: _Budget, where: str) -> Image.Image:
    """The vessel label of an artery/vein colour map: 255 wherever any channel is set."""
    colours = np.asarray(_image(_read_bounded(stream, budget, where), where).convert("RGB"))
    return Image.fromarray(colours.any(axis=2).astype(np.uint8) * 255)


_CONVERSIONS: dict[str, Callable[[BinaryIO, _Budget, str], Image.Image]] = {
    "ppm_gz_to_png": _png_from_ppm_gz,
    "vessels_from_av": _vessels_from_av,
}


def _read(stream: BinaryIO, size: int, where: str) -> bytes:
    try:
        return stream.read(size)
    except _ERRORS as exc:
        raise InputError(f"{where}: damaged or truncated ({exc})") from None


def _read_bounded(stream: BinaryIO, budget: _Budget, where: str) -> bytes:
    """A member's bytes, refused past the budget or :data:`MAX_IMAGE_MEMBER_BYTES`."""
    data = _read(stream, min(budget.left, MAX_IMAGE_MEMBER_BYTES) + 1, where)
    budget.take(len(data))
    if len(data) > MAX_IMAGE_MEMBER_BYTES:
        raise InputError(f"{where}: larger than the {MAX_IMAGE_MEMBER_BYTES:,} bytes of any image")
    return data


def _image(data: bytes, where: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise InputError(
                f"{where}: {image.width}x{image.height} pixels is larger than any photograph"
            )
        image.load()
    except InputError:
        raise
    except Exception as exc:  # malformed bytes make Pillow raise almost anything
        raise InputError(f"{where}: not a readable image ({exc})") from None
    return image


def _check(staging: Path, dataset: Dataset, archives: Sequence[Path], progress: Progress) -> int:
    """Check what was unpacked: each folder's file count, then every photograph with its label;
    returns how many photographs."""
    given = ", ".join(str(p) for p in archives)
    for folder, expected in dataset.files:
        found = (
            sum(1 for p in (staging / folder).glob("*") if p.is_file())
            if (staging / folder).is_dir()
            else 0
        )
        if found != expected:
            raise InputError(
                f"{given}: {folder}/ of {dataset.name} would hold {counted(found, 'file')}, "
                f"expected {expected} (an archive missing, incomplete, or not the publisher's)"
            )
    photos = find_dataset(staging, dataset.layout).photos
    if len(photos) != dataset.photographs:
        raise InputError(
            f"{given}: {counted(len(photos), 'labelled photograph')} of {dataset.name}, expected "
            f"{dataset.photographs}"
        )
    for done, photo in enumerate(photos, 1):
        try:
            load_labelled(photo)
        except InputError as exc:  # named by the archives and the member, not the staging path
            raise InputError(f"{given}: {str(exc).replace(f'{staging}{os.sep}', '')}") from None
        progress("checking photographs", done, len(photos))
    return len(photos)


def _install(staging: Path, target: Path) -> None:
    """Move the checked dataset into place; the downloads it came from go."""
    try:
        if target.is_dir():
            shutil.rmtree(target / PARTIAL, ignore_errors=True)
            target.rmdir()
        os.rename(staging, target)
    except OSError as exc:
        raise OutputError(f"{target}: cannot be put in place ({exc.strerror or exc})") from None
