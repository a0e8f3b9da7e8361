"""Work through a large image a block of rows at a time, so no full-size temporary is made."""

from collections.abc import Iterator

ROWS_PER_BLOCK = 128
"""Rows per block at most: temporaries stay a few blocks in size whatever the photograph's size."""

PIXELS_PER_BLOCK = ROWS_PER_BLOCK * 4096
"""Pixels per block at most (but one row): a photograph wider than 4096 pixels, a strip 64 rows
high and 390,000 wide say, is worked through in fewer rows at a time."""


def row_blocks(height: int, width: int, multiple: int = 1) -> Iterator[slice]:
    """Consecutive row slices covering ``range(height)`` of an image ``width`` pixels wide, each
    at most :data:`ROWS_PER_BLOCK` rows and :data:`PIXELS_PER_BLOCK` pixels (at least one row),
    each but the last a ``multiple`` of rows long (rounded up to it)."""
    rows = max(1, min(ROWS_PER_BLOCK, PIXELS_PER_BLOCK // max(width, 1)))
    rows = -(-rows // multiple) * multiple
    for start in range(0, height, rows):
        yield slice(start, min(start + rows, height))
