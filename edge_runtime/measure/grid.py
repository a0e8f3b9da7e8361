"""Pixel neighbourhoods and connected pieces on a binary image, vectorised over its pixels.

An image is handled as a flat copy padded by one background pixel on every side (:class:`Grid`),
so that each pixel's eight neighbours are at fixed offsets of its flat index and no neighbour
lookup leaves the array.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge_runtime.cached import cached_property

RING = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
"""The eight neighbours (dy, dx) clockwise from north: bit ``i`` of a ring code is ``RING[i]``."""

FORWARD = ((0, 1), (1, 1), (1, 0), (1, -1))
"""Half of the eight directions: each pair of neighbouring pixels is linked once along these."""


@dataclass(frozen=True)
class Grid:
    """A binary (H, W) image padded by one background pixel: ``flat`` holds its uint8 pixels
    (1 = set) row after row, ``width`` = W + 2."""

    flat: np.ndarray
    width: int
    shape: tuple[int, int]

    @classmethod
    def of(cls, mask: np.ndarray) -> "Grid":
        """The padded copy of an (H, W) ``mask`` (non-zero = set; a boolean array's bytes are
        not trusted to be 0 or 1: Pillow's 1-bit images give 255)."""
        mask = np.asarray(mask)
        padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), dtype=bool)
        np.not_equal(mask, 0, out=padded[1:-1, 1:-1])
        return cls(padded.view(np.uint8).ravel(), padded.shape[1], mask.shape)

    def offset(self, dy: int, dx: int) -> int:
        """Flat index step to the neighbour (dy, dx)."""
        return dy * self.width + dx

    @cached_property
    def ring(self) -> tuple[int, ...]:
        """The flat index steps to the eight neighbours, in :data:`RING` order (``index +
        step`` holds the neighbours of pixels ``index`` in one direction: a direction at a
        time, so that a large map's eight neighbour arrays never exist at once)."""
        return tuple(self.offset(dy, dx) for dy, dx in RING)

    def set_pixels(self) -> np.ndarray:
        """Flat indices of the set pixels, ascending."""
        return np.flatnonzero(self.flat.view(bool))  # numpy scans booleans several times faster

    def codes(self, index: np.ndarray) -> np.ndarray:
        """The ring code (uint8; bit ``i`` set when neighbour ``RING[i]`` is) of each pixel."""
        code = np.zeros(len(index), dtype=np.uint8)
        for bit, step in enumerate(self.ring):
            code |= self.flat[index + step] << np.uint8(bit)
        return code

    def coordinates(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(y, x) in the unpadded image of flat indices."""
        y, x = np.divmod(index, self.width)
        return y - 1, x - 1

    def image(self) -> np.ndarray:
        """The (H, W) boolean image the grid now holds."""
        rows = self.flat.reshape(-1, self.width)
        return rows[1:-1, 1:-1].astype(bool)


def components(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Connected components of a graph of ``count`` nodes with edges ``first[i]``-``second[i]``:
    a label per node, 0..k-1 in the order of each component's smallest node.

    Labels are merged by hooking each edge's larger root onto the smaller and halving paths
    (pointer jumping), all edges at once, until nothing changes: a few dozen rounds even for
    the long chains of a vessel skeleton.
    """
    parent = np.arange(count)
    if len(first):
        while True:
            root_a, root_b = parent[first], parent[second]
            low, high = np.minimum(root_a, root_b), np.maximum(root_a, root_b)
            moving = low != high
            if not moving.any():
                break
            np.minimum.at(parent, high[moving], low[moving])
            while True:  # every node straight to its root
                grand = parent[parent]
                if np.array_equal(grand, parent):
                    break
                parent = grand
    root = parent == np.arange(count)
    return (np.cumsum(root) - 1)[parent]


POSITION_TABLE_UP_TO = 2**23
"""Pixels of the largest grid whose set pixels' positions are looked up in a table as large as
the grid (8 bytes a pixel: 64 MB at most); in a larger one they are searched for, slower but in
memory of their number (the table would take 190 MB for a 24-megapixel map)."""


def _positions(grid: Grid, index: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """What gives the position in ``index`` (sorted flat indices) of flat indices that are in
    it; of those that are not, some position whose index differs."""
    if len(grid.flat) > POSITION_TABLE_UP_TO:
        last = max(len(index) - 1, 0)
        return lambda flat: np.minimum(np.searchsorted(index, flat), last)
    table = np.zeros(len(grid.flat), dtype=np.intp)
    table[index] = np.arange(len(index))
    return table.__getitem__


def neighbour_pairs(grid: Grid, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair of 8-adjacent set pixels among ``index`` (sorted flat indices), once, as
    positions in ``index`` (:func:`_positions`)."""
    position = _positions(grid, index)
    first, second = [], []
    for dy, dx in FORWARD:
        other = index + grid.offset(dy, dx)
        mine = np.flatnonzero(grid.flat[other].view(bool))
        where = position(other[mine])
        hit = index[where] == other[mine]  # a set pixel outside ``index`` is not found there
        first.append(mine[hit])
        second.append(where[hit])
    return np.concatenate(first), np.concatenate(second)
