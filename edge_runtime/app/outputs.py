"""Where a segmentation's files go, and what they look like: mask, overlay, probability PNGs."""

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.atomic import atomic_path
from edge_runtime.errors import OutputError
from edge_runtime.pipeline.decode import IMAGE_SUFFIXES, Photo
from edge_runtime.pipeline.segmenter import Result

OVERLAY_COLOUR = (0, 255, 64)
OVERLAY_WEIGHT = 153
"""Blend weight of the overlay colour on vessel pixels, out of 255 (0.6)."""


@dataclass(frozen=True)
class Input:
    """One input to segment; ``problem`` says why it could not even be listed (reported in its
    turn, like any bad input)."""

    path: Path
    problem: str | None = None


def _image_files(directory: Path) -> list[Input]:
    """The image files of a directory (sorted); an entry that cannot be examined is kept, and
    fails in its turn with its own error."""
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if Path(entry.name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                if not entry.is_file():
                    continue
            except OSError:
                pass  # let it fail in its turn, naming itself
            found.append(Input(Path(entry.path)))
    return sorted(found, key=lambda i: i.path)


def collect_inputs(arguments: list[str]) -> list[Input]:
    """Expand command-line inputs: a directory gives its image files (sorted), a pattern with
    ``*?[`` gives its matches (sorted), anything else is taken as a path (even a missing one,
    so that it is reported in its turn). A directory that cannot be listed is one failed input,
    never the end of the batch."""
    inputs: list[Input] = []
    for argument in arguments:
        path = Path(argument)
        try:
            is_dir = path.is_dir()
        except OSError as exc:
            inputs.append(Input(path, f"{path}: cannot be read ({exc.strerror or exc})"))
            continue
        if is_dir:
            try:
                inputs += _image_files(path)
            except OSError as exc:
                inputs.append(
                    Input(path, f"{path}: cannot list the folder ({exc.strerror or exc})")
                )
        elif glob.has_magic(argument) and not os.path.lexists(argument):
            inputs += [Input(Path(p)) for p in sorted(glob.glob(argument))] or [Input(path)]
        else:
            inputs.append(Input(path))
    return inputs


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file a path leads to, or ``None`` when there is none: the same
    file under another path (a bind mount, a hard link, another letter case on a FAT card) has
    the same identity."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


@dataclass(frozen=True)
class OutputPaths:
    """The files written for one input, all named after ``name`` (its stem, or the stem with a
    ``-2``, ``-3``... when inputs share one)."""

    name: str
    mask: Path
    overlay: Path
    prob: Path


def output_paths(outdir: Path, name: str) -> OutputPaths:
    """The output files of one photograph named ``name`` (usually its stem)."""
    return OutputPaths(
        name, *(outdir / f"{name}_{kind}.png" for kind in ("mask", "overlay", "prob"))
    )


MAX_NAME_BYTES = 255 - len("_overlay.png") - len("-9999")
"""Output names are cut to this many bytes, so that every output file name fits the 255 bytes
file systems allow."""


def _fitted(stem: str) -> str:
    raw = os.fsencode(stem)
    if len(raw) <= MAX_NAME_BYTES:
        return stem
    return os.fsdecode(raw[:MAX_NAME_BYTES].decode("utf-8", "ignore").encode())


def plan_outputs(
    inputs: list[Path], outdir: Path, used: set[str] | None = None
) -> list[OutputPaths]:
    """Output paths for every input, in order. Inputs that share a stem get ``-2``, ``-3``, ...
    after it, and no output may be an input file under any path (files are compared by
    identity, :func:`identity`), so nothing is overwritten silently.

    ``used`` holds output names already taken (e.g. by earlier runs); it is updated in place.
    """
    taken = {identity(p) for p in inputs} - {None}
    used = set() if used is None else used
    plans = []
    for path in inputs:
        stem, n = _fitted(path.stem), 1
        while True:
            name = stem if n == 1 else f"{stem}-{n}"
            outputs = output_paths(outdir, name)
            clash = any(identity(p) in taken for p in (outputs.mask, outputs.overlay, outputs.prob))
            if name not in used and not clash:
                break
            n += 1
        used.add(name)
        plans.append(outputs)
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


def save_png(path: Path, image: np.ndarray | Image.Image) -> None:
    """Write a uint8 (H, W) or (H, W, 3) array, or a Pillow image, as PNG, atomically (never a
    partial file).

    Raises:
        OutputError: the file cannot be written (full disk, a directory in the way, ...).
    """
    try:
        with atomic_path(path) as tmp:
            picture = image if isinstance(image, Image.Image) else _shared_image(image)
            picture.save(tmp, format="PNG")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _shared_image(array: np.ndarray) -> Image.Image:
    """A Pillow image over a uint8 array's own memory where it can be (grayscale), sparing a
    photograph-sized copy."""
    if array.ndim == 2 and array.flags.c_contiguous:
        height, width = array.shape
        return Image.frombuffer("L", (width, height), array, "raw", "L", 0, 1)
    return Image.fromarray(array)


@dataclass(frozen=True)
class Extras:
    """Which files beside the mask to write."""

    overlay: bool = False
    prob: bool = False


def write_outputs(
    paths: OutputPaths,
    photo: Photo,
    result: Result,
    extras: Extras = Extras(),
) -> dict[str, str]:
    """Write the mask (8-bit 0/255) and the ``extras`` (probability PNG, overlay), each
    atomically; returns {kind: path} of what was written. One photograph-sized uint8 buffer
    serves all three in turn."""
    written = {"mask": paths.mask}
    buffer = np.multiply(result.mask, 255, dtype=np.uint8)
    save_png(paths.mask, buffer)
    if extras.overlay:
        save_png(paths.overlay, overlay(photo, result.mask, alpha=buffer))
        written["overlay"] = paths.overlay
    if extras.prob:
        for rows, probability in result.probability_rows():
            buffer[rows] = np.round(probability * 255)
        save_png(paths.prob, buffer)
        written["prob"] = paths.prob
    return {kind: str(path) for kind, path in written.items()}
