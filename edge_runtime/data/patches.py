"""Load and validate labeled patch sets stored in the reference ``.npz`` format.

The format holds ``x_train`` (N, 64, 64) grayscale patches and ``y_train`` binary vessel masks of
the same shape, optionally ``x_val``/``y_val`` and unlabeled ``x_test``. Patches may carry a
trailing channel axis of 1. Every problem is raised as :class:`InputError` naming the file.
"""

import contextlib
import hashlib
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from edge_runtime.contract.holdout import holdout_indices
from edge_runtime.contract.preprocessing import PATCH_SIZE
from edge_runtime.errors import InputError, counted
from edge_runtime.safe_open import open_regular, size_and_limit

TRAIN_IMAGES, TRAIN_LABELS = "x_train", "y_train"
"""The training split's arrays: what each command reads of a patch file unless told others."""


@dataclass(frozen=True)
class PatchDataset:
    """The arrays of a reference ``.npz`` file, validated.

    Images keep their stored dtype with shape (N, 64, 64); labels are uint8 {0, 1} of the same
    shape. Optional splits are ``None`` when the file does not have them.
    """

    path: Path
    sha256: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    x_test: np.ndarray | None = None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


NPZ_MAGIC, NPY_MAGIC = b"PK", b"\x93NUMPY"
"""How an .npz file (a zip, empty or not) and a single array's .npy file begin."""

MAX_ARRAY_BYTES = 2**30
"""Largest array read from an .npz file (1 GiB: about 65,000 float32 patches); the declared
shapes, sizes and counts of all the arrays read are checked before any of them is inflated."""

_READ_ERRORS = (ValueError, OSError, zipfile.BadZipFile, EOFError, zlib.error, KeyError,
                SyntaxError, tokenize.TokenError, NotImplementedError)  # fmt: skip
"""What numpy and zipfile raise for damaged bytes (a damaged array header is parsed as Python
literals, hence the syntax errors; a damaged zip header can claim a version zipfile lacks)."""


def _refuse_another_kind(f: BinaryIO, path: Path) -> None:
    """Refuse the file ``f`` (at ``path``, read from its start) unless it begins as an .npz
    (or an .npy) file does."""
    if not f.read(len(NPY_MAGIC)).startswith((NPZ_MAGIC, NPY_MAGIC)):
        raise InputError(
            f"{path}: not an .npz file (numpy's zip of arrays); labelled photographs are "
            "given as their folder"
        )
    f.seek(0)


def check_npz_file(path: Path) -> None:
    """Refuse ``path`` as an .npz file before its arrays are read: not a readable regular file,
    or not begun as one (a photograph given where its folder is meant).

    Raises:
        InputError: naming the file and the problem.
    """
    with open_regular(path, "an .npz file") as f:
        _refuse_another_kind(f, path)


@contextlib.contextmanager
def _open_npz(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    with open_regular(path, "an .npz file") as f:
        _refuse_another_kind(f, path)
        try:
            npz = np.load(f, allow_pickle=False)
        except _READ_ERRORS as exc:
            raise InputError(f"{path}: not a readable .npz file ({exc})") from None
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise InputError(f"{path}: holds a single array (.npy), expected an .npz file")
        with npz:
            yield npz


def _declared(path: Path, npz: np.lib.npyio.NpzFile, key: str) -> int:
    """The number of patches an array declares, checked from its header and its zip entry
    before anything is inflated: patches of real numbers, at most :data:`MAX_ARRAY_BYTES`, in
    an entry whose declared uncompressed size is what the header makes it."""
    if key not in npz.files:
        raise InputError(f"{path}: missing array '{key}' (has: {', '.join(sorted(npz.files))})")
    try:
        with npz.zip.open(f"{key}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            header_bytes, stored = member.tell(), npz.zip.getinfo(f"{key}.npy").file_size
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: array '{key}' cannot be read ({exc})") from None
    _check_patch_shape(path, key, shape)
    if dtype.hasobject or not (dtype.kind == "b" or np.issubdtype(dtype, np.number)):
        raise InputError(f"{path}: '{key}' has dtype {dtype}, expected real numbers")
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size > MAX_ARRAY_BYTES:
        declared, limit = size_and_limit(size, MAX_ARRAY_BYTES)
        raise InputError(f"{path}: '{key}' declares {declared}, more than the {limit} allowed")
    if stored - header_bytes != size:
        raise InputError(
            f"{path}: '{key}' holds {stored - header_bytes:,} bytes of data, "
            f"expected {size:,} for its shape {tuple(shape)} and dtype {dtype}"
        )
    return shape[0]


def _check_declared(
    path: Path, npz: np.lib.npyio.NpzFile, pairs: list[tuple[str, str]], others: list[str]
) -> None:
    """Every array about to be read (:func:`_declared`), and each labels array declaring a mask
    for each patch of its images array, before any of them is inflated."""
    for images_key, labels_key in pairs:
        n, masks = _declared(path, npz, images_key), _declared(path, npz, labels_key)
        _check_counts(path, images_key, n, labels_key, masks)
    for key in others:
        _declared(path, npz, key)


def _check_counts(path: Path, images_key: str, n: int, labels_key: str, masks: int) -> None:
    if masks != n:
        raise InputError(
            f"{path}: '{labels_key}' has {counted(masks, 'mask')} but '{images_key}' has "
            f"{counted(n, 'patch', 'patches')}"
        )


def _read(path: Path, npz: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    """An array of the file, its header checked (:func:`_declared`) before it is inflated."""
    _declared(path, npz, key)
    try:
        return npz[key]
    except _READ_ERRORS as exc:
        raise InputError(f"{path}: array '{key}' cannot be read ({exc})") from None


def _check_patch_shape(path: Path, key: str, shape: tuple[int, ...]) -> None:
    side = (PATCH_SIZE, PATCH_SIZE)
    if (
        not (len(shape) == 3 or (len(shape) == 4 and shape[-1] == 1))
        or tuple(shape[1:3]) != side
        or shape[0] == 0
    ):
        raise InputError(
            f"{path}: '{key}' has shape {tuple(shape)}, "
            f"expected (N, {PATCH_SIZE}, {PATCH_SIZE}) or (N, {PATCH_SIZE}, {PATCH_SIZE}, 1), N > 0"
        )


def select_holdout(path: Path, n: int, fraction: float | None) -> np.ndarray:
    """:func:`~edge_runtime.contract.holdout.holdout_indices` of a file's ``n`` patches, with a
    one-line error naming the file when the fraction is out of range."""
    try:
        return holdout_indices(n, fraction)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None


def _check_images(path: Path, key: str, x: np.ndarray) -> np.ndarray:
    _check_patch_shape(path, key, x.shape)
    if x.ndim == 4:
        x = x[..., 0]
    if not (x.dtype == bool or np.issubdtype(x.dtype, np.number)) or np.iscomplexobj(x):
        raise InputError(f"{path}: '{key}' has dtype {x.dtype}, expected real numbers")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise InputError(f"{path}: '{key}' has {bad} non-finite values (NaN or inf)")
    if np.issubdtype(x.dtype, np.floating) and x.size:
        low, high = x.min(axis=(-2, -1)), x.max(axis=(-2, -1))
        with np.errstate(over="ignore"):
            wide = np.flatnonzero(~np.isfinite(high.astype(np.float64) - low))
        if len(wide):  # its stretch would divide inf by inf
            first = wide[0]
            raise InputError(
                f"{path}: '{key}' patch {first} spans {low.flat[first]:g} to "
                f"{high.flat[first]:g}, wider than a 64-bit float holds"
            )
    return x


def _check_labels(path: Path, key: str, y: np.ndarray, images_key: str, n: int) -> np.ndarray:
    y = _check_images(path, key, y)
    _check_counts(path, images_key, n, key, len(y))
    values = np.unique(y)
    if not np.isin(values, (0, 1)).all():
        shown = ", ".join(str(v) for v in values[~np.isin(values, (0, 1))][:5])
        raise InputError(f"{path}: '{key}' is not binary: found values {shown}, expected 0 and 1")
    if not (values == 1).any():  # every Dice would be 1 or 0: a score or gate measures nothing
        raise InputError(f"{path}: '{key}' holds no vessel pixel, expected labelled vessels")
    return y.astype(np.uint8)


def _read_pair(
    path: Path, npz: np.lib.npyio.NpzFile, images_key: str, labels_key: str
) -> tuple[np.ndarray, np.ndarray]:
    x = _check_images(path, images_key, _read(path, npz, images_key))
    y = _check_labels(path, labels_key, _read(path, npz, labels_key), images_key, len(x))
    return x, y


def load_patches(path: str | Path, key: str) -> np.ndarray:
    """Load one validated image array (N, 64, 64) from an ``.npz`` file."""
    path = Path(path)
    with _open_npz(path) as npz:
        return _check_images(path, key, _read(path, npz, key))


def load_labeled_patches(
    path: str | Path, images_key: str, labels_key: str
) -> tuple[np.ndarray, np.ndarray]:
    """Load validated patches (N, 64, 64) and their uint8 {0,1} masks from an ``.npz`` file."""
    path = Path(path)
    with _open_npz(path) as npz:
        _check_declared(path, npz, [(images_key, labels_key)], [])
        return _read_pair(path, npz, images_key, labels_key)


def load_dataset(path: str | Path) -> PatchDataset:
    """Load a reference ``.npz`` file: x_train/y_train, optional x_val/y_val and x_test.

    Raises:
        InputError: the file is missing or unreadable, a required array is missing, shapes or
            lengths do not match, values are not finite, labels are not binary, or only one of
            ``x_val``/``y_val`` is present.
    """
    path = Path(path)
    with _open_npz(path) as npz:
        present = set(npz.files)
        if ("x_val" in present) != ("y_val" in present):
            raise InputError(
                f"{path}: has only one of 'x_val' and 'y_val', expected both or neither"
            )
        validation = [("x_val", "y_val")] if "x_val" in present else []
        pairs = [(TRAIN_IMAGES, TRAIN_LABELS), *validation]
        _check_declared(path, npz, pairs, ["x_test"] if "x_test" in present else [])
        x_train, y_train = _read_pair(path, npz, TRAIN_IMAGES, TRAIN_LABELS)
        x_val, y_val = (
            _read_pair(path, npz, "x_val", "y_val") if "x_val" in present else (None, None)
        )
        x_test = (
            _check_images(path, "x_test", _read(path, npz, "x_test"))
            if "x_test" in present
            else None
        )
    return PatchDataset(path, file_sha256(path), x_train, y_train, x_val, y_val, x_test)


SEAM_RATIO = 3.0
SEAM_LEVELS = 3.0
"""Consecutive patches are not neighbours when their touching columns differ by more than
``SEAM_RATIO`` times the median step between neighbouring columns inside a patch, plus
``SEAM_LEVELS`` grey levels."""


def horizontal_runs(images: np.ndarray, min_length: int = 3) -> list[range]:
    """Runs of consecutive patches (N, H, W) that continue each other left to right.

    The reference patches are tiles of photographs stored row by row, so consecutive patches
    usually sit side by side. A seam is where a patch's right column and the next patch's left
    column differ far more than neighbouring columns inside patches do (:data:`SEAM_RATIO`,
    :data:`SEAM_LEVELS`). Used to rebuild wide labeled strips for measuring stitching.
    """
    x = np.asarray(images, dtype=np.float32)
    seam = np.abs(x[:-1, :, -1] - x[1:, :, 0]).mean(axis=1)
    inner = float(np.median(np.abs(x[:, :, -1] - x[:, :, -2]).mean(axis=1)))
    starts = np.r_[0, np.flatnonzero(seam > SEAM_RATIO * inner + SEAM_LEVELS) + 1]
    stops = np.r_[starts[1:], len(x)]
    return [range(a, b) for a, b in zip(starts, stops, strict=True) if b - a >= min_length]
