"""Exact Euclidean distance from chosen pixels of a binary image to its nearest background
pixel, and where that pixel is (a distance transform evaluated where it is needed, not over the
whole image)."""

from dataclasses import dataclass

import numpy as np

MAX_DISTANCE = 64
"""Search radius in pixels: a pixel farther than this from any background pixel (inside a blob
more than 128 pixels across, which no vessel is) is given this distance and no direction."""


def _bands(limit: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The offsets (dy, dx) of the disc of radius ``limit`` and their squared lengths, in bands
    of one pixel of radius, nearest first."""
    dy, dx = np.mgrid[-limit : limit + 1, -limit : limit + 1]
    squared = (dy**2 + dx**2).ravel()
    disc = squared <= limit**2  # not the square's corners: past the radius, none or all
    dy, dx, squared = dy.ravel()[disc], dx.ravel()[disc], squared[disc]
    band = np.floor(np.sqrt(squared)).astype(np.int64)
    order = np.argsort(squared, kind="stable")
    dy, dx, squared, band = dy[order], dx[order], squared[order], band[order]
    edges = np.searchsorted(band, np.arange(1, limit + 1))
    return [
        (dy[a:b], dx[a:b], squared[a:b])
        for a, b in zip(np.r_[0, edges], np.r_[edges, len(band)], strict=True)
        if b > a
    ]


_BANDS = _bands(MAX_DISTANCE)

LOOKUPS_AT_ONCE = 2**21
"""Offsets times pixels looked up at once (a band for a chunk of the pixels): an index of 16 MB,
whatever the number of pixels still unresolved (all of a map's centre lines at once took
1.9 GB for a 25-megapixel map of stripes 7 pixels apart)."""


@dataclass(frozen=True)
class Padded:
    """A binary (H, W) image padded by ``margin`` background pixels on every side: ``flat``
    holds its pixels (boolean, True = set) row after row, ``width`` = W + 2 ``margin``; every
    pixel up to that far past the frame has a flat index.

    The margin is :data:`MAX_DISTANCE`, or less where the image is narrower: no pixel lies
    farther than half its shorter side from the frame, beyond which is background, so no
    search goes farther (a 1x25,000,000 map padded by 64 took 3 GiB)."""

    flat: np.ndarray
    width: int
    margin: int

    @classmethod
    def of(cls, mask: np.ndarray) -> "Padded":
        """The padded copy of an (H, W) ``mask`` (non-zero = set)."""
        mask = np.asarray(mask)
        margin = min(MAX_DISTANCE, min(mask.shape) // 2 + 3)
        padded = np.zeros((mask.shape[0] + 2 * margin, mask.shape[1] + 2 * margin), dtype=bool)
        np.not_equal(mask, 0, out=padded[margin:-margin, margin:-margin])
        return cls(padded.ravel(), padded.shape[1], margin)

    def index(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Flat indices of the pixels (``ys``, ``xs``) of the image (or past its frame, up to
        ``margin``)."""
        ys, xs = np.asarray(ys, np.int64), np.asarray(xs, np.int64)
        return ys * self.width + (xs + self.margin * (self.width + 1))


@dataclass(frozen=True)
class Nearest:
    """For each pixel asked about: the ``distance`` (pixels, centre to centre) to its nearest
    background pixel, and that pixel's offset (``dy``, ``dx``) from it (0, 0 when none lies
    within :data:`MAX_DISTANCE`; the first in a fixed order when several are as near)."""

    distance: np.ndarray
    dy: np.ndarray
    dx: np.ndarray


def nearest_background(mask: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> Nearest:
    """The nearest pixel outside an (H, W) ``mask`` (non-zero = inside) to each pixel
    (``ys[i]``, ``xs[i]``); beyond the frame counts as outside."""
    image = Padded.of(mask)
    return nearest_in(image, image.index(ys, xs))


def nearest_in(image: Padded, at: np.ndarray) -> Nearest:
    """The nearest background pixel of a :class:`Padded` image to each pixel of flat index
    ``at[i]``.

    The offsets around the pixels are searched in rings of growing radius, each ring for the
    pixels not yet resolved: the first ring that holds a background pixel holds the nearest. A
    background pixel is at 0.
    """
    distance = np.full(len(at), float(MAX_DISTANCE))
    near_y, near_x = np.zeros(len(at), np.int64), np.zeros(len(at), np.int64)
    pending = np.arange(len(at))
    for dy, dx, squared in _BANDS:
        if not len(pending):
            break
        offsets, rows = dy * image.width + dx, len(dy)
        step = max(1, LOOKUPS_AT_ONCE // rows)
        score = np.concatenate(
            [
                _first_outside(image, offsets, at[pending[i : i + step]])
                for i in range(0, len(pending), step)
            ]
        )  # rows - the first offset outside; 0: none
        found = score > 0
        first = (rows - score[found]).astype(np.intp)
        resolved = pending[found]
        distance[resolved] = np.sqrt(squared[first])
        near_y[resolved], near_x[resolved] = dy[first], dx[first]
        pending = pending[~found]
    return Nearest(distance, near_y, near_x)


def _first_outside(image: Padded, offsets: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each pixel of flat index ``at[i]``: ``len(offsets)`` - the position of the first of
    ``offsets`` (a band, nearest first) that lands outside, 0 when none does; found as the
    largest of descending weights (numpy's argmax down the columns is slow)."""
    rows = len(offsets)
    inside = image.flat[offsets[:, None] + at]  # offset by pixel
    weight = np.arange(rows, 0, -1, dtype=np.min_scalar_type(rows))[:, None]
    return (~inside * weight).max(axis=0)
