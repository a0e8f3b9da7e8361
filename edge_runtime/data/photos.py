"""Folders of labelled photographs: the layouts of the public vessel datasets, and our own.

A dataset is a folder of photographs, each with a hand-drawn vessel map (the label: non-zero =
vessel) and optionally a field-of-view mask (non-zero = inside); without one, the runtime's own
field-of-view detection decides. Layouts, detected in this order (or named):

- ``drive``: ``images/NN_test.tif`` or ``NN_training.tif``, ``1st_manual/NN_manual1.gif``,
  ``mask/NN_test_mask.gif``; or ``training/`` and ``test/`` folders holding that layout;
- ``stare``: ``stare-images/imNNNN.png`` (or ``.ppm``), ``labels-ah/imNNNN.ah.png``;
- ``hrf``: ``images/NN_h.jpg``, ``manual1/NN_h.tif``, ``mask/NN_h_mask.tif``;
- ``chase``: ``Image_NNx.jpg`` with ``Image_NNx_1stHO.png``, in the folder or folders below it;
- ``generic``: ``images/``, ``labels/`` and optional ``masks/``, files matched by stem, any
  format Pillow reads.

Every problem (no photographs, a missing label, sizes that differ, an unreadable file) is an
:class:`~edge_runtime.errors.InputError` naming the file.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from edge_runtime.errors import InputError
from edge_runtime.pipeline.decode import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    ORIENTATION,
    Photo,
    load_photo,
)
from edge_runtime.safe_open import open_regular

DATASET_SUFFIXES = (*IMAGE_SUFFIXES, ".gif")
"""File name endings of a dataset's images (DRIVE's labels and masks are GIFs)."""


@dataclass(frozen=True)
class LabelledPhoto:
    """One photograph of a dataset: its files (``mask`` is ``None`` without one)."""

    name: str
    image: Path
    label: Path
    mask: Path | None = None


@dataclass(frozen=True)
class PhotoDataset:
    """The labelled photographs of a folder, sorted by name."""

    root: Path
    layout: str
    photos: tuple[LabelledPhoto, ...]


@dataclass(frozen=True)
class LoadedPhoto:
    """A labelled photograph read: its pixels (see :class:`Photo`), the vessel label and the
    field of view (``None``: detect it), both boolean at the photograph's own size."""

    name: str
    photo: Photo
    label: np.ndarray
    fov: np.ndarray | None


def _files(folder: Path) -> dict[str, Path]:
    """Image files of a folder by lower-cased name (empty when there is no such folder)."""
    if not folder.is_dir():
        return {}
    return {
        p.name.lower(): p
        for p in folder.iterdir()
        if p.suffix.lower() in DATASET_SUFFIXES and not p.name.startswith(".")
    }


def _drive(root: Path) -> list[LabelledPhoto]:
    parts = [root / "training", root / "test"]
    if any((part / "1st_manual").is_dir() for part in parts):
        return [photo for part in parts for photo in _drive(part)]
    labels, masks = _files(root / "1st_manual"), _files(root / "mask")
    photos = []
    for name, image in sorted(_files(root / "images").items()):
        number, _, kind = Path(name).stem.partition("_")  # 21_training, 01_test
        label = labels.get(f"{number}_manual1.gif")
        mask = masks.get(f"{number}_{kind}_mask.gif")
        photos.append(_photo(f"{number}_{kind}", image, label, mask, root / "1st_manual"))
    return photos


def _stare(root: Path) -> list[LabelledPhoto]:
    labels = _files(root / "labels-ah")
    photos = []
    for name, image in sorted(_files(root / "stare-images").items()):
        stem = Path(name).stem
        label = labels.get(f"{stem}.ah{image.suffix.lower()}") or next(
            (p for key, p in labels.items() if key.startswith(f"{stem}.ah.")), None
        )
        photos.append(_photo(stem, image, label, None, root / "labels-ah"))
    return photos


def _hrf(root: Path) -> list[LabelledPhoto]:
    labels, masks = _files(root / "manual1"), _files(root / "mask")
    photos = []
    for name, image in sorted(_files(root / "images").items()):
        stem = Path(name).stem
        label = next((p for key, p in labels.items() if Path(key).stem == stem), None)
        mask = next((p for key, p in masks.items() if Path(key).stem == f"{stem}_mask"), None)
        photos.append(_photo(stem, image, label, mask, root / "manual1"))
    return photos


def _chase(root: Path) -> list[LabelledPhoto]:
    found = {p.name.lower(): p for p in root.rglob("*") if p.name.lower().startswith("image_")}
    photos = []
    for name, image in sorted(found.items()):
        if image.suffix.lower() != ".jpg":
            continue
        stem = Path(name).stem
        photos.append(_photo(stem, image, found.get(f"{stem}_1stho.png"), None, root))
    return photos


def _generic(root: Path) -> list[LabelledPhoto]:
    labels, masks = _files(root / "labels"), _files(root / "masks")
    by_stem = {Path(k).stem: p for k, p in labels.items()}
    masks_by_stem = {Path(k).stem: p for k, p in masks.items()}
    return [
        _photo(Path(name).stem, image, by_stem.get(Path(name).stem),
               masks_by_stem.get(Path(name).stem), root / "labels")
        for name, image in sorted(_files(root / "images").items())
    ]  # fmt: skip


def _photo(
    name: str, image: Path, label: Path | None, mask: Path | None, where: Path
) -> LabelledPhoto:
    if label is None:
        raise InputError(f"{image}: no label for this photograph in {where}")
    return LabelledPhoto(name, image, label, mask)


LAYOUTS: dict[str, tuple[Callable[[Path], bool], Callable[[Path], list[LabelledPhoto]]]] = {
    "drive": (
        lambda r: any((r / d / "1st_manual").is_dir() for d in ("", "training", "test")),
        _drive,
    ),
    "stare": (lambda r: (r / "stare-images").is_dir(), _stare),
    "hrf": (lambda r: (r / "manual1").is_dir(), _hrf),
    "chase": (lambda r: any(r.rglob("*_1stHO.png")), _chase),
    "generic": (lambda r: (r / "images").is_dir() and (r / "labels").is_dir(), _generic),
}
"""Each layout: how to recognise it, and how to list its photographs."""


def find_dataset(root: str | Path, layout: str | None = None) -> PhotoDataset:
    """The labelled photographs of a folder, in the named layout or the first that fits.

    Raises:
        InputError: not a folder, no layout fits, a photograph without a label, or none found.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of labelled photographs")
    if layout is None:
        layout = next((name for name, (fits, _) in LAYOUTS.items() if fits(root)), None)
        if layout is None:
            raise InputError(
                f"{root}: no labelled photographs found (layouts: {', '.join(LAYOUTS)}; "
                "see edge_runtime/data/photos.py)"
            )
    elif layout not in LAYOUTS:
        raise ValueError(f"got layout {layout!r}, expected one of {', '.join(LAYOUTS)}")
    try:
        photos = LAYOUTS[layout][1](root)
    except OSError as exc:
        raise InputError(f"{root}: cannot be listed ({exc.strerror or exc})") from None
    if not photos:
        raise InputError(f"{root}: no photographs found in the {layout} layout")
    return PhotoDataset(root, layout, tuple(photos))


def read_binary(path: Path, shape: tuple[int, int], what: str) -> np.ndarray:
    """A label or mask image as a boolean (H, W) array (non-zero colour = True; alpha is
    ignored), turned upright by its EXIF orientation like the photograph, and checked to be the
    photograph's ``shape``.

    Raises:
        InputError: unreadable, or not the photograph's size.
    """
    try:
        with open_regular(path, f"a {what} image") as f, Image.open(f) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InputError(f"{path}: {width}x{height} pixels is larger than any photograph")
            if image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):
                width, height = height, width
            if (height, width) != tuple(shape):
                raise InputError(
                    f"{path}: {width}x{height} pixels, but the photograph is {shape[1]}x{shape[0]}"
                )
            image = ImageOps.exif_transpose(image)
            if image.mode in ("P", "PA") or image.mode.endswith(("A", "a")):
                image = image.convert("RGB")
            array = np.asarray(image)
    except InputError:
        raise
    except Exception as exc:  # malformed bytes make Pillow raise almost anything
        raise InputError(f"{path}: cannot read the {what} ({exc})") from None
    return array.any(axis=2) if array.ndim == 3 else array > 0


def load_labelled(photo: LabelledPhoto) -> LoadedPhoto:
    """Read one labelled photograph.

    Raises:
        InputError: any of its files cannot be read, or their sizes differ.
    """
    pixels = load_photo(photo.image)
    label = read_binary(photo.label, pixels.shape, "label")
    fov = None if photo.mask is None else read_binary(photo.mask, pixels.shape, "mask")
    return LoadedPhoto(photo.name, pixels, label, fov)


def held_out(dataset: PhotoDataset, fraction: float | None) -> PhotoDataset:
    """The photographs of ``dataset`` that ``train --holdout FRACTION`` held out (all of them
    when ``fraction`` is ``None`` or 0)."""
    if not fraction:
        return dataset
    keep = photo_holdout(len(dataset.photos), fraction)
    return dataclasses.replace(dataset, photos=tuple(dataset.photos[i] for i in keep))


def photo_holdout(count: int, fraction: float) -> np.ndarray:
    """Indices of the photographs held out: ``fraction`` of ``count`` (at least one when the
    fraction is above 0 and there are two or more), spread evenly over the sorted names."""
    if fraction <= 0 or count < 2:
        return np.zeros(0, dtype=np.int64)
    held = min(count - 1, max(1, round(count * fraction)))
    return np.unique(((np.arange(held) + 0.5) * count / held).astype(np.int64))
