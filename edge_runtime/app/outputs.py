"""Where a segmentation's files go, and what they look like: mask, overlay, probability and
artery/vein PNGs."""

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.analysis.segmentation import Result
from edge_runtime.atomic import save_png
from edge_runtime.contract.provenance import (
    PHOTOGRAPH_KEY,
    PNG_KEY,
    Provenance,
    photograph_from_text,
    png_text,
)
from edge_runtime.contract.verdict_record import PNG_KEY as VERDICT_KEY
from edge_runtime.contract.verdict_record import VerdictRecord
from edge_runtime.data.artery_vein import colour_picture
from edge_runtime.data.photos import PhotoDataset
from edge_runtime.errors import EdgeSegError, InputError
from edge_runtime.file_names import card_key, unique_name
from edge_runtime.pipeline.decode import Photo
from edge_runtime.safe_open import open_regular

OVERLAY_COLOUR = (0, 255, 64)
OVERLAY_WEIGHT = 153
"""Blend weight of the overlay colour on vessel pixels, out of 255 (0.6)."""


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file a path leads to, or ``None`` when there is none: the same
    file under another path (a bind mount, a hard link, another letter case on a FAT card) has
    the same identity."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def refuse_output_among(folder: Path, datasets: Iterable[PhotoDataset], option: str) -> None:
    """Refuse an output folder (given with ``option``) that holds the ``datasets``' own files
    (a folder of their photographs, labels or masks, under any path): what is written there
    would join them or overwrite one named alike, and the next run would read it.

    Raises:
        InputError: it does.
    """
    folders = {
        identity(path.parent)
        for dataset in datasets
        for photo in dataset.photos
        for path in (photo.image, photo.label, photo.mask, photo.artery_vein)
        if path is not None
    }
    if identity(folder) in folders - {None}:
        raise InputError(
            f"{folder}: holds the dataset's photographs, labels or masks, which the output "
            f"would add to or overwrite; give {option} another folder"
        )


@dataclass(frozen=True)
class OutputPaths:
    """The files written for one input, all named after ``name`` (its stem, or the stem with a
    ``-2``, ``-3``... when inputs share one)."""

    name: str
    mask: Path
    overlay: Path
    prob: Path
    artery_vein: Path

    def files(self) -> tuple[Path, ...]:
        """Every file it may write."""
        return self.mask, self.overlay, self.prob, self.artery_vein

    def states(self) -> tuple[tuple[int, int, int] | None, ...]:
        """What is at each of :meth:`files` now: (device, inode, modification time in ns),
        ``None`` where nothing is (:meth:`remove_changed` compares)."""
        return tuple(file_state(path) for path in self.files())

    def remove_changed(
        self, before: tuple[tuple[int, int, int] | None, ...], *, changed: bool = True
    ) -> None:
        """Remove the files written since ``before`` (:meth:`states`) and no others: what a
        worker that died wrote of a photograph, which is then reported failed; or, not
        ``changed``, those there then and not written since (``watch``: a photograph done again
        without an output its earlier maps had)."""
        for path, was in zip(self.files(), before, strict=True):
            now = file_state(path)
            if now is not None and (now != was) == changed:
                with contextlib.suppress(OSError):
                    path.unlink()


def file_state(path: Path) -> tuple[int, int, int] | None:
    """What is at a path now: (device, inode, modification time in ns) of the file or link
    itself, ``None`` where nothing is; a file replaced or rewritten has another."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino, info.st_mtime_ns


OUTPUT_KINDS = ("mask", "overlay", "prob", "av")
"""What each output file is, in :class:`OutputPaths`' order: ``<name>_<kind>.png``."""


PICTURE_KIND = "measure"
"""What ``measure --picture`` writes beside the maps: ``<name>_measure.png``."""

WRITTEN_KINDS = (*OUTPUT_KINDS, PICTURE_KIND)
"""Every kind of file that ``segment`` and ``measure --picture`` write."""


def is_written_output(name: Path, kinds: tuple[str, ...] = WRITTEN_KINDS) -> bool:
    """Whether a file's name is one that ``segment`` or ``measure --picture`` writes, of one
    of ``kinds`` (``<name>_<kind>.png``): a folder of inputs leaves them out, so that a run on
    its own output folder does not take its masks and overlays for photographs."""
    return name.suffix.lower() == ".png" and name.stem.endswith(tuple(f"_{k}" for k in kinds))


def output_paths(outdir: Path, name: str) -> OutputPaths:
    """The output files of one photograph named ``name`` (usually its stem)."""
    return OutputPaths(name, *(outdir / f"{name}_{kind}.png" for kind in OUTPUT_KINDS))


def plan_outputs(
    inputs: list[Path], outdir: Path, used: set[str] | None = None, *, keep_existing: bool = False
) -> list[OutputPaths]:
    """Output paths for every input, in order. Inputs that share a stem (in any case: a FAT
    or exFAT card, or macOS, takes ``A`` and ``a`` for one name) get ``-2``, ``-3``, ... after
    it, and no output may be an input file under any path (files are compared by
    identity, :func:`identity`), so nothing is overwritten silently.

    ``used`` holds output names already taken (e.g. by earlier runs); it is updated in place.
    ``keep_existing``: a name any of whose files is already there is taken too (``watch``: such
    files are the results of a photograph it no longer holds, or of another program).
    """
    taken = {identity(p) for p in inputs} - {None}
    used = set() if used is None else used
    folded = {card_key(name) for name in used}  # A.png and a.jpg: one name on a FAT card

    def clashes(name: str) -> bool:
        return any(
            identity(p) in taken or (keep_existing and os.path.lexists(p))
            for p in output_paths(outdir, name).files()
        )

    plans = []
    for path in inputs:
        name = unique_name(path.stem, folded, clashes)
        used.add(name)
        plans.append(output_paths(outdir, name))
    return plans


def overlay(photo: Photo, mask: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """The photograph (8-bit RGB, :meth:`Photo.picture`) with vessel pixels tinted green.
    ``alpha``, if given, is a uint8 (H, W) buffer to use for the blend weights (it is
    overwritten), sparing a photograph-sized allocation."""
    picture = photo.picture()
    weight = np.empty(mask.shape, dtype=np.uint8) if alpha is None else alpha
    np.multiply(mask, OVERLAY_WEIGHT, out=weight, dtype=np.uint8)
    height, width = mask.shape
    blend = Image.frombuffer("L", (width, height), weight, "raw", "L", 0, 1)  # shares ``weight``
    picture.paste(OVERLAY_COLOUR, mask=blend)
    return picture


@dataclass(frozen=True)
class Extras:
    """Which files beside the mask to write."""

    overlay: bool = False
    prob: bool = False


@dataclass(frozen=True)
class WrittenRecords:
    """What a map file says of itself, as ``segment`` recorded it
    (:func:`~edge_runtime.contract.provenance.png_text`): what made it, its photograph's
    verdict and that photograph's name; each ``None`` where the file holds none (a manual
    label, another program's map, an older package's, ``--no-verdict``) or one that cannot be
    read (it is no proof: anyone can write one)."""

    provenance: Provenance | None = None
    verdict: VerdictRecord | None = None
    photograph: str | None = None

    def text(self) -> dict[str, str]:
        """The text chunks that carry it on a picture drawn of the map (a measurement
        picture)."""
        return png_text(self.provenance, self.verdict, self.photograph)


def _chunks(path: Path) -> dict:
    """The text chunks of a PNG file (none for another format or a file that cannot be read)."""
    try:
        with open_regular(path, "a map") as f, Image.open(f) as image:
            return image.info if image.format == "PNG" else {}
    except (EdgeSegError, OSError, ValueError, RecursionError, Image.DecompressionBombError):
        return {}


def _record(cls, text: object):
    """``cls.from_text(text)``, ``None`` for no text or text that is not one."""
    if not isinstance(text, str):
        return None
    try:
        return cls.from_text(text)
    except (ValueError, RecursionError):
        return None


def written_records(path: Path) -> WrittenRecords:
    """The :class:`WrittenRecords` of a map file (none for one that cannot be read)."""
    chunks = _chunks(path)
    return WrittenRecords(
        _record(Provenance, chunks.get(PNG_KEY)),
        _record(VerdictRecord, chunks.get(VERDICT_KEY)),
        photograph_from_text(chunks.get(PHOTOGRAPH_KEY)),
    )


def drawn_by_this_package(path: Path) -> bool:
    """Whether ``path`` is a picture this package drew, whatever its version: a PNG file, not
    a link to one, that carries a provenance chunk
    (:func:`~edge_runtime.contract.provenance.png_text`)."""
    return not path.is_symlink() and isinstance(_chunks(path).get(PNG_KEY), str)


def write_outputs(
    paths: OutputPaths,
    photo: Photo,
    result: Result,
    extras: Extras = Extras(),
    provenance: Provenance | None = None,
    verdict: VerdictRecord | None = None,
    photograph: str | None = None,
) -> dict[str, str]:
    """Write the mask (8-bit 0/255), the ``extras`` (overlay, probability PNG) and, when the
    result has arteries and veins, their map (RGB: red artery, blue vein, black background),
    each atomically, in that order: a map not made yet is made after the vessel files' buffer
    and the overlay's picture are freed; each records its ``provenance``, its photograph's
    ``verdict`` and that ``photograph``'s name
    (:func:`~edge_runtime.contract.provenance.png_text`). Returns {kind: path} of what was
    written.

    All or none: when one cannot be written, those already written are removed before the
    error goes on (a photograph reported failed leaves no files).
    """
    written: dict[str, Path] = {}
    try:
        text = png_text(provenance, verdict, photograph)
        _write_vessel_files(paths, photo, result, extras, written, text)
        _write_artery_vein_file(paths, result, written, text)
    except BaseException:
        for path in written.values():
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return {kind: str(path) for kind, path in written.items()}


def _write_vessel_files(
    paths: OutputPaths,
    photo: Photo,
    result: Result,
    extras: Extras,
    written: dict[str, Path],
    text: dict[str, str],
) -> None:
    """The mask and the ``extras``, each with ``text`` and added to ``written`` once it is:
    one photograph-sized uint8 buffer serves all three in turn."""
    buffer = np.multiply(result.mask, 255, dtype=np.uint8)
    save_png(paths.mask, buffer, text)
    written["mask"] = paths.mask
    if extras.overlay:
        save_png(paths.overlay, overlay(photo, result.mask, alpha=buffer), text)
        written["overlay"] = paths.overlay
    if extras.prob:
        for rows, probability in result.probability_rows():
            buffer[rows] = np.round(probability * 255)
        save_png(paths.prob, buffer, text)
        written["prob"] = paths.prob


def _write_artery_vein_file(
    paths: OutputPaths, result: Result, written: dict[str, Path], text: dict[str, str]
) -> None:
    """The arteries and veins, when the result has them, with ``text``, added to ``written``."""
    classes = result.artery_vein
    if classes is not None:
        save_png(paths.artery_vein, colour_picture(classes), text)
        written["artery_vein"] = paths.artery_vein
