"""Photograph to the single grayscale channel the models were trained on.

The training patches are grayscale renderings of colour fundus photographs. The default here is
ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, what Pillow's "L" conversion computes); the green
channel, where vessels have the most contrast, is offered as an alternative. The per-patch
contrast stretch that follows removes any linear scaling, so 8- and 16-bit photographs need no
rescaling.
"""

import numpy as np

from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.pipeline.blocks import row_blocks

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_grayscale(image: np.ndarray, channel: str = "luma") -> np.ndarray:
    """Grayscale float32 (H, W) of an (H, W) or (H, W, 3|4) image of any real dtype."""
    if channel not in CHANNELS:
        raise ValueError(f"got channel {channel!r}, expected one of {CHANNELS}")
    array = np.asarray(image)
    if array.ndim == 2:
        return array.astype(np.float32)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"got an image of shape {array.shape}, expected (H, W) or (H, W, 3|4)")
    if channel == "green":
        return array[..., 1].astype(np.float32)
    gray = np.empty(array.shape[:2], dtype=np.float32)
    for rows in row_blocks(len(array)):  # no full-size float temporaries
        gray[rows] = array[rows, :, :3].astype(np.float32) @ LUMA_WEIGHTS
    return gray
