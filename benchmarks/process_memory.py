"""What a process of ``segment`` and ``eval`` peaks at, by photograph size and format, against
what their default ``--jobs`` counts it to take, measured in one run.

    python benchmarks/process_memory.py [--size 584x565 --size 3199x2132 ...] [--format jpg ...]

For each size (default: DRIVE's, 2, 6.8 (the largest decoded whole), 8.2, 12 and 25 megapixels)
and format (default: JPEG, an RGBA PNG turned by EXIF, CMYK TIFF, WebP, JPEG 2000, AVIF; the
last three, decoded whole, only up to their 12 megapixels), writes a synthetic photograph and
prints the peak RSS (MiB) of a fresh ``edge-seg segment --overlay --prob --av --measure``
process, and of ``edge-seg eval --av --report`` on it with vessel and artery/vein labels (not
for JPEG 2000 and AVIF, which a dataset's folder does not take), each beside what it is
counted (``SEGMENT_MEMORY`` and ``SCORING_MEMORY``) and the ratio counted / peak (above 1: the
count holds it). firmware_notes/budgets.md keeps the table.
"""

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
from PIL import Image

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.decode import IMAGE_SUFFIXES, MAX_WHOLE_IMAGE_PIXELS
from edge_runtime.pipeline.parallel import SCORING_MEMORY, SEGMENT_MEMORY

SIZES = ("584x565", "1411x1411", "3199x2132", "3504x2336", "4242x2828", "6123x4082")


def _turned_rgba(photo: np.ndarray, path: Path) -> None:
    image = Image.fromarray(photo).convert("RGBA")
    image.getexif()[0x0112] = 3  # decoded whole to be turned upright
    image.save(path, exif=image.getexif())


FORMATS: dict[str, Callable[[np.ndarray, Path], None]] = {
    "jpg": lambda photo, path: Image.fromarray(photo).save(path, quality=95),
    "rgba.png": _turned_rgba,
    "cmyk.tif": lambda photo, path: Image.fromarray(photo).convert("CMYK").save(path),
    "webp": lambda photo, path: Image.fromarray(photo).save(path),
    "jp2": lambda photo, path: Image.fromarray(photo).save(path),
    "avif": lambda photo, path: Image.fromarray(photo).save(path),
}
"""How each format's photograph is written."""

DECODED_WHOLE = ("webp", "jp2", "avif")
"""The formats whose decoders cannot decode reduced (refused above 12 megapixels)."""


def peak_mib(*args: object) -> float:
    """Peak RSS (MiB, Linux) of a fresh ``edge-seg`` process running ``args``.

    Raises:
        RuntimeError: it failed (exit status neither 0 nor 4, not a fundus photograph).
    """
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "if done.returncode not in (0, 4):\n"
        "    sys.exit(done.stderr.decode()[-2000:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    edge_seg = [sys.executable, "-m", "edge_runtime.cli.main"]
    command = [sys.executable, "-c", code, *edge_seg, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"edge-seg {' '.join(map(str, args))}: {done.stderr}")
    return float(done.stdout)


def labelled_set(folder: Path, photo_path: Path) -> None:
    """Make ``folder`` a dataset of the photograph at ``photo_path`` (moved there), a vessel
    label of lines inside its field, and an artery/vein label of them."""
    with Image.open(photo_path) as image:
        width, height = image.size
    rows, columns = np.ogrid[:height, :width]
    centred = (rows - height / 2) ** 2 + (columns - width / 2) ** 2
    vessels = (rows % 37 < 3) & (centred < (0.4 * height) ** 2)
    classes = np.zeros((height, width, 3), np.uint8)
    classes[vessels] = (255, 0, 0)
    classes[::74][vessels[::74]] = (0, 0, 255)
    for name in ("images", "labels", "labels-av"):
        (folder / name).mkdir(parents=True)
    photo_path.rename(folder / "images" / f"eye{photo_path.suffix}")
    Image.fromarray(vessels).save(folder / "labels" / "eye.png")
    Image.fromarray(classes).save(folder / "labels-av" / "eye.png")


def _size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def _peaks(work: Path, name: str, photo: np.ndarray) -> tuple[float, float | None]:
    """The peaks of ``segment`` with every output and of ``eval --av --report`` (``None`` for
    a format a dataset's folder does not take) on ``photo`` written as format ``name``."""
    path = work / f"photo.{name}"
    FORMATS[name](photo, path)
    options = ("--overlay", "--prob", "--av", "--measure")
    segmented = peak_mib("segment", path, "-o", work / "out", *options)
    if path.suffix not in IMAGE_SUFFIXES:
        return segmented, None
    labelled_set(work / "set", path)
    return segmented, peak_mib("eval", work / "set", "--av", "--report", work / "report")


@click.command()
@click.option("--size", "sizes", multiple=True, default=SIZES, show_default=True)
@click.option(
    "--format", "formats", type=click.Choice(list(FORMATS)), multiple=True, default=list(FORMATS)
)
def main(sizes: tuple[str, ...], formats: tuple[str, ...]) -> None:
    """Print each size and format's peaks against what they are counted."""
    click.echo("size, format: segment peak / counted (ratio); eval peak / counted (ratio), MiB")
    for width, height in map(_size, sizes):
        pixels = width * height
        photo = synthetic_fundus(height, width)
        for name in formats:
            if name in DECODED_WHOLE and pixels > MAX_WHOLE_IMAGE_PIXELS:
                continue
            with tempfile.TemporaryDirectory() as work:
                peaks = _peaks(Path(work), name, photo)
            figures = []
            for peak, memory in zip(peaks, (SEGMENT_MEMORY, SCORING_MEMORY), strict=True):
                counted = memory.for_pixels(pixels) / 2**20
                ratio = (
                    "not scored"
                    if peak is None
                    else f"{peak:.0f} / {counted:.0f} ({counted / peak:.2f}x)"
                )
                figures.append(ratio)
            click.echo(f"{width}x{height} ({pixels / 1e6:.2f} MP), {name}: " + "; ".join(figures))


if __name__ == "__main__":
    main()
