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

NO_COLOUR = "no colour found (a grayscale or tinted photograph, or one too dark to tell)"
"""How the messages that skip or refuse a photograph without colour name it."""

COLOUR_SIDE = 80
"""A photograph's colour is read from a copy subsampled to about this many pixels a side."""


def colour_sample(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """A photograph's (H, W, 3|4) pixels subsampled to about :data:`COLOUR_SIDE` a side (its
    first three channels), and the step taken."""
    step = max(1, math.ceil(max(pixels.shape[:2]) / COLOUR_SIDE))
    return pixels[::step, ::step, :3], step


COLOUR_LEVELS = 4.0
"""Levels (of 255) by which a pixel's channels must differ from its tint (:func:`off_tint`) to
count as colour: more than rounding, and than a JPEG's chroma noise leaves on most pixels of a
tinted photograph."""

LIT_LEVEL = 10.0
"""Level (of 255) a pixel's brightest channel must pass to be judged for colour: the black
around the field of view, however much of the frame it fills, has no say."""

DIM_GAIN = 4.0
"""A photograph dimmer than the full scale (its sample's 99th percentile) is judged for colour
as if up to this many times brighter: the 108 labelled photographs keep their colour down to
0.08 of their brightness (median; 0.15 at most, STARE im0324), below which too few levels are
left to tell it."""

TINT_NEIGHBOURS = 8
"""A pixel's tint is fitted to the sampled pixels nearest it in brightness, this many on
either side."""

COLOUR_SHARE = 0.25
"""Share of a photograph's lit sampled pixels that must be off their tint for it to have
colour: 0.34 at least on the 108 labelled colour photographs (DRIVE, STARE, GAVE, LES-AV) and
scikit-image's retina (STARE im0324; 0.40 at least saved as JPEG of quality 50); 0.004 at most
on them made sepia, a duotone, grey times a colour or one colour's shades, saved losslessly,
0.19 made sepia and saved as JPEG of quality 75 (0.22 grey times a colour, at quality 90); a
coloured stamp on a grayscale photograph about 0.2 %. A strong tint saved as JPEG (a green, an
orange) reads as colour: the compression's chroma errors leave it off its tint."""


def off_tint(colours: np.ndarray) -> np.ndarray:
    """How far (the spread of its channels' differences, in levels) each of N pixels
    (``colours``: (3, N), a row a channel) lies from its *tint*: the colour a straight line
    through the colours of the :data:`TINT_NEIGHBOURS` pixels on either side of it in
    brightness (the sum of its channels) gives at its brightness. One colour at different
    brightness (a sepia print, a grey photograph coloured, however a channel is clipped) lies
    on its tint, to rounding."""
    order = np.argsort(colours.sum(axis=0))
    colours = colours[:, order].astype(np.float64)  # in brightness order
    brightness = colours.sum(axis=0)
    columns = np.vstack(
        [np.ones_like(brightness), brightness, brightness**2, colours, colours * brightness]
    )
    sums = np.zeros((len(columns), columns.shape[1] + 1))
    np.cumsum(columns, axis=1, out=sums[:, 1:])
    index = np.arange(len(brightness))
    first = np.maximum(index - TINT_NEIGHBOURS, 0)
    last = np.minimum(index + TINT_NEIGHBOURS + 1, len(brightness))
    window = sums[:, last] - sums[:, first]  # each pixel's neighbours' sums
    count, total, squares = window[:3]
    channel, product = window[3:6], window[6:]
    spread = count * squares - total**2
    varies = spread > 1e-9 * count * squares  # else one brightness alone: its mean colour
    slope = np.divide(
        count * product - total * channel, spread, out=np.zeros_like(channel), where=varies
    )
    off = colours - (channel - slope * total) / count - slope * brightness
    out = np.empty(len(brightness))
    out[order] = np.ptp(off, axis=0)
    return out


def has_colour(pixels: np.ndarray) -> bool:
    """Whether a photograph's pixels have colour that their brightness does not tell, on the
    lit pixels (:data:`LIT_LEVEL`) of its :func:`colour_sample`: :data:`COLOUR_SHARE` of them
    lie over :data:`COLOUR_LEVELS` off their tint (:func:`off_tint`). A red-free or monochrome
    camera's have none: one channel, three equal ones (a coloured stamp on them aside), one
    alone, or one colour at different brightness (a tinted one): an artery/vein model, which
    standardises each channel, sees the same three times. Read on the scale of its sample's
    99th percentile (a 12-bit sensor's as a 16-bit one's; in 16 bits, of the values short of
    full scale, which a label may fill), a dim one as if brighter (:data:`DIM_GAIN`)."""
    if pixels.ndim == 2:
        return False
    small, _ = colour_sample(pixels)
    colours = small.reshape(-1, 3).T.astype(np.float32)  # (3, N)
    # the scale: the 99th percentile, which a burned-in white label does not set; in 16 bits,
    # of the values short of full scale, which a label may fill (a 12-bit sensor's never reach)
    values = colours.ravel()
    if pixels.dtype != np.uint8:
        values = values[values < np.iinfo(pixels.dtype).max]
    if values.size:
        rank = int(0.99 * (values.size - 1))
        top = max(float(np.partition(values, rank)[rank]), 1.0)
        if pixels.dtype != np.uint8:
            colours *= 255 / top
            top = 255.0
        colours *= min(DIM_GAIN, 255 / top)
    lit = colours.max(axis=0) > LIT_LEVEL
    if not lit.any():
        return False
    return bool(np.mean(off_tint(colours[:, lit]) > COLOUR_LEVELS) >= COLOUR_SHARE)


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
