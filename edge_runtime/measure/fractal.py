"""Box-counting fractal dimensions of a vessel map: D0 (capacity), D1 (information) and D2
(correlation), the generalised (Renyi) dimensions of the map's pixels counted in a grid of boxes
whose side halves from one size to the next.

With p_i the share of the map's pixels in box i of side s: D0 is the slope of log N(s) (the
boxes holding any) against log(1/s), D1 that of the entropy -sum p_i log p_i, and D2 that of
-log sum p_i^2. They are equal for a uniform fill (2 for a filled area, 1 for a line) and
spread apart the more unevenly the vessels fill the image: D0 >= D1 >= D2 in the limit of small
boxes, but fitted over a vessel map's box sizes D1 and D2 come out above D0 (the vessels fill
the smallest boxes; firmware_notes/MEASUREMENTS.md).
"""

from dataclasses import dataclass

import numpy as np

SMALLEST_BOX = 2
"""Side of the smallest box, pixels; below it every vessel pixel is a box of its own."""

LARGEST_BOX_SHARE = 4
"""The largest box is at most the image's short side over this, so that the count of the
largest boxes still holds a few boxes across the image."""

MIN_SIZES = 3
"""Box sizes needed for a slope; fewer (an image under 32 pixels a side, where a box of 8 is
more than a :data:`LARGEST_BOX_SHARE` of it) give no dimension."""


@dataclass(frozen=True)
class FractalDimensions:
    """The generalised box-counting dimensions D0, D1, D2 of a map (dimensionless)."""

    d0: float
    d1: float
    d2: float


def box_sizes(shape: tuple[int, int]) -> list[int]:
    """The box sides fitted for an image of ``shape``: powers of two from :data:`SMALLEST_BOX`
    to a :data:`LARGEST_BOX_SHARE` of its short side."""
    sizes, size = [], SMALLEST_BOX
    while size <= min(shape) / LARGEST_BOX_SHARE:
        sizes.append(size)
        size *= 2
    return sizes


def _block_sums(level: np.ndarray, factor: int, dtype: np.dtype) -> np.ndarray:
    """Sums of ``factor`` x ``factor`` blocks of ``level`` (in ``dtype``), the blocks at the
    bottom and right filled up with zeros: every ``factor``-th row added up, then every
    column."""
    height, width = (-(-side // factor) for side in level.shape)
    rows = np.zeros((height, level.shape[1]), dtype=dtype)
    for i in range(factor):
        part = level[i::factor]
        rows[: len(part)] += part
    blocks = np.zeros((height, width), dtype=dtype)
    for i in range(factor):
        part = rows[:, i::factor]
        blocks[:, : part.shape[1]] += part
    return blocks


def box_masses(pixels: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """The number of set pixels of a 0/1 (H, W) image in each non-empty box of a grid anchored
    at the top left (the boxes at the bottom and right may stick out of the image), for each box
    side in ``sizes`` (ascending). Each size is summed from the one before when it is a multiple
    of it."""
    masses, level, side = [], pixels, 1
    for size in sizes:
        if size % side:
            level, side = pixels, 1
        level, side = _block_sums(level, size // side, np.min_scalar_type(size * size)), size
        masses.append(level[level > 0])
    return masses


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of ``y`` against ``x``."""
    dx = x - x.mean()
    return float(dx @ (y - y.mean()) / (dx @ dx))


def fractal_dimensions(
    mask: np.ndarray, sizes: list[int] | None = None
) -> FractalDimensions | None:
    """D0, D1 and D2 of a boolean (H, W) map, fitted by least squares over the box sides
    ``sizes`` (ascending; by default :func:`box_sizes`); ``None`` for an empty map or fewer
    than :data:`MIN_SIZES` sizes."""
    sizes = box_sizes(mask.shape) if sizes is None else sizes
    pixels = np.asarray(mask)
    if pixels.dtype != bool or pixels.view(np.uint8).max(initial=0) > 1:  # 1-bit images: 255
        pixels = pixels != 0
    pixels = pixels.view(np.uint8)
    total = int(np.count_nonzero(pixels))
    if len(sizes) < MIN_SIZES or total == 0:
        return None
    log_inverse = -np.log(np.asarray(sizes, dtype=np.float64))
    count, entropy, collision = [], [], []
    for mass in box_masses(pixels, sizes):
        share = mass / total
        count.append(np.log(len(mass)))
        entropy.append(-np.sum(share * np.log(share)))
        collision.append(-np.log(np.sum(share**2)))
    d0, d1, d2 = (_slope(log_inverse, np.asarray(values)) for values in (count, entropy, collision))
    return FractalDimensions(float(d0), float(d1), float(d2))
