"""Bilinear resizing that antialiases when it shrinks and keeps memory bounded when it enlarges."""

import numpy as np
from PIL import Image

from edge_runtime.pipeline.blocks import row_blocks


def _sample_positions(size_out: int, size_in: int, start: int = 0, stop: int | None = None):
    """Source indices and weights for output pixels start..stop (pixel centres aligned)."""
    stop = size_out if stop is None else stop
    position = (np.arange(start, stop, dtype=np.float32) + 0.5) * (size_in / size_out) - 0.5
    position = np.clip(position, 0, size_in - 1)
    low = np.floor(position).astype(np.intp)
    high = np.minimum(low + 1, size_in - 1)
    return low, high, (position - low).astype(np.float32)


def upsample_rows(
    source: np.ndarray, shape: tuple[int, int], first: int, last: int, out: np.ndarray
) -> None:
    """Write rows ``first..last`` of the bilinear enlargement of ``source`` (h, w) to ``shape``
    (H, W) into ``out`` (last - first, W), a block of rows at a time.

    Pixel centres are aligned (as Pillow and OpenCV do); values beyond the edge are clamped.
    Each row depends only on its index, so any split into rows gives the same values. Meant for
    enlarging: shrinking this way would alias (:func:`resize` picks).
    """
    src = np.asarray(source, dtype=np.float32)
    x_low, x_high, x_weight = _sample_positions(shape[1], src.shape[1])
    x_keep = 1 - x_weight
    for rows in row_blocks(last - first, shape[1]):
        start, stop = first + rows.start, first + rows.stop
        y_low, y_high, y_weight = _sample_positions(shape[0], src.shape[0], start, stop)
        # each source row the block reads, interpolated across once (an enlarged row reads
        # each source row for several output rows)
        band = src[y_low[0] : y_high[-1] + 1]
        # np.take: faster than indexing; in place from here: no temporaries
        across, right = np.take(band, x_low, axis=1), np.take(band, x_high, axis=1)
        across *= x_keep
        right *= x_weight
        across += right
        upper = np.take(across, y_low - y_low[0], axis=0)
        lower = np.take(across, y_high - y_low[0], axis=0)
        upper *= (1 - y_weight)[:, None]
        lower *= y_weight[:, None]
        np.add(upper, lower, out=out[rows])


def upsample_bilinear(source: np.ndarray, out: np.ndarray) -> None:
    """Write the bilinear enlargement of ``source`` (h, w) into ``out`` (H, W), in place, a block
    of rows at a time (:func:`upsample_rows`): the extra memory is a few blocks, not a full-size
    copy."""
    upsample_rows(source, out.shape, 0, out.shape[0], out)


def _float_picture(image: np.ndarray) -> Image.Image:
    """A Pillow "F" (float32) picture of an (h, w) array: 8- and 16-bit integers converted by
    Pillow (exactly, as numpy would), so that no float32 copy is made of them."""
    if image.dtype in (np.uint8, np.uint16):
        return Image.fromarray(image).convert("F")
    return Image.fromarray(np.asarray(image, dtype=np.float32), mode="F")


def resize(image: np.ndarray, shape: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """Bilinear resize of a real (h, w) array to ``shape`` (float32, the values as if made
    float32 first), into ``out`` when given.

    Where either side shrinks, Pillow's bilinear filter, widened to the scale factor, averages
    every source pixel (antialiasing: a thin vessel is not dropped or broken into dashes).
    Where both sides grow or stay, plain bilinear interpolation is written block by block
    (:func:`upsample_bilinear`), so a large result needs no full-size temporaries.
    """
    image = np.asarray(image)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    if image.shape == tuple(shape):
        out[...] = image
    elif shape[0] < image.shape[0] or shape[1] < image.shape[1]:
        shrunk = _float_picture(image).resize(shape[::-1], Image.Resampling.BILINEAR)
        out[...] = np.asarray(shrunk, dtype=np.float32)
    else:
        upsample_bilinear(image, out)
    return out
