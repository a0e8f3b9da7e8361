"""Work through a large image a block of rows at a time, so no full-size temporary is made."""

from collections.abc import Iterator

ROWS_PER_BLOCK = 128
"""Rows per block: temporaries stay a few blocks in size whatever the photograph's size."""


def row_blocks(height: int, rows: int = ROWS_PER_BLOCK) -> Iterator[slice]:
    """Consecutive row slices covering ``range(height)``, each at most ``rows`` long."""
    for start in range(0, height, rows):
        yield slice(start, min(start + rows, height))
