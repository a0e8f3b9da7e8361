"""Vessel width along the skeleton, across the vessel from its nearest edge to the far one."""

import numpy as np

from edge_runtime.measure.distance import Padded, nearest_in

OFF_CENTRE = 2.0
"""A thinned centre line runs at most a pixel beside the vessel's middle, so the far edge lies
at most this many pixels farther than the near one; farther, the line from the near edge runs
along the vessel rather than across it."""


def vessel_widths(vessels: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Width in pixels of an (H, W) vessel map (non-zero = vessel) at skeleton pixels (``ys``,
    ``xs``), measured across the vessel through the pixel.

    From the pixel, the nearest background pixel is ``d`` away (the near edge); going the other
    way along that line, the first background pixel is ``d2`` away (the far edge). The edges
    lie half a pixel before those background pixels, so the width is ``d + d2 - 1``. When no
    background is met within ``d +`` :data:`OFF_CENTRE` (the line runs along a thin vessel, its
    nearest background ambiguous), the vessel is taken as centred: ``2 d - 1``.

    On straight vessels 2 to 9 pixels wide at any angle it is within half a pixel of their
    width; the steps of the pixel grid leave no better. Beyond the frame counts as background
    (the walk along the line meets it one pixel past the frame, inside the padding).
    """
    image = Padded.of(vessels)
    ys, xs = np.asarray(ys, np.int64), np.asarray(xs, np.int64)
    near = nearest_in(image, image.index(ys, xs))
    length = np.hypot(near.dy, near.dx)
    step_y = -near.dy / np.maximum(length, 1.0)
    step_x = -near.dx / np.maximum(length, 1.0)
    far = np.full(len(ys), np.inf)
    pending = np.flatnonzero(length > 0)
    limit = near.distance + OFF_CENTRE
    step = 1
    while len(pending):
        pending = pending[step <= limit[pending]]
        py = np.rint(ys[pending] + step * step_y[pending]).astype(np.int64)
        px = np.rint(xs[pending] + step * step_x[pending]).astype(np.int64)
        inside = image.flat[image.index(py, px)]
        far[pending[~inside]] = step
        pending = pending[inside]
        step += 1
    centred = 2.0 * near.distance - 1.0
    return np.where(np.isfinite(far), near.distance + far - 1.0, centred)
