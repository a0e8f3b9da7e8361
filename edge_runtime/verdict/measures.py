"""What the verdict measures on a photograph, before any model runs: pure numpy functions of
the decoded pixels and of what :meth:`~edge_runtime.pipeline.segmenter.Segmenter.prepare`
already made (the field of view, and the grayscale the model sees at the working scale, where
the field is :data:`~edge_runtime.contract.model_card.FOV_DIAMETER` pixels across).

Each measurement is a plain number an operator can be shown; :mod:`edge_runtime.verdict.checks`
holds the limits they are judged by and what each means.
"""

import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.pipeline.decode import Photo
from edge_runtime.pipeline.fov import FieldOfView
from edge_runtime.pipeline.grayscale import colour_sample
from edge_runtime.pipeline.segmenter import Prepared
from edge_runtime.verdict.sharpness import sharpness

INNER = 0.9
"""Share of the field's radius measured: its rim is dark and sharp on every camera."""

COLOURED = 0.02
"""The field's colour is judged when at least this share of its pixels is not clipped."""

DARK_PERCENTILE = 2
"""The field's colour above this percentile of each channel is the light the retina reflects,
which a haze's veil (the same light added everywhere) does not change."""

CLIPPED = 0.98
"""A pixel at or above this share of the full scale is clipped."""

CELLS = 8
"""Uneven light is judged on a CELLS x CELLS grid over the field."""

CELL_INSIDE = 0.6
"""A cell is judged when at least this share of it lies inside the field."""

LIT = 0.25
"""Contrast is measured where the field is lit: at least this share of its median brightness
(a vessel is never that much darker than the retina around it)."""

DIM = 0.02
"""Contrast is taken relative to surroundings at least this share of the full scale bright:
in a nearly black photograph, a level or two of difference is not contrast."""

CONTRAST_PERCENTILE = 98
"""Vessel contrast: this percentile of how much darker each pixel is than its surroundings
(the darkest vessels; about a tenth of a fundus is vessel)."""

BACKGROUND_RADIUS = 3
"""The surroundings of a pixel for contrast: a box of 2 * 3 + 1 pixels at a quarter of the
working scale (28 working pixels, wider than the widest vessel)."""

STRUCTURE_RADIUS = 4
"""Structure is the field's variance left after averaging boxes of 2 * 4 + 1 pixels at a
quarter of the working scale (36 working pixels, a fifteenth of the field's diameter)."""

BLOCK = 8
"""JPEG's block side in pixels."""

BLOCK_LINES = 64
"""Blockiness reads about this many rows (and columns), evenly spaced: a block's edges run
its whole side, so a few rows see every column's."""

HALF_NORMAL_LOW_MEAN = 4 * (1 - math.exp(-(0.6745**2) / 2)) / math.sqrt(2 * math.pi)
"""Mean of |z| over the lower half of |z| for standard normal z (0.3247): the noise estimate
is taken from the flatter half of the pixels, which vessels and edges do not reach."""

NOISE_ROW_STEP = 8
"""The noise is estimated on every 8th row (it is the same everywhere)."""

NOISE_FLOOR = 0.05
"""Least noise reported, in 8-bit levels: a synthetic image may have none at all."""

NOISE_KERNEL_NORM = 6.0
"""L2 norm of the 3x3 second-difference kernel [[1,-2,1],[-2,4,-2],[1,-2,1]] (Immerkaer)."""


@dataclass(frozen=True)
class Measurements:
    """The photograph-level measurements (see the module and each function for units).

    ``None`` where a measurement does not apply: colour when nearly all the field is clipped,
    framing without a detected disc, blockiness of a photograph decoded reduced or of more
    than 8 bits."""

    redness: float | None
    blueness: float | None
    brightness: float
    clipped: float
    evenness: float
    contrast: float
    sharpness: float
    noise: float
    signal_to_noise: float
    blockiness: float | None
    field_lost: float | None
    offset: float | None
    fov_found: bool
    structure: float
    round_field: float | None = None
    """For a grayscale photograph, whose colour cannot be judged: 1 when a fundus camera's dark,
    round border was found around its field, else 0 (``None`` for a colour photograph)."""
    swapped_redness: float | None = None
    """``redness`` of the photograph with its red and blue swapped: a fundus's when it was
    handed over as BGR (``None`` where colour is not judged)."""
    swapped_blueness: float | None = None
    """``blueness`` of the photograph with its red and blue swapped."""
    frame_aspect: float | None = None
    """For a photograph whose field of view was not found (a crop inside it, which fills the
    frame): its long side over its short side (``None`` where the field was found, whose own
    framing is measured)."""


def inner_field(shape: tuple[int, int], fov: FieldOfView, share: float = INNER) -> np.ndarray:
    """Boolean (H, W) mask of the disc shrunk to ``share`` of its radius; without a disc, the
    frame less a margin of the same share."""
    if fov.found:
        return FieldOfView(fov.center_y, fov.center_x, fov.radius * share, True).mask(shape)
    inner = np.zeros(shape, dtype=bool)
    dy, dx = (round(side * (1 - share) / 2) for side in shape)
    inner[dy : shape[0] - dy, dx : shape[1] - dx] = True
    return inner


def shrunk(fov: FieldOfView, factor: float) -> FieldOfView:
    """The same disc in the pixels of an image ``factor`` times smaller, whose pixel y covers
    pixels [y * factor, (y + 1) * factor) of this one (the inverse of
    :meth:`FieldOfView.enlarged`)."""
    return FieldOfView(
        (fov.center_y + 0.5) / factor - 0.5,
        (fov.center_x + 0.5) / factor - 0.5,
        fov.radius / factor,
        fov.found,
    )


def half_scale(image: np.ndarray) -> np.ndarray:
    """float32 means of 2x2 blocks (an odd last row or column dropped)."""
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    image = np.asarray(image[:height, :width], dtype=np.float32)
    means = image[0::2, 0::2] + image[0::2, 1::2]
    means += image[1::2, 0::2]
    means += image[1::2, 1::2]
    means /= 4
    return means


def box_mean(image: np.ndarray, radius: int) -> np.ndarray:
    """float32 mean over a (2 * radius + 1)-pixel square around each pixel (edges repeated),
    one axis at a time."""
    side = 2 * radius + 1
    out = np.asarray(image, dtype=np.float32)
    for axis in (0, 1):
        padding = [(0, 0), (0, 0)]
        padding[axis] = (radius + 1, radius)
        sums = np.cumsum(np.pad(out, padding, mode="edge"), axis=axis)
        ahead = sums.take(np.arange(side, sums.shape[axis]), axis=axis)
        behind = sums.take(np.arange(sums.shape[axis] - side), axis=axis)
        out = (ahead - behind) / side
    return out


Colour = tuple[float | None, float | None]
"""A field's (red share, blue share); ``None`` where it is not judged."""


def field_colour(pixels: np.ndarray, fov: FieldOfView) -> tuple[Colour, Colour]:
    """(red share, blue share) of the colour of the field's pixels where no channel is
    clipped: the warmer of their mean colour and their colour above each channel's
    :data:`DARK_PERCENTILE` (the larger red share, the smaller blue share) of a colour
    photograph (:func:`measure` does not ask it of a grayscale one); and the same with red and
    blue swapped (a photograph handed over as BGR). ``None`` (not judged) when fewer than
    :data:`COLOURED` of the field's pixels are left: clipped colours are not the retina's."""
    small, step = colour_sample(pixels)
    field = small[inner_field(small.shape[:2], shrunk(fov, step))]
    unclipped = field[(field < CLIPPED * np.iinfo(pixels.dtype).max).all(axis=1)]
    if len(unclipped) < max(2, COLOURED * len(field)):
        return (None, None), (None, None)
    field = unclipped.astype(np.float32)
    mean = field.mean(axis=0)
    dark = np.array([quantile(field[:, c], DARK_PERCENTILE / 100) for c in range(3)])
    (red, blue), (reflected_red, reflected_blue) = _shares(mean), _shares(mean - dark)
    as_is = max(red, reflected_red), min(blue, reflected_blue)
    return as_is, (max(blue, reflected_blue), min(red, reflected_red))


def _shares(colour: np.ndarray) -> tuple[float, float]:
    total = float(colour.sum())
    if total <= 0:
        return 1 / 3, 1 / 3
    return float(colour[0]) / total, float(colour[2]) / total


def quantile(values: np.ndarray, share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank; 0 for none): a
    partition, not a sort."""
    if not values.size:
        return 0.0
    rank = min(values.size - 1, int(share * values.size))
    return float(np.partition(values, rank)[rank])


def evenness(quarter: np.ndarray, quarter_inner: np.ndarray) -> float:
    """Mean brightness of the darkest cell of a :data:`CELLS` x :data:`CELLS` grid over the
    field (at a quarter of the working scale), as a share of the median cell's: 1 when the
    light is even; an eyelid's shadow or a small pupil's dark rim take it towards 0."""
    rows, columns = (
        np.flatnonzero(quarter_inner.any(axis=1)),
        np.flatnonzero(quarter_inner.any(axis=0)),
    )
    if len(rows) < CELLS or len(columns) < CELLS:
        return 1.0
    ys = np.linspace(rows[0], rows[-1] + 1, CELLS + 1).astype(int)[:-1]
    xs = np.linspace(columns[0], columns[-1] + 1, CELLS + 1).astype(int)[:-1]
    inside = quarter_inner.astype(np.float64)
    counts = np.add.reduceat(np.add.reduceat(inside, ys, axis=0), xs, axis=1)
    sums = np.add.reduceat(np.add.reduceat(quarter * inside, ys, axis=0), xs, axis=1)
    areas = np.outer(np.diff(np.append(ys, rows[-1] + 1)), np.diff(np.append(xs, columns[-1] + 1)))
    judged = counts >= CELL_INSIDE * areas
    means = sums[judged] / counts[judged]
    middle = float(np.median(means)) if means.size else 0.0
    return float(means.min()) / middle if middle > 0 else 1.0


def structure(quarter: np.ndarray, quarter_inner: np.ndarray) -> float:
    """Share of the field's variance (at a quarter of the working scale) in features larger than
    :data:`STRUCTURE_RADIUS`: what box means keep of it. A fundus's light, disc and large
    vessels keep much of it (0.4-0.9); noise, even smoothed by enlarging, keeps almost none
    (a box of n pixels keeps about 1/n of white noise). 1 for a flat field."""
    values = quarter[quarter_inner]
    total = float(values.var()) if values.size else 0.0
    if total <= 0:
        return 1.0
    return float(box_mean(quarter, STRUCTURE_RADIUS)[quarter_inner].var()) / total


def vessel_contrast(
    quarter: np.ndarray, quarter_inner: np.ndarray, median: float, full_scale: float
) -> tuple[float, float]:
    """(Weber contrast, grey levels) of the darkest details of the lit field: at a quarter of
    the working scale, the :data:`CONTRAST_PERCENTILE` of how much darker each pixel is than the
    mean of its surroundings, as a share of that mean (at least :data:`DIM` of the full scale)
    and in the image's own levels. Pixels darker than :data:`LIT` of the field's ``median``
    (a shadow, the black beyond an oval field) are left out."""
    lit = quarter_inner & (quarter >= LIT * median)
    if not lit.any():
        return 0.0, 0.0
    background = box_mean(quarter, BACKGROUND_RADIUS)[lit]
    darker = background - quarter[lit]
    weber = darker / np.maximum(background, np.float32(DIM * full_scale))
    share = CONTRAST_PERCENTILE / 100
    return max(0.0, quantile(weber, share)), max(0.0, quantile(darker, share))


def rows_inside(quarter_inner: np.ndarray, rows: np.ndarray, width: int) -> np.ndarray:
    """The field on some ``rows`` of the working scale (``width`` wide), from its mask at a
    quarter of it (to within 4 pixels)."""
    columns = np.minimum(np.arange(width) // 4, quarter_inner.shape[1] - 1)
    return quarter_inner[np.minimum(rows // 4, len(quarter_inner) - 1)][:, columns]


def noise_level(work: np.ndarray, quarter_inner: np.ndarray) -> float:
    """Standard deviation of pixel noise in the image's own levels (the field
    ``quarter_inner`` at a quarter of the working scale): Immerkaer's second difference on
    every :data:`NOISE_ROW_STEP`-th row, from the flatter half of the pixels, which vessels and
    edges do not reach."""
    step = NOISE_ROW_STEP
    above, row, below = work[0:-2:step], work[1:-1:step], work[2::step]
    rows = min(len(above), len(row), len(below))
    above, row, below = above[:rows], row[:rows], below[:rows]
    side = above + below
    second = (
        side[:, :-2]
        + side[:, 2:]
        - 2 * side[:, 1:-1]
        - 2 * (row[:, :-2] + row[:, 2:])
        + 4 * row[:, 1:-1]
    )
    inside = rows_inside(quarter_inner, np.arange(1, 1 + rows * step, step), work.shape[1])
    values = np.abs(second[inside[:, 1:-1]])
    if values.size < 2:
        return 0.0
    half = values.size // 2
    flatter = np.partition(values, half)[:half]
    return float(flatter.mean()) / (NOISE_KERNEL_NORM * HALF_NORMAL_LOW_MEAN)


def blockiness(pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """How much stronger the steps between neighbouring pixels are on one phase of an 8-pixel
    grid than on the others (JPEG's blocks; 1 for none), in the green (or only) channel inside
    ``box`` (top, left, bottom, right), whatever the grid's alignment, on about
    :data:`BLOCK_LINES` rows and columns."""
    top, left, bottom, right = box
    plane = pixels[top:bottom, left:right]
    plane = plane[..., 1] if plane.ndim == 3 else plane
    rows, columns = (max(1, side // BLOCK_LINES) for side in plane.shape)
    ratios = []
    for lines in (plane[::rows], plane[:, ::columns].T):
        steps = np.abs(np.diff(lines.astype(np.float32), axis=1))
        whole = steps.shape[1] // BLOCK * BLOCK
        if whole < 2 * BLOCK:
            return 1.0
        means = steps[:, :whole].reshape(len(steps), -1, BLOCK).mean(axis=(0, 1))
        strongest = int(np.argmax(means))
        others = np.delete(means, strongest).mean()
        ratios.append(means[strongest] / others if others > 0 else 1.0)
    return float(np.mean(ratios))


def framing(shape: tuple[int, int], fov: FieldOfView) -> tuple[float, float]:
    """(share of the disc outside the frame, distance of its centre from the frame's centre in
    radii) of a detected disc in a frame of ``shape``."""
    grid = (np.arange(64) + 0.5) / 64 * 2 - 1
    dy, dx = np.meshgrid(grid, grid, indexing="ij")
    on_disc = dy**2 + dx**2 <= 1
    ys = fov.center_y + dy[on_disc] * fov.radius
    xs = fov.center_x + dx[on_disc] * fov.radius
    inside = (ys >= -0.5) & (ys < shape[0] - 0.5) & (xs >= -0.5) & (xs < shape[1] - 0.5)
    offset = math.hypot(fov.center_y - (shape[0] - 1) / 2, fov.center_x - (shape[1] - 1) / 2)
    return 1 - float(inside.mean()), offset / fov.radius


def measure(photo: Photo, prepared: Prepared) -> Measurements:
    """Every photograph-level measurement of a decoded photograph and of what
    :func:`~edge_runtime.pipeline.segmenter.prepare` made of it."""
    pixels, reduction = photo.pixels, photo.reduction
    full_scale = float(np.iinfo(pixels.dtype).max)
    work, framed, fov = prepared.work, prepared.framing, prepared.fov
    quarter = half_scale(half_scale(work))
    quarter_inner = inner_field(quarter.shape, shrunk(framed.work_fov, 4))
    field = quarter[quarter_inner]
    median = quantile(field, 0.5)
    contrast, contrast_levels = vessel_contrast(quarter, quarter_inner, median, full_scale)
    noise = max(noise_level(work, quarter_inner), NOISE_FLOOR * full_scale / 255)
    blocks = None
    if reduction == 1 and pixels.dtype == np.uint8:
        blocks = (blockiness(pixels, framed.box) - 1) * framed.scale
    lost, offset = framing(prepared.shape, fov) if fov.found else (None, None)
    grayscale = not photo.coloured  # red-free, monochrome or tinted: no colour to judge
    colour = swapped = (None, None)
    if not grayscale:
        colour, swapped = field_colour(pixels, shrunk(fov, reduction))
    return Measurements(
        *colour,
        brightness=float(field.mean()) / full_scale if field.size else 0.0,
        clipped=float(np.mean(field >= CLIPPED * full_scale)) if field.size else 0.0,
        evenness=evenness(quarter, quarter_inner),
        contrast=contrast,
        sharpness=sharpness(work, inner_field(work.shape, framed.work_fov)),
        noise=noise * 255 / full_scale,
        signal_to_noise=contrast_levels / noise,
        blockiness=blocks,
        field_lost=lost,
        offset=offset,
        fov_found=fov.found,
        structure=structure(quarter, quarter_inner),
        round_field=float(fov.found) if grayscale else None,
        swapped_redness=swapped[0],
        swapped_blueness=swapped[1],
        frame_aspect=None if fov.found else max(prepared.shape) / min(prepared.shape),
    )
