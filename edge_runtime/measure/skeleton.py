"""Thinning of a vessel map to its one-pixel-wide centre lines (the skeleton).

Zhang and Suen's parallel thinning (Comm. ACM 27(3), 1984): two alternating sub-iterations
remove, all at once, the border pixels whose removal keeps the picture's connectivity and line
ends, until none is left. Its result can keep two-pixel "staircases" on diagonal lines, which
would make lengths too long, so a last pass removes every pixel that is 8-simple (its removal
changes no connectivity) and not a line end, a quarter of the pixels at a time (those of one
parity of row and column, never neighbours of one another), which makes the skeleton
8-connected and minimal. Each sub-iteration looks up the neighbourhoods of the pixels left on
the border (vectorised over them, through a table of the 256 neighbourhoods), never of the
background nor of the pixels inside, which it cannot remove.
"""

from collections.abc import Iterator

import numpy as np

from edge_runtime.measure.grid import Grid


def _bits(code: int) -> list[int]:
    return [(code >> i) & 1 for i in range(8)]


def _transitions(code: int) -> int:
    """Zhang and Suen's A(P): background-to-set steps going once around the ring."""
    ring = _bits(code)
    return sum(ring[i] == 0 and ring[(i + 1) % 8] == 1 for i in range(8))


def _zhang_suen(code: int, step: int) -> bool:
    n, _, e, _, s, _, w, _ = _bits(code)
    if not (2 <= bin(code).count("1") <= 6 and _transitions(code) == 1):
        return False
    if step == 0:  # the south-east boundary and north-west corner
        return n * e * s == 0 and e * s * w == 0
    return n * e * w == 0 and n * s * w == 0  # the north-west boundary and south-east corner


def _simple_not_end(code: int) -> bool:
    """Removable without changing connectivity (Yokoi's 8-connectivity number is 1) and not a
    line end (at least two neighbours)."""
    empty = [1 - b for b in _bits(code)]
    yokoi = sum(empty[k] - empty[k] * empty[k + 1] * empty[(k + 2) % 8] for k in (0, 2, 4, 6))
    return yokoi == 1 and bin(code).count("1") >= 2


ZHANG_SUEN = tuple(np.array([_zhang_suen(c, step) for c in range(256)]) for step in (0, 1))
"""What each of the two sub-iterations removes, by ring code (:mod:`~edge_runtime.measure.grid`)."""

REDUNDANT = np.array([_simple_not_end(c) for c in range(256)])
"""What the last pass removes, by ring code."""


BACK = tuple(np.uint8(~(1 << (bit + 4) % 8) & 0xFF) for bit in range(8))
"""For each ring direction, what clears the neighbour's bit pointing back at the pixel."""


INTERIOR = 0xFF
"""The ring code of a pixel whose eight neighbours are all set: never removed (Zhang and Suen
remove a pixel with at most six), so a sub-iteration looks at the others alone."""


PIXELS_AT_ONCE = 2**20
"""Pixels of the grid, or codes, that a step of thinning works on at once where its temporaries
would otherwise be as long as all the set pixels: a list of them takes 8 bytes a pixel (a map
of lines: 12.5 million, 100 MB; their rows and columns worked out at once took 400 MB)."""


def _parts(length: int) -> Iterator[slice]:
    """Consecutive slices of :data:`PIXELS_AT_ONCE` (the last shorter) covering ``length``."""
    return (slice(start, start + PIXELS_AT_ONCE) for start in range(0, length, PIXELS_AT_ONCE))


def _ring_codes(grid: Grid) -> np.ndarray:
    """The ring codes of the set pixels, in an array as long as ``grid.flat`` (0 at the other
    pixels), looked up :data:`PIXELS_AT_ONCE` pixels of the grid at a time."""
    code = np.zeros(len(grid.flat), dtype=np.uint8)
    pixels = grid.flat.view(bool)  # numpy scans booleans several times faster
    for part in _parts(len(pixels)):
        index = np.flatnonzero(pixels[part])
        index += part.start
        code[index] = grid.codes(index)
    return code


def _remove(grid: Grid, code: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Clear the pixels ``removed`` and keep the ring codes ``code`` up to date: in each of
    their neighbours' codes, the bit pointing back at them (for each direction the neighbours
    of distinct pixels are distinct, so one vectorised step per direction). Returns the
    neighbours that were :data:`INTERIOR` (each once: after its first direction a pixel's code
    no longer is)."""
    grid.flat[removed] = 0
    uncovered = []
    for step, keep in zip(grid.ring, BACK, strict=True):
        near = removed + step
        uncovered.append(near[code[near] == INTERIOR])
        code[near] &= keep
    return np.concatenate(uncovered)


def _looked_up(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table[codes]`` of a table by ring code (uint8 ``codes``), :data:`PIXELS_AT_ONCE` codes
    at a time: numpy's ``take`` (faster than indexing by uint8 codes) widens them to 8-byte
    indices (a map of lines' border: 100 MB)."""
    found = np.empty(len(codes), dtype=table.dtype)
    for part in _parts(len(codes)):
        np.take(table, codes[part], out=found[part])
    return found


def _remove_redundant(grid: Grid, code: np.ndarray) -> None:
    """Remove the set pixels :data:`REDUNDANT` marks (by their ring codes ``code``), a quarter
    at a time (one parity of row and column: never neighbours of one another, so no two
    removals can break a line together, nor change the code of another of the quarter); a
    quarter :data:`PIXELS_AT_ONCE` pixels at a time."""
    index = grid.set_pixels()
    quarter = _quarters(index, grid.width)
    for q in range(4):
        for part in _parts(len(index)):
            one = index[part][quarter[part] == q]
            _remove(grid, code, one[_looked_up(REDUNDANT, code[one])])


def _quarters(index: np.ndarray, width: int) -> np.ndarray:
    """The quarter of each flat index of a grid ``width`` wide: its row's parity * 2 + its
    column's, 0..3 (uint8)."""
    quarter = np.empty(len(index), dtype=np.uint8)
    for part in _parts(len(index)):
        y, x = np.divmod(index[part], width)
        y &= 1
        y <<= 1
        y |= x & 1  # in place: two temporaries of 8 bytes a pixel, not five
        quarter[part] = y
    return quarter


def minimal(skeleton: np.ndarray) -> np.ndarray:
    """A one-pixel-wide boolean skeleton without its staircase pixels (those whose removal
    changes no connectivity and ends no line), as :func:`skeletonize` leaves its own."""
    grid = Grid.of(skeleton)
    _remove_redundant(grid, _ring_codes(grid))
    return grid.image()


def thin(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Thin the image a :class:`Grid` holds to its skeleton, in place (:func:`skeletonize`);
    returns the skeleton's pixels (flat indices, ascending) and their ring codes.

    The ring codes of the pixels left are looked up once and then kept up to date as pixels
    are removed (:func:`_remove`). Each sub-iteration looks at the border alone (the pixels
    left that are not :data:`INTERIOR`): a pixel joins it when a neighbour is removed, so a
    thick blob takes time in proportion to its area, not to its area times its thickness
    (a 2000 by 1000 band took 4 s).
    """
    code = _ring_codes(grid)
    squares = _squares(grid, code)
    _peel(grid, code)
    grid.flat[squares], code[squares] = 1, 0  # a pixel each, alone
    _remove_redundant(grid, code)
    skeleton = grid.set_pixels()  # the pixels looked at freed first (a map of lines: 100 MB)
    return skeleton, code[skeleton]


SQUARE = {(0, 0): 0b00011100, (0, 1): 0b01110000, (1, 0): 0b00000111, (1, 1): 0b11000001}
"""The ring codes of the four pixels of a 2x2 square alone: Zhang and Suen remove all four at
once (the one shape they remove whole), so its top left pixel is put back."""


def _squares(grid: Grid, code: np.ndarray) -> np.ndarray:
    """The top left pixels (flat indices) of the 2x2 squares that stand alone, by their ring
    codes ``code`` (as long as ``grid.flat``)."""
    corners = np.flatnonzero(code == SQUARE[0, 0])
    for (dy, dx), expected in SQUARE.items():
        corners = corners[code[corners + grid.offset(dy, dx)] == expected]
    return corners


def _peel(grid: Grid, code: np.ndarray) -> None:
    """Zhang and Suen's two sub-iterations in turn until neither removes a pixel, each on the
    border alone (the set pixels not :data:`INTERIOR`), with the ring codes ``code``; no list
    of all the pixels left is held beside the border's (on a map of lines, as long)."""
    border = np.flatnonzero(grid.flat.view(bool) & (code != INTERIOR))
    removing = True
    while removing:
        removing = False
        for table in ZHANG_SUEN:
            gone = _looked_up(table, code[border])
            if gone.any():
                removed, border = border[gone], border[~gone]  # the old border freed first
                border = np.concatenate([border, _remove(grid, code, removed)])
                removing = True


def skeletonize(mask: np.ndarray) -> np.ndarray:
    """The skeleton of an (H, W) vessel map (non-zero = vessel): a boolean (H, W) image of
    one-pixel-wide, 8-connected lines, with the map's connected pieces and holes."""
    grid = Grid.of(mask)
    thin(grid)
    return grid.image()
