"""Folders of labelled photographs: the layouts of the public vessel datasets, and our own.

A dataset is a folder of photographs, each with a hand-drawn vessel map (the label: non-zero =
vessel) and optionally a field-of-view mask (non-zero = inside); without one, the runtime's own
field-of-view detection decides. Layouts, detected in this order (or named):

- ``drive``: ``images/NN_test.tif`` or ``NN_training.tif`` (no other names),
  ``1st_manual/NN_manual1.gif``, ``mask/NN_test_mask.gif``, optional artery/vein labels
  ``AV/NN_test.png`` (RITE); and ``training/`` and ``test/`` folders holding that layout (a
  photograph at the top level that is one of theirs copied, its labels and mask too, is read
  once);
- ``stare``: ``stare-images/imNNNN.png`` (or ``.ppm``), ``labels-ah/imNNNN.ah.png``;
- ``hrf``: ``images/NN_h.jpg``, ``manual1/NN_h.tif``, ``mask/NN_h_mask.tif``;
- ``chase``: ``Image_NNx.jpg`` with ``Image_NNx_1stHO.png``, in the folder or folders below it;
- ``generic``: ``images/``, ``labels/``, optional ``masks/`` and ``labels-av/`` (artery/vein
  labels, :mod:`~edge_runtime.data.artery_vein`), files matched by stem, any format Pillow
  reads.

File names are matched without regard to letter case, and labels and masks by their names
less the ending (any image format; the names above are the sets' own). A name that does not
match exactly one file is never settled by a guess: a photograph without a label, with two
(``p05.gif`` beside ``p05.png``, ``P05.png`` beside ``p05.png``), two masks or two artery/vein
labels, photographs sharing a name (another format, another letter case, another folder) or a
label (DRIVE names it by the number alone), and a photograph without a mask where others have
one, are each listed with the problem, which loading them raises, so that the other
photographs can still be used.

Every problem is an :class:`~edge_runtime.errors.InputError` naming the file: a folder without
photographs, or one of them that cannot be used (the problems above, a file that cannot be
read, sizes that differ, a mask with no pixel inside, a label with no vessel pixel inside the
mask: nothing to score).
"""

import contextlib
import dataclasses
import filecmp
import os
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import numpy as np

from edge_runtime.contract.evaluation_record import SUMMARY_ROWS
from edge_runtime.data.binary_image import as_binary, as_field_mask
from edge_runtime.data.label_image import read_label_image
from edge_runtime.data.vessel_share import check_inside, check_not_speckle, check_share
from edge_runtime.errors import InputError, one_line
from edge_runtime.pipeline.decode import (
    IMAGE_SUFFIXES,
    Photo,
    load_photo,
    stored_orientation,
    turned_a_quarter,
)

DATASET_SUFFIXES = (*IMAGE_SUFFIXES, ".gif")
"""File name endings of a dataset's images (DRIVE's labels and masks are GIFs)."""


@dataclass(frozen=True)
class LabelledPhoto:
    """One photograph of a dataset: its ``name``, its file's stem as written (what eval's
    records and summaries name it by, so that they join with segment's on the name; its files
    are matched whatever the letter case), its files (``mask`` and ``artery_vein`` are ``None``
    without one), or in ``problem`` why it cannot be used (then ``label``, ``mask`` and
    ``artery_vein`` may be ``None``), which :func:`load_labelled` raises.

    ``artery_vein_problem`` says why its artery/vein label cannot be used (two of them), while
    the photograph itself can: only what scores or learns arteries and veins refuses it.
    """

    name: str
    image: Path
    label: Path | None
    mask: Path | None = None
    problem: str | None = None
    artery_vein: Path | None = None
    artery_vein_problem: str | None = None

    @property
    def has_artery_vein(self) -> bool:
        """Whether an artery/vein label was given for it (usable or not)."""
        return self.artery_vein is not None or self.artery_vein_problem is not None

    def artery_vein_label(self) -> Path:
        """Its artery/vein label.

        Raises:
            InputError: it has none, or not one it can be scored against.
        """
        if self.artery_vein is None:
            raise InputError(self.artery_vein_problem or f"{self.image}: no artery/vein label")
        return self.artery_vein


def folder_name(root: str | Path) -> str:
    """A dataset folder's name, as the gates' reports and a run's record name its photographs'
    folder: that of its absolute path (``.`` goes by its own)."""
    return Path(os.path.abspath(root)).name


@dataclass(frozen=True)
class PhotoDataset:
    """The labelled photographs of a folder, sorted by name."""

    root: Path
    layout: str
    photos: tuple[LabelledPhoto, ...]
    unmatched: tuple[Path, ...] = ()
    """Files of its label, mask and artery/vein label folders that match no photograph's name
    (a misnamed label, one whose photograph is missing): read by nothing."""

    @property
    def name(self) -> str:
        """The folder's name (:func:`folder_name`)."""
        return folder_name(self.root)

    def warn_of_unmatched(self) -> None:
        """Warn of each of :attr:`unmatched`, which whatever reads the dataset leaves unread."""
        for path in self.unmatched:
            unread = f"{path}: matches no photograph's name, so nothing reads it"
            warnings.warn(unread, stacklevel=1)  # one place: said once whoever lists it


@dataclass(frozen=True)
class LoadedPhoto:
    """A labelled photograph read: its pixels (see :class:`Photo`), the vessel label and the
    field of view (``None``: detect it), both boolean at the photograph's own size."""

    name: str
    photo: Photo
    label: np.ndarray
    fov: np.ndarray | None


def _listed(folder: Path) -> list[Path]:
    """Image files of a folder (anything named like one: a directory so named fails when it is
    read), sorted by lower-cased name; empty when there is no such folder."""
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.iterdir()
        if p.suffix.lower() in DATASET_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(found, key=lambda p: (p.name.lower(), p.name))


def _by(key: Callable[[Path], str], paths: Iterable[Path]) -> dict[str, list[Path]]:
    """Files grouped by a lower-cased key of their names: every file a key matches, so that
    two files for one key are seen, not one of them silently kept."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        groups[key(path).lower()].append(path)
    return groups


_STEM = attrgetter("stem")

DRIVE_KINDS = ("test", "training")
"""What follows the number in a DRIVE photograph's name: its label is named by the number alone,
so any other name would be paired with it by a guess."""

CHASE_LABELS = ("_1stho", "_2ndho")
"""Endings of CHASE_DB1's label names (the first observer's is scored)."""

_CHASE_NAME = re.compile(r"image_\d{2}[lr](?:_1stho|_2ndho)?")
"""CHASE_DB1's photographs and labels, lower-cased stems: Image_01L, Image_01L_1stHO; nothing
else under its folder (``eval --report``'s pictures, ``segment``'s masks) is read as one."""


def _listing(paths: list[Path]) -> str:
    return " and ".join(str(p) for p in paths)


def _photo(
    name: str,
    image: Path,
    labels: list[Path],
    masks: list[Path],
    label_name: Path,
    artery_veins: Sequence[Path] = (),
) -> LabelledPhoto:
    """A photograph with the labels, masks and artery/vein labels its name matches: exactly one
    label (named ``label_name``, any image format) and at most one of the others, else the
    problem (the artery/vein problem, when only its artery/vein labels are two or more)."""
    if not labels:
        problem = f"{image}: no label for this photograph (expected {label_name}.*)"
        return LabelledPhoto(name, image, None, problem=problem)
    problems = {
        what: f"{image}: got {len(found)} {what} for it ({_listing(found)}), expected one"
        for what, found in (
            ("labels", labels),
            ("masks", masks),
            ("artery/vein labels", artery_veins),
        )
        if len(found) > 1
    }
    if "labels" in problems or "masks" in problems:
        return LabelledPhoto(name, image, None, problem=next(iter(problems.values())))
    return LabelledPhoto(
        name,
        image,
        labels[0],
        masks[0] if masks else None,
        artery_vein=artery_veins[0] if len(artery_veins) == 1 else None,
        artery_vein_problem=problems.get("artery/vein labels"),
    )


def _drive_parts(root: Path) -> list[Path]:
    """The folders of a DRIVE copy that hold its layout: the top level, and its ``training/``
    and ``test/`` folders when it is split so (a photograph in any of them is read; one at the
    top level copied from one of theirs, with its labels and mask, once)."""
    parts = [root / "training", root / "test"]
    return [root, *parts] if any((part / "1st_manual").is_dir() for part in parts) else [root]


def _drive(root: Path) -> list[LabelledPhoto]:
    top, *split = _drive_parts(root)
    photos = [photo for part in split for photo in _drive_part(part)]
    theirs = {photo.name.lower(): photo for photo in photos}  # a copy of one is read once
    return [p for p in _drive_part(top) if not _same_files(p, theirs.get(p.name.lower()))] + photos


def _same_files(photo: LabelledPhoto, other: LabelledPhoto | None) -> bool:
    """Whether ``other`` is ``photo`` copied: its photograph, label, mask and artery/vein label
    the same bytes (DRIVE's top level holding its ``training/`` and ``test/`` merged); one
    with artery/vein labels it cannot use (two) is not one without."""
    if other is None or photo.has_artery_vein != other.has_artery_vein:
        return False
    pairs = [
        (getattr(photo, f), getattr(other, f)) for f in ("image", "label", "mask", "artery_vein")
    ]
    with contextlib.suppress(OSError):
        return all(
            (mine is None) == (theirs is None)
            and (mine is None or filecmp.cmp(mine, theirs, shallow=False))
            for mine, theirs in pairs
        )
    return False


def _drive_part(root: Path) -> list[LabelledPhoto]:
    labels, masks = _by(_STEM, _listed(root / "1st_manual")), _by(_STEM, _listed(root / "mask"))
    artery_veins = _by(_STEM, _listed(root / "AV"))  # RITE: AV/01_test.png
    photos = []
    for image in _listed(root / "images"):
        key = image.stem.lower()
        number, _, kind = key.partition("_")  # 21_training, 01_test
        if not number.isdigit() or kind not in DRIVE_KINDS:
            problem = f"{image}: not a DRIVE photograph's name (NN_test or NN_training)"
            photos.append(LabelledPhoto(image.stem, image, None, problem=problem))
            continue
        photos.append(
            _photo(
                image.stem,
                image,
                labels.get(f"{number}_manual1", []),
                masks.get(f"{key}_mask", []),
                root / "1st_manual" / f"{number}_manual1",
                artery_veins.get(key, []),
            )
        )
    return photos


def _stare(root: Path) -> list[LabelledPhoto]:
    labels = _by(_STEM, _listed(root / "labels-ah"))  # im0001.ah.png: stem im0001.ah
    photos = []
    for image in _listed(root / "stare-images"):
        label = root / "labels-ah" / f"{image.stem}.ah"
        photos.append(
            _photo(image.stem, image, labels.get(f"{image.stem.lower()}.ah", []), [], label)
        )
    return photos


def _hrf(root: Path) -> list[LabelledPhoto]:
    labels, masks = _by(_STEM, _listed(root / "manual1")), _by(_STEM, _listed(root / "mask"))
    photos = []
    for image in _listed(root / "images"):
        key = image.stem.lower()
        label, mask = labels.get(key, []), masks.get(f"{key}_mask", [])
        photos.append(_photo(image.stem, image, label, mask, root / "manual1" / image.stem))
    return photos


def _chase_files(root: Path) -> Iterator[Path]:
    """The image files under ``root`` named as CHASE_DB1's photographs and labels are."""
    for path in root.rglob("*"):
        if path.suffix.lower() in DATASET_SUFFIXES and _CHASE_NAME.fullmatch(path.stem.lower()):
            yield path


def _chase_sorted(root: Path) -> list[Path]:
    """:func:`_chase_files`, sorted by lower-cased name (then path)."""
    return sorted(_chase_files(root), key=lambda p: (p.name.lower(), str(p)))


def _chase(root: Path) -> list[LabelledPhoto]:
    found = _chase_sorted(root)
    labels = _by(_STEM, found)
    photos = []
    for image in found:
        key = image.stem.lower()
        if not key.endswith(CHASE_LABELS):
            label = image.with_name(f"{image.stem}_1stHO")
            photos.append(_photo(image.stem, image, labels.get(f"{key}_1stho", []), [], label))
    return photos


def _generic(root: Path) -> list[LabelledPhoto]:
    labels, masks = _by(_STEM, _listed(root / "labels")), _by(_STEM, _listed(root / "masks"))
    artery_veins = _by(_STEM, _listed(root / "labels-av"))
    photos = []
    for image in _listed(root / "images"):
        key = image.stem.lower()
        label, mask = labels.get(key, []), masks.get(key, [])
        expected = root / "labels" / image.stem
        photos.append(_photo(image.stem, image, label, mask, expected, artery_veins.get(key, [])))
    return photos


def _unmatched(names: set[str], files: Iterable[Path], ending: str = "") -> list[Path]:
    """The ``files`` whose lower-cased stem, less ``ending``, is none of ``names``."""
    return [p for p in files if p.stem.lower().removesuffix(ending) not in names]


def _names(folder: Path) -> set[str]:
    """The lower-cased stems of a folder's image files."""
    return {image.stem.lower() for image in _listed(folder)}


def _drive_unmatched(root: Path) -> list[Path]:
    """DRIVE's labels (by the photograph's number), masks and artery/vein labels of no
    photograph."""
    return [path for part in _drive_parts(root) for path in _drive_part_unmatched(part)]


def _drive_part_unmatched(root: Path) -> list[Path]:
    names = _names(root / "images")
    numbers = {name.partition("_")[0] for name in names}
    return [
        *_unmatched(numbers, _listed(root / "1st_manual"), "_manual1"),
        *_unmatched(names, _listed(root / "mask"), "_mask"),
        *_unmatched(names, _listed(root / "AV")),
    ]


def _stare_unmatched(root: Path) -> list[Path]:
    """STARE's labels of no photograph."""
    return _unmatched(_names(root / "stare-images"), _listed(root / "labels-ah"), ".ah")


def _hrf_unmatched(root: Path) -> list[Path]:
    """HRF's labels and masks of no photograph."""
    names = _names(root / "images")
    return [
        *_unmatched(names, _listed(root / "manual1")),
        *_unmatched(names, _listed(root / "mask"), "_mask"),
    ]


def _chase_unmatched(root: Path) -> list[Path]:
    """CHASE_DB1's first observer's labels of no photograph (the second's are never read)."""
    found = _chase_sorted(root)
    names = {p.stem.lower() for p in found if not p.stem.lower().endswith(CHASE_LABELS)}
    scored = [p for p in found if p.stem.lower().endswith(CHASE_LABELS[0])]
    return _unmatched(names, scored, CHASE_LABELS[0])


def _generic_unmatched(root: Path) -> list[Path]:
    """The generic layout's labels, masks and artery/vein labels named as no photograph is."""
    names = _names(root / "images")
    folders = ("labels", "masks", "labels-av")
    return [path for f in folders for path in _unmatched(names, _listed(root / f))]


def _one_per_name(photos: list[LabelledPhoto]) -> list[LabelledPhoto]:
    """The photographs, those that share a name (another format, another letter case, another
    folder), or are named as a row of eval's summaries is (:data:`SUMMARY_ROWS`), each with
    that problem: a name must say which photograph a score is of."""
    images: dict[str, list[Path]] = defaultdict(list)
    for photo in photos:
        images[photo.name.lower()].append(photo.image)
    unique = []
    for photo in photos:
        same = images[photo.name.lower()]
        problem = None
        if len(same) > 1:
            problem = (
                f"{photo.image}: got {len(same)} photographs named {photo.name!r} "
                f"({_listing(same)}), expected one"
            )
        elif SUMMARY_ROWS.fullmatch(photo.name.lower()):  # (MEAN OF 2) too, as names compare
            problem = (
                f"{photo.image}: named {photo.name!r}, as eval's summaries name a row of means "
                "(its scores could not be told from theirs): rename it"
            )
        if problem:
            photo = LabelledPhoto(photo.name, photo.image, None, problem=problem)
        unique.append(photo)
    return unique


def _with_their_own_files(photos: list[LabelledPhoto]) -> list[LabelledPhoto]:
    """The photographs, each with a problem where its label is also another's (a label is drawn
    on one photograph), or where it has no mask while others have one (its field of view would
    be detected, not given, unlike theirs)."""
    users: dict[Path, list[Path]] = defaultdict(list)
    for photo in photos:
        if photo.label is not None:
            users[photo.label].append(photo.image)
    masked = any(photo.mask is not None for photo in photos)
    checked = []
    for photo in photos:
        problem = None
        if photo.label is not None and len(users[photo.label]) > 1:
            others = [image for image in users[photo.label] if image != photo.image]
            problem = (
                f"{photo.image}: its label {photo.label} is also {_listing(others)}'s, "
                "expected a label of its own"
            )
        elif photo.label is not None and photo.mask is None and masked:
            problem = (
                f"{photo.image}: no field-of-view mask for this photograph, while others have "
                "one (its field would be detected, theirs given)"
            )
        if problem:
            photo = LabelledPhoto(photo.name, photo.image, None, problem=problem)
        checked.append(photo)
    return checked


@dataclass(frozen=True)
class Layout:
    """A dataset layout: how to recognise a folder in it, how to list its photographs, and its
    file names in plain words (``edge-seg eval --help`` and the errors show them)."""

    fits: Callable[[Path], bool]
    photos: Callable[[Path], list[LabelledPhoto]]
    files: str
    unmatched: Callable[[Path], list[Path]]


LAYOUTS: dict[str, Layout] = {
    "drive": Layout(
        lambda r: any((r / d / "1st_manual").is_dir() for d in ("", "training", "test")),
        _drive,
        "images/NN_test.tif or NN_training.tif, 1st_manual/NN_manual1.gif, "
        "mask/NN_test_mask.gif, optional AV/NN_test.png (artery/vein) (also under training/ "
        "and test/)",
        _drive_unmatched,
    ),
    "stare": Layout(
        lambda r: (r / "stare-images").is_dir(),
        _stare,
        "stare-images/imNNNN.png, labels-ah/imNNNN.ah.png",
        _stare_unmatched,
    ),
    "hrf": Layout(
        lambda r: (r / "manual1").is_dir(),
        _hrf,
        "images/NN_h.jpg, manual1/NN_h.tif, mask/NN_h_mask.tif",
        _hrf_unmatched,
    ),
    "chase": Layout(
        lambda r: any(p.stem.lower().endswith("_1stho") for p in _chase_files(r)),
        _chase,
        "Image_NNL.jpg beside Image_NNL_1stHO.png (any subfolder)",
        _chase_unmatched,
    ),
    "generic": Layout(
        lambda r: (r / "images").is_dir() and (r / "labels").is_dir(),
        _generic,
        "images/NAME.*, labels/NAME.* (non-zero = vessel), optional masks/NAME.* (field of view) "
        "and labels-av/NAME.* (artery/vein)",
        _generic_unmatched,
    ),
}
"""The layouts a folder of labelled photographs may be in, tried in this order."""


def describe_layouts() -> str:
    """One line per layout: its name and its file names."""
    return "\n".join(f"{name}: {layout.files}" for name, layout in LAYOUTS.items())


def list_dataset(root: str | Path, layout: str | None = None) -> PhotoDataset:
    """The labelled photographs of a folder, in the named layout or the first that fits; none
    when the layout's folders hold none.

    A photograph that cannot be used (no label or two, two masks, a name it shares) is listed
    with its :attr:`LabelledPhoto.problem`.

    Raises:
        InputError: not a folder, it cannot be listed, or no layout fits.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of labelled photographs")
    if layout is None:
        layout = next((name for name, known in LAYOUTS.items() if known.fits(root)), None)
        if layout is None:
            raise InputError(
                f"{root}: no labelled photographs found in any layout ({', '.join(LAYOUTS)}; "
                "`edge-seg eval --help` lists their file names)"
            )
    elif layout not in LAYOUTS:
        raise ValueError(f"got layout {layout!r}, expected one of {', '.join(LAYOUTS)}")
    try:
        photos = LAYOUTS[layout].photos(root)
        unmatched = LAYOUTS[layout].unmatched(root)
    except OSError as exc:
        raise InputError(f"{root}: cannot be listed ({exc.strerror or exc})") from None
    checked = tuple(_with_their_own_files(_one_per_name(photos)))
    return PhotoDataset(root, layout, checked, tuple(unmatched))


def find_dataset(root: str | Path, layout: str | None = None) -> PhotoDataset:
    """:func:`list_dataset`, which must find at least one photograph.

    Raises:
        InputError: as :func:`list_dataset`, or no photograph found.
    """
    dataset = list_dataset(root, layout)
    if not dataset.photos:
        raise InputError(f"{dataset.root}: no photographs found in the {dataset.layout} layout")
    return dataset


def datasets_of_folders(paths: Iterable[Path]) -> list[PhotoDataset]:
    """The datasets of the folders among ``paths``: a folder in no layout, or a file, has none
    (what reads it refuses it in its turn)."""
    found = []
    for path in map(Path, paths):
        with contextlib.suppress(InputError):
            if path.is_dir():
                found.append(list_dataset(path))
    return found


def read_binary(path: Path, shape: tuple[int, int], what: str) -> np.ndarray:
    """A label or mask image of the photograph's ``shape``
    (:func:`~edge_runtime.data.label_image.read_label_image`) as a boolean (H, W) array:
    non-zero colour = True.

    Raises:
        InputError: as :func:`~edge_runtime.data.label_image.read_label_image`, or not a map of
            a few values (:func:`~edge_runtime.data.binary_image.as_binary`).
    """
    return as_binary(read_label_image(path, f"the {what}", shape), path, what)


def warn_if_turned_apart(photo: LabelledPhoto) -> None:
    """Warn when a photograph and its label, mask or artery/vein label are stored with EXIF
    orientations that their sizes cannot tell apart (a tool saved the label without the tag):
    each is read turned upright by its own, which is right for a label drawn on the
    photograph as shown and scores one drawn on its stored pixels turned, without a word (F1
    0.13 for DRIVE's 05 stored upside down). A quarter turn apart, a label drawn on the stored
    pixels has the other size and is refused, unless the photograph is square."""
    files = {
        "photograph": photo.image,
        "label": photo.label,
        "mask": photo.mask,
        "artery/vein label": photo.artery_vein,
    }
    found = {role: stored_orientation(path) for role, path in files.items() if path is not None}
    turn, size = found["photograph"]
    square = size is not None and size[0] == size[1]
    apart = [
        role
        for role, (other, _) in found.items()
        if other != turn and (square or turned_a_quarter(other) == turned_a_quarter(turn))
    ]
    if apart:
        said = ", ".join(f"{role} {orientation}" for role, (orientation, _) in found.items())
        warnings.warn(
            one_line(
                f"{photo.image}: its files are stored turned apart (EXIF orientation: {said}): "
                "each is read turned upright by its own, right for a label drawn on the "
                "photograph as shown, wrong for one drawn on its pixels as stored"
            ),
            stacklevel=2,
        )


def load_labelled(photo: LabelledPhoto) -> LoadedPhoto:
    """Read one labelled photograph.

    Raises:
        InputError: its problem (see :func:`find_dataset`), any of its files cannot be read,
            their sizes differ, its mask has no pixel inside or its label no vessel pixel
            (inside the mask): metrics on it would be undefined; or its mask no pixel outside,
            its label or mask is inverted, or its label noise
            (:mod:`~edge_runtime.data.vessel_share`): they would be wrong.
    """
    if photo.problem or photo.label is None:
        raise InputError(photo.problem or f"{photo.image}: no label for this photograph")
    warn_if_turned_apart(photo)
    pixels = load_photo(photo.image)
    label = read_binary(photo.label, pixels.shape, "label")
    fov = None
    if photo.mask is not None:
        fov = as_field_mask(read_label_image(photo.mask, "the mask", pixels.shape), photo.mask)
    if not (label.any() if fov is None else (label & fov).any()):
        inside = "" if fov is None else f" inside the field of view of {photo.mask}"
        raise InputError(f"{photo.label}: no vessel pixel{inside}, expected some to score")
    if fov is not None:
        check_inside(photo.mask, label, fov, photo.label)
    check_share(photo.label, label, fov)
    check_not_speckle(photo.label, label)
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
