"""How sharp a photograph is: its strongest edges at the working scale against those at a
quarter of it, read the same whichever way up the photograph is (pure numpy).

It is read at *sites*, squares of 2 x 2 boxes of :data:`BOX` x :data:`BOX` working pixels,
tiled from each corner of the frame into its quarter of it: the photograph turned by quarters
or mirrored has the same sites, turned or mirrored. At each site, the gradient is taken from
each corner of its central 2 x 2 pixels (the working scale) and of its 2 x 2 boxes' means (a
quarter of it), as forward differences: the four corners' gradients of a block turned or
mirrored are its own, turned or mirrored. A gradient read from one corner only (a pixel's
right and lower neighbours), on every fourth row, at a quarter of the scale on a grid tiled
from the top-left corner alone, with flat pixels counted as horizontal edges, read the same
working image turned or mirrored up to 24 % sharper or softer (9 % median over the eight ways
up of the 108 labelled photographs).
"""

import math

import numpy as np

from edge_runtime.pipeline.fov import eroded

BOX = 4
"""Sharpness compares the working scale with a quarter of it: means of 4 x 4 pixels."""

EDGE_PERCENTILE = 99
"""Sharpness compares the strongest edges (this percentile of the gradient) at two scales."""

BRIGHT = 1.5
"""Sharpness is measured with the field clipped at this many times its median brightness: a
bright reflection or exudate has edges far stronger than any vessel's, and a few of them
would otherwise decide the comparison."""

DARK = 0.4
DARK_MARGIN = 2
"""Sharpness reads only the lit field: sites whose four boxes are at least ``DARK`` times its
median brightness, ``DARK_MARGIN`` sites (:data:`BOX` working pixels each) away from any
darker. A field cut straight by the camera's aperture (STARE's, at top and bottom) has a dark
band inside the disc, and that band's straight edge, which falls over two or three boxes, would
otherwise decide the strength of the edges along it."""

EDGE_CANDIDATES = 0.1
"""Share of the strongest gradients among which each orientation's strongest are sought."""

CANDIDATE_SAMPLE = 16
"""The strongest gradients' least is estimated from every 16th gradient: any estimate gives the
same strengths (an orientation with too few candidates is sought among all its gradients)."""

FLAT = 4
"""The orientation bin of a gradient of 0 (flat or clipped pixels): it has none."""


def _box_sums(rows: np.ndarray) -> np.ndarray:
    """Sums of each :data:`BOX` rows of ``rows`` in turn (a multiple of :data:`BOX` of them)."""
    return sum(rows[i::BOX] for i in range(BOX))


def _from_each_end(length: int, count: int) -> np.ndarray:
    """First pixels of ``count`` boxes tiled from each end of a side ``length`` pixels long,
    those from its start first."""
    tiled = BOX * np.arange(count)
    return np.concatenate([tiled, length - BOX * count + tiled])


def sites(work: np.ndarray, field: np.ndarray) -> tuple[np.ndarray, ...]:
    """(box means, central pixels, in the field) of the sites of an (H, W) image at the
    working scale and its field of view (boolean, the same shape), each (2, 2, M, N), [dy,
    dx] the box or pixel at that corner of each of M x N sites: squares of 2 x 2 boxes of
    :data:`BOX` x :data:`BOX` pixels tiled from each corner of the frame into its quarter (the
    fewest that cover it: the halves overlap by less than a box where a side is no multiple
    of two boxes)."""
    work = np.asarray(work, dtype=np.float32)
    height, width = work.shape
    rows, columns = (-(-side // (2 * BOX)) for side in work.shape)
    sums = np.concatenate([_box_sums(half) for half in (work[: BOX * rows], work[-BOX * rows :])])
    sums = np.concatenate(
        [_box_sums(half.T).T for half in (sums[:, : BOX * columns], sums[:, -BOX * columns :])],
        axis=1,
    )
    quarters = (sums / np.float32(BOX * BOX)).reshape(2, rows, 2, columns)
    shape = (2 * (rows - 1), 2 * (columns - 1))
    boxes = [
        [quarters[:, dy : rows - 1 + dy, :, dx : columns - 1 + dx].reshape(shape) for dx in (0, 1)]
        for dy in (0, 1)
    ]
    # a site's central pixels: the last of its first boxes and the first of its second
    ys = _from_each_end(height, rows).reshape(2, rows)[:, :-1].ravel() + BOX - 1
    xs = _from_each_end(width, columns).reshape(2, columns)[:, :-1].ravel() + BOX - 1
    pixels, inside = (
        [[across[:, xs + dx] for dx in (0, 1)] for across in (image[ys], image[ys + 1])]
        for image in (work, field)
    )
    return np.array(boxes), np.array(pixels), np.array(inside)


def corner_gradients(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(squared magnitude float32, orientation bin uint8), each (2, 2, N), of the gradients
    from the four corners of N blocks of 2 x 2 values (``blocks`` (2, 2, N), [dy, dx]): along x
    the top or the bottom row's step, along y the left or the right column's ([row, column]).
    Bins 0-3: the gradient at 0, 45, 90 or 135 degrees (to within 22.5); :data:`FLAT` for
    none."""
    across = (blocks[:, 1] - blocks[:, 0])[:, None]  # [row, -]
    down = (blocks[1] - blocks[0])[None]  # [-, column]
    squared = across * across + down * down
    rising = (across > 0) == (down > 0)
    across, down = np.abs(across), np.abs(down)
    tan = np.float32(math.tan(math.pi / 8))
    diagonal = (down > across * tan) & (across > down * tan)
    steep = down > across
    bins = np.where(diagonal, 3 - 2 * rising.view(np.uint8), 2 * steep.view(np.uint8))
    bins[squared == 0] = FLAT
    return squared, bins


def edge_strengths(squared: np.ndarray, bins: np.ndarray, share: float) -> np.ndarray:
    """The ``share`` quantile (nearest rank) of the gradient magnitude in each of the four
    orientation bins (``squared`` magnitudes, ``bins`` as :func:`corner_gradients` gives them),
    where a flat gradient, of no orientation, counts as a quarter of a gradient in each, as
    gradients too weak to measure their orientation are spread over the four (0 where the
    quantile falls among them): a plateau of a photograph saved in 8 bits, where detail finer
    than a level is lost, counts as what it is, no edge. Each bin's is sought among about the
    :data:`EDGE_CANDIDATES` strongest gradients when it lies there (it nearly always does)."""
    squared, bins = squared.ravel(), bins.ravel()
    counts = np.bincount(bins, minlength=FLAT + 1)
    sample = squared[::CANDIDATE_SAMPLE]
    least = 0.0
    if sample.size:
        rank = min(sample.size - 1, int((1 - EDGE_CANDIDATES) * sample.size))
        least = np.partition(sample, rank)[rank]
    strong = squared >= least
    candidates, candidate_bins = squared[strong], bins[strong]
    strengths = np.zeros(4)
    for k in range(4):
        count = 4 * counts[k] + counts[FLAT]  # in quarters: a flat gradient is a quarter here
        above = -(-(count - min(count - 1, int(share * count))) // 4)  # gradients at or above
        if above > counts[k]:  # the quantile is among the flat ones (or there are none)
            continue
        members = candidates[candidate_bins == k]
        if len(members) < above:
            members = squared[bins == k]
        strengths[k] = np.partition(members, len(members) - above)[len(members) - above]
    return np.sqrt(strengths)


def sharpness(work: np.ndarray, field: np.ndarray) -> float:
    """How much sharper the strongest edges are at the working scale (``work``, the field of
    view ``field``, boolean, the same shape) than at a quarter of it, in the orientation that
    lost most (a hand's movement blurs one orientation): :data:`BOX` x the
    :data:`EDGE_PERCENTILE` of the gradient at the centres of the :func:`sites` over that of
    their boxes' means, least over four orientations, with the field clipped at :data:`BRIGHT`
    times its median brightness (of its sites), on its lit sites only (:data:`DARK`). 1 when
    detail finer than a box is gone; 0 when nothing of the field is lit (or the image is
    smaller than a site). The photograph turned or mirrored reads the same."""
    if min(work.shape) < 2 * BOX:
        return 0.0  # not one site
    boxes, pixels, inside = sites(work, field)
    inside = inside.all(axis=(0, 1))
    if not inside.any():
        return 0.0
    median = float(np.median(boxes.mean(axis=(0, 1))[inside]))
    lit = eroded(inside & (boxes.min(axis=(0, 1)) >= DARK * median), DARK_MARGIN)
    bright, keep = np.float32(BRIGHT * median), lit.ravel()
    share = EDGE_PERCENTILE / 100
    fine, coarse = (
        edge_strengths(*corner_gradients(np.minimum(read, bright, out=read)), share)
        for read in (
            np.compress(keep, values.reshape(2, 2, -1), axis=2) for values in (pixels, boxes)
        )
    )
    if not coarse.all():
        return 0.0
    return float(np.min(BOX * fine / coarse))
