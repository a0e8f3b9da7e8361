"""How sharp a photograph is: its strongest edges at the working scale against those at a
quarter of it, read around every corner of its pixels alike, so the same whichever way up the
photograph is and wherever its frame cuts it (pure numpy).

A *corner* is where four pixels meet. Around each, the 2 x 2 pixels (the working scale) and
the 2 x 2 boxes of :data:`BOX` x :data:`BOX` pixels' means (a quarter of it) give a gradient
from each of their four corners, as forward differences: the four corners' gradients of a
block turned or mirrored are its own, turned or mirrored. Every corner of the image is read,
not a grid of them: the photograph moved by a pixel has the same corners moved by a pixel, and
turned or mirrored, the same corners turned or mirrored, with the same gradients. Read at
sites every :data:`BOX` pixels tiled from each corner of the frame, it changed with where the
frame cut the photograph: the working image moved by 1-3 pixels read up to 18 % sharper or
softer (4.7 % median over the 108 labelled photographs), and each photograph cut 1-2 pixels
shorter at the top and left or at the bottom and right, up to 10 % (3.6 % median), where its
working image was cut a pixel elsewhere (a field of view found a tenth of a pixel elsewhere,
a crop held at the frame's edge).

The image is read as one row after another (row-major, ``width`` values a row): a step down is
``width`` values on. A corner is numbered by its top-left box's first pixel: the corner
:data:`BOX` rows and columns down and right of that pixel. Whole rows of the image are read
(the field's, and a box beyond), so that a contiguous image is read where it lies, not copied;
the box means and each scale's candidates are found a band of :data:`BAND` corners at a time,
and the values clipped where their gradients are taken: a whole image's arrays, allocated
afresh for each step, cost more than the arithmetic (freshly allocated memory is faulted in a
page at a time: the capture verdict of 05_test took 16.5 ms so, against 9.6 read at sites).
"""

import math
from collections.abc import Iterator

import numpy as np

from edge_runtime.ordered import distinct

BOX = 4
"""Sharpness compares the working scale with a quarter of it: means of 4 x 4 pixels."""

EDGE_PERCENTILE = 99
"""Sharpness compares the strongest edges (this percentile of the gradient) at two scales."""

BRIGHT = 1.5
"""Sharpness is measured with the field clipped at this many times its median brightness: a
bright reflection or exudate has edges far stronger than any vessel's, and a few of them
would otherwise decide the comparison."""

DARK = 0.4
DARK_MARGIN = 2 * BOX
"""Sharpness reads only the lit field: corners whose four boxes are at least ``DARK`` times its
median brightness, ``DARK_MARGIN`` working pixels away from any darker (or from the field's
edge). A field cut straight by the camera's aperture (STARE's, at top and bottom) has a dark
band inside the disc, and that band's straight edge, which falls over two or three boxes, would
otherwise decide the strength of the edges along it."""

MEDIAN_STEP = 4 * BOX
"""The field's median brightness is read at every 16th corner down and across, counted from
each side of the field's rows and columns and a box beyond (every corner would cost a sort of
the whole field)."""

CANDIDATE_SAMPLE = 64
CANDIDATE_SHARE = 2
"""Each orientation's strongest gradients are sought among those at least its *floor*: its
strongest ``CANDIDATE_SHARE`` times their share around every ``CANDIDATE_SAMPLE``-th corner.
Any sample gives the same strengths: an orientation with too few gradients at its floor is
sought again with the floor of ``RETRY`` times as many of the sample's strongest, and with a
floor of 0 (all its gradients) where the sample has fewer. Searching all gradients at once
instead took 30 ms more, and 8 % of the labelled photographs' readings needed it."""

RETRY = 4

WEAK = 0.4
"""An orientation across or down whose floor is under this share of the strongest
orientation's (a photograph moved along it) is sought by its own step, not among every corner
whose strongest gradient reaches its floor: most would."""

BAND = 1 << 15
"""Box means and candidates are found this many corners at a time (arrays of 128 KiB, that stay
in the cache and are not allocated afresh from the system)."""

FLAT = 4
"""The orientation bin of a gradient of 0 (flat or clipped pixels): it has none."""

_TAN2 = np.float32(math.tan(math.pi / 8) ** 2)


def _runs(values: np.ndarray, span: int, step: int, combine: np.ufunc) -> np.ndarray:
    """``combine`` of the ``span`` values ``step`` apart from each value on, for as many as have
    them all (``len(values) - (span - 1) * step``), by doubling spans: ``combine`` must give a
    value counted twice as once (``np.logical_and``), unless ``span`` is a power of two
    (``np.add``)."""
    out, done = values, 1
    while done < span:
        more = min(done, span - done)
        out = combine(out[: len(out) - more * step], out[more * step :])
        done += more
    return out


def _all_of(masks: list[np.ndarray]) -> np.ndarray:
    """Where every one of two or more equally long boolean ``masks`` is set."""
    out = masks[0] & masks[1]
    for mask in masks[2:]:
        out &= mask
    return out


def _from_each_side(length: int, step: int) -> np.ndarray:
    """Every ``step``-th of ``length`` positions, counted from either end."""
    from_start = np.arange(0, length, step)
    return distinct(np.concatenate([from_start, length - 1 - from_start]))


def _blocks(width: int, scale: int) -> tuple[int, int, int]:
    """(first, across, down): from a corner's number to the first value of the 2 x 2 block
    around it, at the working scale (``scale`` 1: pixels) or a quarter of it (:data:`BOX`: box
    means), and from one value of the block to the next across and down."""
    first = (BOX - 1) * (width + 1) if scale == 1 else 0
    return first, scale, scale * width


def _bands(count: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of each band of :data:`BAND` of ``count`` positions."""
    for start in range(0, count, BAND):
        yield start, min(count, start + BAND)


def _median_brightness(
    boxes: np.ndarray, inside: np.ndarray, width: int, columns: range
) -> float | None:
    """The median of the mean of the four boxes around every :data:`MEDIAN_STEP`-th corner
    down and across, counted from each side of the corners' rows and of their ``columns`` (the
    field's), that is inside (``inside``, as :func:`corners` reads it); ``None`` where none is
    (a lit corner has corners inside for ``DARK_MARGIN`` around it, so one of these)."""
    rows = len(inside) // width + 1
    read = np.add.outer(
        _from_each_side(rows, MEDIAN_STEP) * width,
        _from_each_side(len(columns), MEDIAN_STEP) + columns.start,
    ).ravel()
    read = read[inside[read]]
    if not read.size:
        return None
    _, across, down = _blocks(width, BOX)
    brightness = boxes.take(np.add.outer([0, across, down, across + down], read)).sum(axis=0)
    return float(np.partition(brightness, len(brightness) // 2)[len(brightness) // 2]) / 4


def _box_means(pixels: np.ndarray, width: int) -> np.ndarray:
    """The means of the :data:`BOX` x :data:`BOX` box whose first pixel is each of ``pixels``
    (flat, rows of ``width``; as many as have their box's last row), summed a band of
    :data:`BAND` at a time (a whole image's sums, allocated afresh for each doubling, cost more
    than the sums)."""
    means = np.empty(len(pixels) - (BOX - 1) * (width + 1), dtype=np.float32)
    for start, stop in _bands(len(means)):
        band = pixels[start : stop + (BOX - 1) * (width + 1)]
        means[start:stop] = _runs(_runs(band, BOX, width, np.add), BOX, 1, np.add)
    means *= np.float32(1 / BOX**2)
    return means


def corners(
    work: np.ndarray, field: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.float32]:
    """(pixels, box means, lit corners, ceiling) of an (H, W) image at the working scale and
    its field of view (boolean, the same shape), the first three flat (rows one after another,
    W values a row): the pixels and the means of the :data:`BOX` x :data:`BOX` box whose first
    pixel is each pixel, whether each corner is lit (:data:`DARK`, among those whose four
    pixels are in the field): ``H - 2 * BOX + 1`` rows of ``W - 2 * BOX + 1`` corners, ``W``
    apart (the last ``2 * BOX - 1`` of each row but the last are no corner, and never lit), and
    :data:`BRIGHT` times the field's median brightness (:func:`_median_brightness`), where the
    values are to be clipped. The image must be at least ``2 * BOX`` pixels each way."""
    height, width = work.shape
    pixels = np.ascontiguousarray(work, dtype=np.float32)  # not copied where it is
    columns = width - 2 * BOX + 1
    count = (height - 2 * BOX) * width + columns
    first = _blocks(width, 1)[0]
    inner = np.ascontiguousarray(field, dtype=bool).ravel()
    inside = _all_of([inner[first + at : first + at + count] for at in (0, 1, width, width + 1)])
    inside[: count - columns].reshape(-1, width)[:, columns:] = False
    boxes = _box_means(pixels.ravel(), width)
    spanned = np.flatnonzero(np.any(field, axis=0))  # the field's columns, and a box beyond
    left, right = (
        (max(0, spanned[0] - BOX), min(width, spanned[-1] + 1 + BOX)) if spanned.size else (0, 0)
    )
    median = _median_brightness(boxes, inside, width, range(left, right - 2 * BOX + 1))
    if median is None:
        return pixels.ravel(), boxes, np.zeros(count, dtype=bool), np.float32(0)
    _, across, down = _blocks(width, BOX)
    lit = inside
    for at in (0, across, down, across + down):
        lit &= boxes[at : at + count] >= np.float32(DARK * median)
    return pixels.ravel(), boxes, _eroded(lit, width), np.float32(BRIGHT * median)


def _eroded(lit: np.ndarray, width: int) -> np.ndarray:
    """Where ``lit`` and every corner within :data:`DARK_MARGIN` down and across of it is (rows
    of ``width``; beyond the ends none is), by doubling spans between two buffers."""
    margin = DARK_MARGIN * (width + 1)
    out, spare = np.zeros((2, len(lit) + 2 * margin), dtype=bool)
    out[margin : margin + len(lit)] = lit
    length = len(out)
    for step in (1, width):
        done = 1
        while done < 2 * DARK_MARGIN + 1:
            more = min(done, 2 * DARK_MARGIN + 1 - done)
            np.logical_and(
                out[: length - more * step],
                out[more * step : length],
                out=spare[: length - more * step],
            )
            out, spare, length, done = spare, out, length - more * step, done + more
    return out[:length]


def orientations(across: np.ndarray, down: np.ndarray) -> np.ndarray:
    """The orientation bins (uint8) of gradients (``across``, ``down``): 0, 1, 2 or 3 at 0, 45,
    90 or 135 degrees (to within 22.5); :data:`FLAT` for none (a gradient of 0)."""
    return _bins(across, down, across * across, down * down)


_BINS = np.array([FLAT, 0, 2, 1, FLAT, 0, 2, 3], dtype=np.uint8)
"""The bin of a gradient nearer 0 degrees than 90 by more than 22.5 (1), nearer 90 than 0
likewise (2), falling (4): both near the diagonal (45 degrees rising, 135 falling), the first
alone within 22.5 of 0, the second of 90, neither flat."""


def _bins(across, down, squared_across, squared_down) -> np.ndarray:
    """:func:`orientations`, the gradients' squared components given too."""
    code = (squared_across > squared_down * _TAN2).view(np.uint8)
    code |= (squared_down > squared_across * _TAN2).view(np.uint8) << 1
    code |= ((across * down) < 0).view(np.uint8) << 2
    return _BINS.take(code)


def corner_gradients(
    values: np.ndarray, ceiling: np.float32, scale: int, width: int, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(squared magnitude, orientation bin) of the gradient from each corner of the 2 x 2
    block around each corner ``at`` (four each, their numbers as :func:`corners` gives them)
    of ``values`` (pixels, ``scale`` 1, or box means, :data:`BOX`; flat, rows of ``width``)
    clipped at ``ceiling``: along x the block's top or bottom row's step, along y its left or
    right column's."""
    first, across, down = _blocks(width, scale)
    a, b, c, d = np.minimum(
        values.take(np.add.outer([0, across, down, across + down], at + first)), ceiling
    )
    top, bottom, left, right = b - a, d - c, c - a, d - b
    along_x = np.concatenate([top, top, bottom, bottom])
    along_y = np.concatenate([left, right, left, right])
    squared_x, squared_y = along_x * along_x, along_y * along_y
    return squared_x + squared_y, _bins(along_x, along_y, squared_x, squared_y)


def _reaching(
    values: np.ndarray,
    scale: int,
    width: int,
    read: np.ndarray,
    floors: np.ndarray,
    weak: np.ndarray,
) -> np.ndarray:
    """The corners ``read`` (boolean, one a corner) around which a gradient of ``values``
    could reach its orientation's floor (``floors``, by bin; ``weak``: the bins across and down
    sought by their own step), a band of :data:`BAND` corners at a time. The values are read
    unclipped: clipping brings no two of them further apart."""
    first, across, down = _blocks(width, scale)
    least = floors[~weak].min()
    found = []
    for start, stop in _bands(len(read)):
        count, at = stop - start, first + start
        band = values[at : at + count + across + down]
        steps = []  # squared, the larger of the block's two: its top and bottom, left and right
        for step, other in ((across, down), (down, across)):
            squared = band[step : step + count + other] - band[: count + other]
            squared *= squared
            steps.append(np.maximum(squared[:count], squared[other:]))
        most_across, most_down = steps
        reach = most_across + most_down >= least
        for bin_, most in ((0, most_across), (2, most_down)):
            if weak[bin_]:  # the step that way is at least 1 / (1 + tan^2 22.5) of the gradient
                reach |= most * np.float32(1 + _TAN2) >= floors[bin_]
        reach &= read[start:stop]
        found.append(np.flatnonzero(reach) + start)
    return np.concatenate(found)


def edge_strengths(
    values: np.ndarray, ceiling: np.float32, scale: int, width: int, read: np.ndarray, share: float
) -> np.ndarray:
    """The ``share`` quantile (nearest rank) of the gradient magnitude in each of the four
    orientation bins (:func:`orientations`) of the :func:`corner_gradients` of ``values``
    (pixels, ``scale`` 1, or box means, :data:`BOX`; flat, rows of ``width``; clipped at
    ``ceiling``) around the corners ``read`` (boolean, one a corner), ranked as though the
    gradients were spread evenly over the four orientations (a quarter of them each, those too
    weak or flat to have one among them): the strength an orientation's strongest 1 % would
    have. 0 for an orientation with fewer gradients than that (a plateau of a photograph saved
    in 8 bits, where detail finer than a level is lost, counts as what it is, no edge), and for
    every one where no corner is read.

    Sought among the gradients at least their orientation's floor (:data:`CANDIDATE_SHARE`):
    around the corners whose strongest gradient reaches the least of the floors, and for an
    orientation across or down far weaker than the others (:data:`WEAK`), around those whose
    strongest step that way could reach its own."""
    quarter = int(np.count_nonzero(read))  # one gradient a corner: a quarter of the four
    if not quarter:
        return np.zeros(4)  # no gradient: each orientation has fewer than its rank (1)
    above = quarter - min(quarter - 1, int(share * quarter))  # gradients at or above
    sampled = np.flatnonzero(read[::CANDIDATE_SAMPLE]) * CANDIDATE_SAMPLE
    sample = corner_gradients(values, ceiling, scale, width, sampled)
    rank = CANDIDATE_SHARE * above * len(sampled) // quarter + 1
    floors = np.array([*_largest(*sample, rank), np.inf], dtype=np.float32)
    while True:
        weak = np.zeros(FLAT + 1, dtype=bool)  # the diagonals' gradients take both steps
        weak[[0, 2]] = floors[[0, 2]] < WEAK * floors[:4].max()
        at = _reaching(values, scale, width, read, floors, weak)
        strongest = np.array(_largest(*_kept(values, ceiling, scale, width, at, floors), above))
        # 0: fewer than ``above`` at the floor, unless that is 0 (all of its gradients)
        short = (strongest == 0) & (floors[:4] > 0)
        if not short.any():
            return np.sqrt(strongest)
        rank *= RETRY  # those short sought again, among more of the sample's strongest
        floors[:4][short] = np.array(_largest(*sample, rank), dtype=np.float32)[short]


def _kept(
    values: np.ndarray, ceiling: np.float32, scale: int, width: int, at: np.ndarray, floors
) -> tuple[np.ndarray, np.ndarray]:
    """(squared magnitude, orientation bin) of the :func:`corner_gradients` around the corners
    ``at`` that are at least their bin's floor (``floors``), a band of :data:`BAND` corners at
    a time: an orientation with too few gradients in the sample to have a floor above 0 (a
    picture of stripes or a smooth ramp) has every corner read, whose gradients, all at once,
    took 39-44 MiB and 58-65 ms on a 600-pixel square (now 10 MiB and 18-24 ms; read at sites,
    2 MiB and 3-12 ms)."""
    squared, bins = [], []
    for start, stop in _bands(len(at)):
        band_squared, band_bins = corner_gradients(values, ceiling, scale, width, at[start:stop])
        kept = band_squared >= floors.take(band_bins)
        squared.append(band_squared[kept])
        bins.append(band_bins[kept])
    if not squared:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.uint8)
    return np.concatenate(squared), np.concatenate(bins)


def _largest(squared: np.ndarray, bins: np.ndarray, rank: int) -> list[float]:
    """The ``rank``-th largest of ``squared`` in each of the bins 0-3 (``bins``), 0 for a bin
    with fewer."""
    counts = np.bincount(bins, minlength=FLAT + 1)
    ends, grouped = np.cumsum(counts), squared[np.argsort(bins, kind="stable")]  # counting sort
    return [
        float(np.partition(grouped[end - n : end], n - rank)[n - rank]) if n >= rank else 0.0
        for end, n in zip(ends[:4], counts[:4], strict=True)
    ]


def sharpness(work: np.ndarray, field: np.ndarray) -> float:
    """How much sharper the strongest edges are at the working scale (``work``, the field of
    view ``field``, boolean, the same shape) than at a quarter of it, in the orientation that
    lost most (a hand's movement blurs one): :data:`BOX` x the :data:`EDGE_PERCENTILE` of the
    gradient of the pixels around every lit corner (:func:`corners`) over that of their boxes'
    means, least over four orientations (:func:`edge_strengths`), with the field clipped at
    :data:`BRIGHT` times its median brightness. 1 when detail finer than a box is gone; 0 when
    nothing of the field is lit (or the image is smaller than two boxes). The photograph moved,
    turned or mirrored reads the same."""
    rows = np.flatnonzero(np.any(field, axis=1))
    if not rows.size:
        return 0.0
    # what lies over a box beyond the field is no lit corner's (nor decides whether one is);
    # whole rows, so that a contiguous image stays one (its columns are read as they are)
    top, bottom = max(0, rows[0] - BOX), rows[-1] + 1 + BOX
    work, field = work[top:bottom], field[top:bottom]
    if min(work.shape) < 2 * BOX:
        return 0.0
    pixels, boxes, lit, ceiling = corners(work, field)
    if not lit.any():
        return 0.0
    width, share = work.shape[1], EDGE_PERCENTILE / 100
    fine, coarse = (
        edge_strengths(values, ceiling, scale, width, lit, share)
        for values, scale in ((pixels, 1), (boxes, BOX))
    )
    if not coarse.all():
        return 0.0
    return float(np.min(BOX * fine / coarse))
