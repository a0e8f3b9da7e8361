"""Where a segmentation's files go, and what they look like: mask, overlay, probability PNGs."""

import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.atomic import atomic_path
from edge_runtime.errors import OutputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".ppm", ".pgm", ".webp")
OVERLAY_COLOUR = np.array([0, 255, 64], dtype=np.float32)
OVERLAY_ALPHA = 0.6


def collect_inputs(arguments: list[str]) -> list[Path]:
    """Expand command-line inputs: a directory gives its image files (sorted), a pattern with
    ``*?[`` gives its matches (sorted), anything else is taken as a path (even a missing one,
    so that it is reported in its turn)."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted(
                p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )
        elif glob.has_magic(argument) and not path.exists():
            paths += sorted(Path(p) for p in glob.glob(argument)) or [path]
        else:
            paths.append(path)
    return paths


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


def plan_outputs(
    inputs: list[Path], outdir: Path, used: set[str] | None = None
) -> list[OutputPaths]:
    """Output paths for every input, in order. Inputs that share a stem get ``-2``, ``-3``, ...
    after it, and no output may land on an input file, so nothing is overwritten silently.

    ``used`` holds output names already taken (e.g. by earlier runs); it is updated in place.
    """
    taken = {p.resolve() for p in inputs}
    used = set() if used is None else used
    plans = []
    for path in inputs:
        stem, n = path.stem, 1
        while True:
            name = stem if n == 1 else f"{stem}-{n}"
            outputs = output_paths(outdir, name)
            clash = any(p.resolve() in taken for p in (outputs.mask, outputs.overlay, outputs.prob))
            if name not in used and not clash:
                break
            n += 1
        used.add(name)
        plans.append(outputs)
    return plans


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A displayable 8-bit RGB copy of an (H, W) or (H, W, 3|4) image of any range."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        top = float(array.max()) or 1.0
        array = np.clip(array.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return np.repeat(array[..., None], 3, axis=2)
    return array[..., :3]


def overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photograph (8-bit RGB) with vessel pixels tinted green."""
    out = to_uint8(image).astype(np.float32)
    vessels = mask.astype(bool)
    out[vessels] = (1 - OVERLAY_ALPHA) * out[vessels] + OVERLAY_ALPHA * OVERLAY_COLOUR
    return out.astype(np.uint8)


def save_png(path: Path, array: np.ndarray) -> None:
    """Write a uint8 (H, W) or (H, W, 3) array as PNG, atomically (never a partial file).

    Raises:
        OutputError: the file cannot be written (full disk, a directory in the way, ...).
    """
    try:
        with atomic_path(path) as tmp:
            Image.fromarray(array).save(tmp, format="PNG")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None


@dataclass(frozen=True)
class Extras:
    """Which files beside the mask to write."""

    overlay: bool = False
    prob: bool = False


def write_outputs(
    paths: OutputPaths,
    image: np.ndarray,
    mask: np.ndarray,
    probability: np.ndarray,
    extras: Extras = Extras(),
) -> dict[str, str]:
    """Write the mask (8-bit 0/255) and the ``extras`` (overlay, probability PNG), each
    atomically; returns {kind: path} of what was written."""
    written = {"mask": paths.mask}
    save_png(paths.mask, (mask * 255).astype(np.uint8))
    if extras.overlay:
        save_png(paths.overlay, overlay(image, mask))
        written["overlay"] = paths.overlay
    if extras.prob:
        save_png(paths.prob, np.round(probability * 255).astype(np.uint8))
        written["prob"] = paths.prob
    return {kind: str(path) for kind, path in written.items()}
