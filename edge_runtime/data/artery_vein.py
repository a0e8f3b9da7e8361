"""Artery/vein labels: RGB images in the colours of the RITE, LES-AV and GAVE labels, decoded
into :class:`~edge_runtime.contract.artery_vein_classes.ArteryVein` codes (the one place that
does; ``edge-seg measure --av`` reads them through it too).

The colours are exact: black background, red (255, 0, 0) artery, blue (0, 0, 255) vein, green
(0, 255, 0) crossing or uncertain, and white, RITE's original mark for an uncertain vessel. The
reference sets' files (DRIVE's ``AV/``, GAVE's and LES-AV's ``labels-av/``) hold the first four
and no other colour; a label saved with lossy compression or resized smoothly has colours in
between, and is refused with one of them named rather than guessed at.
"""

from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.data.label_image import read_label_image
from edge_runtime.data.vessel_share import neighbours, share_inside
from edge_runtime.errors import InputError
from edge_runtime.pipeline.blocks import row_blocks

COLOURS: dict[tuple[int, int, int], ArteryVein] = {
    (0, 0, 0): ArteryVein.BACKGROUND,
    (255, 0, 0): ArteryVein.ARTERY,
    (0, 0, 255): ArteryVein.VEIN,
    (0, 255, 0): ArteryVein.UNCERTAIN,
    (255, 255, 255): ArteryVein.UNCERTAIN,
}
"""The colours of an artery/vein label and the class each marks."""

CLASS_COLOURS = np.array([(0, 0, 0), (255, 0, 0), (0, 0, 255), (0, 255, 0)], dtype=np.uint8)
"""The colour a map written by this package gives each class, by its code: black background,
red artery, blue vein, green uncertain (one of :data:`COLOURS` each)."""

_STRAY = -1
"""Where a colour of no class goes in the table below."""


def _by_channels() -> np.ndarray:
    """The class of each colour whose channels are each 0 or 255, by red·4 + green·2 + blue
    (each 0 or 1): :data:`_STRAY` for those :data:`COLOURS` does not name (yellow, magenta,
    cyan)."""
    table = np.full(8, _STRAY, dtype=np.int8)
    for (red, green, blue), code in COLOURS.items():
        table[(red > 0) * 4 + (green > 0) * 2 + (blue > 0)] = code
    return table


_BY_CHANNELS = _by_channels()

_EXPECTED = "expected an RGB artery/vein label (red artery, blue vein, green crossing)"


def colour_picture(classes: np.ndarray) -> Image.Image:
    """The RGB picture of an :class:`ArteryVein` map (H, W), in :data:`CLASS_COLOURS` (what
    :func:`decode_artery_vein` reads back): a palette image over the map's own bytes, made RGB
    once (Pillow's 4 bytes a pixel, where an index array, an RGB array and Pillow's copy of it
    took 15).

    Raises:
        ValueError: a code that is not one of :class:`ArteryVein`'s.
    """
    codes = np.ascontiguousarray(classes)
    if codes.ndim != 2:
        raise ValueError(f"got an artery/vein map of shape {codes.shape}, expected (H, W)")
    if codes.size and not 0 <= codes.min() <= codes.max() < len(ArteryVein):
        raise ValueError(
            f"got artery/vein codes {codes.min()}..{codes.max()}, expected 0..{len(ArteryVein) - 1}"
        )
    if codes.dtype not in (np.int8, np.uint8):
        codes = codes.astype(np.uint8)  # checked first: no value wraps
    height, width = codes.shape
    picture = Image.frombuffer("P", (width, height), codes.view(np.uint8), "raw", "P", 0, 1)
    picture.putpalette(CLASS_COLOURS.tobytes())
    return picture.convert("RGB")


def _decoded(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The :class:`ArteryVein` codes of RGB pixels, and which are of a colour of no class."""
    on = pixels == 255
    stray = ~(on | (pixels == 0)).all(axis=2)
    bits = on.view(np.uint8)
    classes = _BY_CHANNELS[bits[..., 0] << 2 | bits[..., 1] << 1 | bits[..., 2]]
    return classes, stray | (classes == _STRAY)


def decode_artery_vein(
    pixels: np.ndarray, source: str | Path, blank_ok: bool = False
) -> np.ndarray:
    """The :class:`ArteryVein` codes (int8, (H, W)) of an artery/vein label's pixels, (H, W, 3)
    uint8 RGB; ``source`` names it in errors. With ``blank_ok``, an all-black map (a model's
    that found no vessel) is taken, as no vessel.

    Raises:
        InputError: not 8-bit RGB, a colour that is not one of :data:`COLOURS`, or neither an
            artery nor a vein pixel (a vessel mask is not an artery/vein label).
    """
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        raise InputError(f"{source}: got a single-channel image, {_EXPECTED}")
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise InputError(
            f"{source}: got pixels of shape {pixels.shape} {pixels.dtype}, {_EXPECTED}"
        )
    classes = np.empty(pixels.shape[:2], dtype=np.int8)
    stray = np.empty(pixels.shape[:2], dtype=bool)
    for rows in row_blocks(*pixels.shape[:2]):  # whole, 10 bytes a pixel of temporaries
        classes[rows], stray[rows] = _decoded(pixels[rows])
    if stray.any():
        y, x = np.unravel_index(np.flatnonzero(stray)[0], stray.shape)
        raise InputError(
            f"{source}: got colour {tuple(int(c) for c in pixels[y, x])} at pixel ({x}, {y}) "
            f"and in {np.count_nonzero(stray):,} pixels in all, expected only the colours of "
            "an artery/vein label: black, red, blue, green or white (a lossy-compressed or "
            "resized label blurs them)"
        )
    blank = blank_ok and not classes.any()
    classed = ((classes == code).any() for code in (ArteryVein.ARTERY, ArteryVein.VEIN))
    if not blank and not any(classed):  # np.isin took 7 bytes a pixel
        raise InputError(f"{source}: got no red or blue pixel, {_EXPECTED}")
    return classes


def read_artery_vein(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """The :class:`ArteryVein` codes of an artery/vein label file, checked to be the
    photograph's ``shape`` (as :func:`~edge_runtime.data.label_image.read_label_image` reads it).

    Raises:
        InputError: unreadable, not the photograph's size, or not an artery/vein label
            (:func:`decode_artery_vein`).
    """
    return decode_artery_vein(read_label_image(path, "the artery/vein label", shape), path)


MIN_ON_VESSELS = 0.5
"""The centre lines of an artery/vein label lie on its photograph's vessel label, within a
pixel: 0.76 to 1 of their pixels on the 88 reference photographs with both (0.72 with the label
drawn 3 pixels wider), 0.08 to 0.30 on another photograph's of the same camera. A label with
less than this share on them is another's."""


def check_on_vessels(source: str | Path, centreline: np.ndarray, vessels: np.ndarray) -> None:
    """Refuse an artery/vein label (read from ``source``) whose ``centreline`` (its classed
    pixels' skeleton, boolean) lies off its photograph's vessel label (``vessels``, boolean,
    the same size) more than :data:`MIN_ON_VESSELS` allows.

    Raises:
        InputError: it does (another photograph's label?).
    """
    on_vessels = share_inside(centreline, vessels | neighbours(vessels, diagonal=True))
    if on_vessels < MIN_ON_VESSELS:
        raise InputError(
            f"{source}: {on_vessels:.0%} of its centre lines lie on the photograph's vessel "
            f"label, expected at least {MIN_ON_VESSELS:.0%} (another photograph's label?)"
        )
