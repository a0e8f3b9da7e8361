"""The field of view a map is measured in: a mask of the retina's pixels and its diameter."""

import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.cached import cached_property
from edge_runtime.errors import InputError

AUTO_MARGIN = 2.0
"""Pixels added to the radius of a field of view estimated from the vessels (their outermost
pixels lie just inside its edge)."""


@dataclass(frozen=True)
class Field:
    """The pixels measured (``mask``, boolean (H, W)), the field of view's diameter in pixels,
    and where it comes from: ``frame`` (the whole image), ``mask`` (a given mask) or ``auto``
    (estimated from the vessels)."""

    mask: np.ndarray
    diameter_px: float
    source: str

    @property
    def spanned_px(self) -> float | None:
        """The diameter a camera's field of view in degrees spans: ``None`` for the frame,
        which is not the camera's field of view (a map without one found gets no scale)."""
        return None if self.source == "frame" else self.diameter_px

    @cached_property
    def area_px(self) -> int:
        """Pixels inside."""
        return int(np.count_nonzero(self.mask))

    def inside(self, vessels: np.ndarray) -> np.ndarray:
        """The pixels of a boolean map of the field's size that lie inside it: for the whole
        frame, the map itself (no copy: a 25-megapixel one is 25 MB)."""
        return vessels if self.source == "frame" else vessels & self.mask


def disc_mask(
    shape: tuple[int, int],
    center_y: float,
    center_x: float,
    radius: float,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """The boolean (H, W) mask of the pixels whose centres lie within ``radius`` of a centre,
    made row by row (no image-sized float temporaries); with an ``origin`` (y, x), the mask of
    the (H, W) box of a larger image that starts at that pixel (the same pixels as the larger
    image's mask holds there)."""
    dy = np.arange(origin[0], origin[0] + shape[0], dtype=np.float64) - center_y
    half = np.sqrt(np.maximum(radius**2 - dy**2, 0.0))
    half[np.abs(dy) > radius] = -1.0  # rows that miss the disc
    columns = np.arange(origin[1], origin[1] + shape[1])
    return (columns >= center_x - half[:, None]) & (columns <= center_x + half[:, None])


def disc_pixels(center_y: float, center_x: float, radius: float) -> int:
    """How many pixels :func:`disc_mask` holds around a centre on a map large enough to hold
    them all, counted row by row (the parts beyond a map's edges too)."""
    dy = np.arange(math.floor(center_y - radius), math.ceil(center_y + radius) + 1) - center_y
    half = np.sqrt(np.maximum(radius**2 - dy**2, 0.0))
    count = np.floor(center_x + half) - np.ceil(center_x - half) + 1
    return int(count[np.abs(dy) <= radius].clip(min=0).sum())


def whole_frame(shape: tuple[int, int]) -> Field:
    """The whole image as the field of view; its diameter is the image's short side (the disc
    the frame holds). Its mask is a read-only view of one ``True`` (no all-true copy: a
    25-megapixel one was 25 MB); whatever writes into it is refused by numpy."""
    return Field(np.broadcast_to(np.True_, shape), float(min(shape)), "frame")


def field_from_mask(mask: np.ndarray) -> Field:
    """A given field-of-view mask (boolean, non-empty); its diameter is the longer side of the
    box around it (a disc cut off at the top and bottom of the frame, as many cameras' are,
    keeps its full width).

    Raises:
        InputError: ``mask`` is not a boolean (H, W) array, or has no pixel inside.
    """
    if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.ndim != 2:
        raise InputError("field-of-view mask: expected a boolean (H, W) array")
    if not mask.any():
        raise InputError("field-of-view mask: no pixel inside, expected a disc")
    spans = [np.flatnonzero(mask.any(axis=axis)) for axis in (0, 1)]
    return Field(mask, float(max(s[-1] - s[0] + 1 for s in spans)), "mask")


def field_from_vessels(vessels: np.ndarray) -> Field:
    """The field of view estimated from a vessel map alone: the disc centred on the box around
    its vessels that reaches the farthest vessel pixel (plus :data:`AUTO_MARGIN`). Vessels run
    out to the edge of the retina on most photographs, but not on all: a map whose vessels stop
    short on every side gets too small a field.

    The farthest pixel of a row is its first or its last vessel pixel, so the rows' ends alone
    are looked at (each vessel pixel's row and column took 16 bytes a pixel)."""
    ys = np.flatnonzero(vessels.any(axis=1))
    if not len(ys):
        return whole_frame(vessels.shape)
    first = vessels.argmax(axis=1)[ys]
    last = vessels.shape[1] - 1 - vessels[:, ::-1].argmax(axis=1)[ys]
    cy, cx = (ys.min() + ys.max()) / 2, (first.min() + last.max()) / 2
    farther = np.maximum((first - cx) ** 2, (last - cx) ** 2)
    radius = float(np.sqrt(((ys - cy) ** 2 + farther).max())) + AUTO_MARGIN
    return Field(disc_mask(vessels.shape, cy, cx, radius), 2.0 * radius, "auto")
