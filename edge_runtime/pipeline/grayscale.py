"""Photograph to the single grayscale channel the models were trained on.

The training patches are grayscale renderings of colour fundus photographs. The default here is
ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, what Pillow's "L" conversion computes); the green
channel, where vessels have the most contrast, is offered as an alternative. The per-patch
contrast stretch that follows removes any linear scaling, so 8- and 16-bit photographs need no
rescaling.
"""

import math

import numpy as np

from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.pipeline.blocks import row_blocks

LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

NO_COLOUR = "no colour found (a grayscale photograph, or one too dark to tell)"
"""How the messages that skip or refuse a photograph without colour name it."""

COLOUR_SIDE = 80
"""A photograph's colour is read from a copy subsampled to about this many pixels a side."""


def colour_sample(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """A photograph's (H, W, 3|4) pixels subsampled to about :data:`COLOUR_SIDE` a side (its
    first three channels), and the step taken."""
    step = max(1, math.ceil(max(pixels.shape[:2]) / COLOUR_SIDE))
    return pixels[::step, ::step, :3], step


COLOUR_LEVELS = 3.0
"""Levels (of 255) by which a pixel's channels must differ to count as colour, and a channel's
values spread (5th to 95th percentile) to count as varying: more than rounding and a JPEG's
chroma noise leave on a grayscale photograph."""

LIT_LEVEL = 10.0
"""Level (of 255) a pixel's brightest channel must pass to be judged for colour: the black
around the field of view, however much of the frame it fills, has no say."""

COLOUR_SHARE = 0.05
"""Share of a photograph's lit sampled pixels that must be coloured so for it to have colour:
a colour photograph's are two thirds or more (DRIVE, STARE, GAVE, LES-AV), a coloured stamp or
overlay on a grayscale one about 0.2 %."""


def has_colour(pixels: np.ndarray) -> bool:
    """Whether a photograph's pixels have colour, on the lit pixels (:data:`LIT_LEVEL`) of its
    :func:`colour_sample`: its channels differ on :data:`COLOUR_SHARE` of them, and two
    channels vary. A red-free or monochrome camera's have none: one channel, three equal ones (a
    coloured stamp on them aside), or one alone. A 16-bit photograph is read on the scale of
    its sample's 99th percentile (a 12-bit sensor's as a 16-bit one's)."""
    if pixels.ndim == 2:
        return False
    small, _ = colour_sample(pixels)
    levels = small.reshape(-1, 3).astype(np.float32)
    if pixels.dtype != np.uint8 and levels.size:  # a burned-in white label does not set it
        levels *= 255 / max(float(np.percentile(levels, 99)), 1.0)
    levels = levels[levels.max(axis=1) > LIT_LEVEL]
    if not len(levels):
        return False
    low, high = np.percentile(levels, [5, 95], axis=0)
    varying = np.count_nonzero(high - low > COLOUR_LEVELS)
    differing = np.mean(np.ptp(levels, axis=1) > COLOUR_LEVELS)
    return bool(varying >= 2 and differing >= COLOUR_SHARE)


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
    for rows in row_blocks(*array.shape[:2]):  # no full-size float temporaries
        gray[rows] = array[rows, :, :3].astype(np.float32) @ LUMA_WEIGHTS
    return gray
