"""Where the optic disc is, from a vessel map: the place the large vessels converge.

The central retinal artery and vein enter the eye through the optic disc and branch from there,
so the disc is where the widest vessels crowd together. Each skeleton pixel weighs its vessel's
width squared (a main trunk 8 pixels wide outweighs a capillary 2 wide sixteen times); the disc
is where the disc-sized square that holds the most weight (searched on blocks a sixteenth of a
disc across) settles when moved, again and again, to the weighted mean of the skeleton within
half a disc diameter (mean shift). Its ``confidence`` is how
clearly that square stands out: 1 - (the best weight at least two disc diameters away) / (the
best weight), 0 when another place holds as much, and 0 when no place of the field lies that
far (a map a few disc diameters across, or a disc as large as the map: nothing to compare).
A map whose best square holds less than a disc diameter of centre line has none.

It is a heuristic and it has not been checked against marked discs (no labelled set here has
them): a map without the disc in view, or with the disc cut off at the edge of the field, still
gets a place, the best it can find, with a low confidence. Its diameter is not measured either:
the disc is taken as :data:`DISC_DIAMETER_MM` across (about 1.8 mm in adults, from 1.2 to 2.4),
in pixels by the map's scale.
"""

import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.measure.scale import scale_from_field

DISC_DIAMETER_MM = 1.8
"""Diameter of the optic disc taken when it is not measured: the adult mean (Quigley et al.
1990, 1.88 mm vertically and 1.77 mm horizontally)."""

DEFAULT_FIELD_DEGREES = 45.0
"""The field of view assumed when none is given (the most common fundus camera's), to size the
disc in pixels."""

BLOCKS_PER_DISC = 16
"""The search runs on blocks of pixels this many to a disc diameter."""

SETTLE_STEPS = 20
STILL = 0.05
"""The centre found on the blocks then moves to the weighted mean of the skeleton within half
a disc diameter of it, up to this many times, until a move is shorter than ``STILL`` pixels."""

MAX_BLOCKS = 2**20
"""Blocks of the search at most, larger blocks where a disc is so small in pixels that more
would be needed (a 25-megapixel map at 1 mm a pixel searched pixel by pixel: 838 MB)."""

APART = 2.0
"""The rival place the confidence compares with lies at least this many disc diameters away."""

MIN_CENTRE_LINE = 1.0
"""Disc diameters of centre line the disc's square must hold (the vessels that leave a disc
hold several; a disc larger than the map, the map's shorter side): fewer is no disc, but a few
stray pixels."""


@dataclass(frozen=True)
class Disc:
    """An optic disc: centre (``center_y``, ``center_x``) and ``diameter_px`` in pixels, and a
    ``confidence`` from 0 to 1 (the module docstring says what it means)."""

    center_y: float
    center_x: float
    diameter_px: float
    confidence: float


def _window_sums(weight: np.ndarray, side: int) -> np.ndarray:
    """The sum of ``weight`` in the ``side`` x ``side`` square (``side`` odd) centred on each
    cell (the frame padded with zeros), from the integral image."""
    half = side // 2
    h, w = weight.shape
    padded = np.zeros((h + side, w + side))
    padded[half + 1 : half + 1 + h, half + 1 : half + 1 + w] = weight
    integral = padded.cumsum(axis=0).cumsum(axis=1)
    return (
        integral[side : side + h, side : side + w]
        - integral[:h, side : side + w]
        - integral[side : side + h, :w]
        + integral[:h, :w]
    )


def search_block(shape: tuple[int, int], diameter_px: float) -> int:
    """Side in pixels of the blocks the disc is searched on in a map of ``shape``: a
    :data:`BLOCKS_PER_DISC`-th of its diameter, or larger where more than :data:`MAX_BLOCKS`
    would cover the map."""
    block = max(1, int(diameter_px // BLOCKS_PER_DISC))
    while -(-shape[0] // block) * -(-shape[1] // block) > MAX_BLOCKS:
        block = max(block + 1, math.ceil(block * 1.25))
    return block


def locate_disc(
    shape: tuple[int, int],
    ys: np.ndarray,
    xs: np.ndarray,
    widths: np.ndarray,
    field: np.ndarray,
    diameter_px: float,
) -> Disc | None:
    """The optic disc of a map of ``shape`` whose skeleton pixels (``ys``, ``xs``) have vessel
    ``widths``, inside the boolean ``field``; ``diameter_px`` sizes it. ``None`` without
    vessels, or with less centre line where they crowd most than :data:`MIN_CENTRE_LINE`."""
    if not len(ys):
        return None
    # on a grid of blocks about 1/16 of a disc across: a sixteenth of a disc is precise enough
    block = search_block(shape, diameter_px)
    grid = (-(-shape[0] // block), -(-shape[1] // block))
    cells = (np.asarray(ys) // block) * grid[1] + np.asarray(xs) // block
    pixel_weight = np.maximum(widths, 1.0) ** 2
    weight = np.bincount(cells, weights=pixel_weight, minlength=grid[0] * grid[1]).reshape(grid)
    side = max(3, round(diameter_px / block) | 1)
    sums = np.where(field[::block, ::block], _window_sums(weight, side), 0.0)
    best = np.unravel_index(int(np.argmax(sums)), grid)
    top = float(sums[best])
    count = np.bincount(cells, minlength=sums.size).reshape(grid)
    half = side // 2  # the centre lines in the best square alone
    length = count[
        max(0, best[0] - half) : best[0] + half + 1, max(0, best[1] - half) : best[1] + half + 1
    ].sum()
    if top <= 0 or length < MIN_CENTRE_LINE * min(diameter_px, *shape):  # a disc past the map
        return None
    gy, gx = np.ogrid[: grid[0], : grid[1]]
    far = (gy - best[0]) ** 2 + (gx - best[1]) ** 2 >= (APART * diameter_px / block) ** 2
    far &= field[::block, ::block]
    confidence = 1.0 - float(sums[far].max()) / top if far.any() else 0.0
    center_y, center_x = ((np.array(best) + 0.5) * block - 0.5).tolist()
    center_y, center_x = _settled(ys, xs, pixel_weight, center_y, center_x, diameter_px / 2)
    return Disc(center_y, center_x, float(diameter_px), confidence)


def _settled(
    ys: np.ndarray, xs: np.ndarray, weight: np.ndarray, y: float, x: float, radius: float
) -> tuple[float, float]:
    """The centre moved to the mean of the skeleton pixels within ``radius`` of it, each by its
    ``weight``,
    again and again until it stays (mean shift): a place of the vessels themselves, which
    neither the blocks' grid nor the thinning's pixel-level choices (which differ between a
    photograph and its mirror image) decide."""
    ys, xs = np.asarray(ys, np.float64), np.asarray(xs, np.float64)
    for _ in range(SETTLE_STEPS):
        near = (ys - y) ** 2 + (xs - x) ** 2 <= radius**2
        if not near.any():
            break
        moved_y = float(np.average(ys[near], weights=weight[near]))
        moved_x = float(np.average(xs[near], weights=weight[near]))
        still = math.hypot(moved_y - y, moved_x - x) < STILL
        y, x = moved_y, moved_x
        if still:
            break
    return y, x


def disc_diameter_px(field_diameter_px: float, mm_per_px: float | None) -> float:
    """The disc's diameter in pixels: :data:`DISC_DIAMETER_MM` by the map's scale, or without
    one by the scale of a :data:`DEFAULT_FIELD_DEGREES` field of view that is
    ``field_diameter_px`` across."""
    if mm_per_px is None:
        mm_per_px = scale_from_field(DEFAULT_FIELD_DEGREES, field_diameter_px).mm_per_px
    return DISC_DIAMETER_MM / mm_per_px


def disc_diameter_source(mm_per_px: float | None) -> str:
    """What :func:`disc_diameter_px` rests on, for a map's record: ``assumed: 1.8 mm`` with a
    scale, ``assumed: 1.8 mm, 45 degree field of view`` without."""
    assumed = f"assumed: {DISC_DIAMETER_MM:g} mm"
    if mm_per_px is None:
        return f"{assumed}, {DEFAULT_FIELD_DEGREES:g} degree field of view"
    return assumed
