"""Bilinear resizing into a preallocated array, a block of rows at a time (bounded memory)."""

import numpy as np

from edge_runtime.pipeline.blocks import row_blocks


def _sample_positions(size_out: int, size_in: int, start: int = 0, stop: int | None = None):
    """Source indices and weights for output pixels start..stop (pixel centres aligned)."""
    stop = size_out if stop is None else stop
    position = (np.arange(start, stop, dtype=np.float32) + 0.5) * (size_in / size_out) - 0.5
    position = np.clip(position, 0, size_in - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (position - low).astype(np.float32)


def upsample_bilinear(source: np.ndarray, out: np.ndarray) -> None:
    """Write the bilinear interpolation of ``source`` (h, w) into ``out`` (H, W), in place.

    Pixel centres are aligned (as Pillow and OpenCV do); values beyond the edge are clamped.
    Meant for enlarging: shrinking this way would alias. Works through ``out`` in blocks of rows
    (:mod:`edge_runtime.pipeline.blocks`), so the extra memory is a few blocks, not a full-size
    copy.
    """
    src = np.asarray(source, dtype=np.float32)
    x_low, x_high, x_weight = _sample_positions(out.shape[1], src.shape[1])
    for rows in row_blocks(out.shape[0]):
        y_low, y_high, y_weight = _sample_positions(
            out.shape[0], src.shape[0], rows.start, rows.stop
        )
        upper, lower = src[y_low], src[y_high]
        upper = upper[:, x_low] * (1 - x_weight) + upper[:, x_high] * x_weight
        lower = lower[:, x_low] * (1 - x_weight) + lower[:, x_high] * x_weight
        out[rows] = upper * (1 - y_weight[:, None]) + lower * y_weight[:, None]
