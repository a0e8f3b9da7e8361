"""Tortuosity of vessel segments: the distance metric (length along a segment over the straight
distance between its ends: 1 for a straight segment, more the more it winds) and the tortuosity
density of Grisan et al. (IEEE TMI 27(3), 2008), which also counts how often a segment changes
the side it turns to."""

import dataclasses
from dataclasses import dataclass

import numpy as np

from edge_runtime.measure.graph import Segments

MIN_ARC = 10.0
"""Segments shorter than this (pixels along them) are left out: on a few pixels, the steps of
the pixel grid outweigh any bending (PVBM leaves out the same)."""

TURN_SPAN_SHARE = 1 / 90
"""The turn at a pixel is measured between the chords to the pixels this share of the field of
view's diameter before and after it along the segment (6 pixels in a DRIVE photograph), and no
fewer than :data:`MIN_TURN_SPAN`: long enough that the steps of the pixel grid do not read as
turns, short enough for a vessel's bends."""

MIN_TURN_SPAN = 6
"""The shortest span: over ``s`` pixels a straight line of pixels at any angle turns by up to
atan(1 / s), 9.5 degrees at 6, under :data:`MIN_TURN`."""

MIN_TURN = float(np.sin(np.radians(10.0)))
"""Turns smaller than 10 degrees (this is its sine) are straight: only larger turns set the side
a segment turns to."""


@dataclass(frozen=True)
class Tortuosity:
    """The tortuosity of a map's segments longer than :data:`MIN_ARC`: the distance metric's
    ``median`` over the segments and ``index`` (their total arc over their total chord, which
    weighs long segments more), the mean tortuosity ``density`` over the segments, and the
    number of ``segments`` measured; ``None`` without a segment to measure."""

    median: float | None
    index: float | None
    density: float | None
    segments: int


def turn_span(field_diameter_px: float) -> int:
    """The span (pixels along a segment) over which turns are measured in a field of view of
    this diameter: :data:`TURN_SPAN_SHARE` of it, at least :data:`MIN_TURN_SPAN`."""
    return max(MIN_TURN_SPAN, round(field_diameter_px * TURN_SPAN_SHARE))


def turn_sides(segments: Segments, span: int) -> np.ndarray:
    """The side each segment pixel turns to (+1 or -1, in the segment's direction), 0 where it
    turns by less than :data:`MIN_TURN` or lies within ``span`` of an end (no chord both ways
    of the full span)."""
    index = np.arange(len(segments.points))
    member = segments.member
    first, last = segments.bounds[member], segments.bounds[member + 1] - 1
    before, after = index - span, index + span
    whole = (before >= first) & (after <= last)
    behind, ahead = np.clip(before, first, last), np.clip(after, first, last)
    ys, xs = segments.points.T.astype(np.float64)
    back_y, back_x = ys - ys[behind], xs - xs[behind]
    ahead_y, ahead_x = ys[ahead] - ys, xs[ahead] - xs
    cross = back_y * ahead_x - back_x * ahead_y  # |back| |ahead| sin(turn)
    lengths = (back_y**2 + back_x**2) * (ahead_y**2 + ahead_x**2)
    turning = whole & (cross**2 >= MIN_TURN**2 * lengths)
    return np.where(turning, np.sign(cross), 0).astype(np.int8)


def smoothed(segments: Segments, reach: int) -> Segments:
    """The segments' centre lines, each point the mean of the points up to ``reach`` before
    and after it along its segment (as many each way: fewer near the ends, whose points stay).

    A thick vessel's thinned centre line jogs by a pixel here and there where a drawn line
    would not; over a span of 6 pixels a jog turns it by up to 19 degrees, one way and then
    the other, and each jog would count as two inflections.
    """
    points = segments.points.astype(np.float64)
    if not len(points):
        return dataclasses.replace(segments, points=points)
    index = np.arange(len(points))
    member = segments.member
    first, last = segments.bounds[member], segments.bounds[member + 1] - 1
    each_way = np.minimum(np.minimum(index - first, last - index), reach)
    total = np.concatenate([np.zeros((1, 2)), np.cumsum(points, axis=0)])
    window = total[index + each_way + 1] - total[index - each_way]
    return dataclasses.replace(segments, points=window / (2 * each_way + 1)[:, None])


def tortuosity_density(segments: Segments, span: int) -> np.ndarray:
    """Grisan's tortuosity density of each segment: cut at its inflection points into ``n``
    pieces turning one way each, ``(n - 1) / n * sum(arc_i / chord_i - 1) / arc`` (0 for a
    segment that turns one way only, however much; more for more, and more curved, turns).

    Measured on the centre line :func:`smoothed` over half the span each way. An inflection
    lies where the side the segment turns to (:func:`turn_sides`) changes, halfway between the
    last pixel turning one way and the first turning the other.
    """
    bounds = segments.bounds
    if len(bounds) < 2:
        return np.zeros(0)
    segments = smoothed(segments, span // 2)
    side = turn_sides(segments, span)
    index = np.arange(len(side))
    member = segments.member
    turning = side != 0
    latest = np.maximum.accumulate(np.where(turning, index, -1))  # last turning pixel so far
    previous = np.r_[-1, latest[:-1]]
    change = turning & (previous >= bounds[member]) & (side[np.maximum(previous, 0)] == -side)
    cuts = (previous[change] + index[change]) // 2
    starts = np.sort(np.concatenate([bounds[:-1], cuts]))
    piece_member = member[starts]
    following = np.r_[starts[1:], bounds[-1]]
    cut = np.zeros(len(side) + 1, dtype=bool)
    cut[cuts] = True
    ends = np.where(cut[following], following, following - 1)
    arc = segments.arc_between(starts, ends)
    chord = segments.chord_between(starts, ends)
    excess = np.divide(arc, chord, out=np.ones(len(arc)), where=chord > 0) - 1.0
    pieces = np.bincount(piece_member, minlength=len(bounds) - 1)
    total = np.bincount(piece_member, weights=excess, minlength=len(bounds) - 1)
    length = segments.arc
    return np.divide(
        (pieces - 1) / pieces * total, length, out=np.zeros(len(length)), where=length > 0
    )


def tortuosity(segments: Segments, span: int) -> Tortuosity:
    """The tortuosity of ``segments`` (turns measured over ``span`` pixels,
    :func:`turn_span`), those shorter than :data:`MIN_ARC` and loops left out."""
    arc, chord = segments.arc, segments.chord
    keep = (arc >= MIN_ARC) & (chord > 0) & ~segments.looped
    if not keep.any():
        return Tortuosity(None, None, None, 0)
    density = tortuosity_density(segments, span)[keep]
    arc, chord = arc[keep], chord[keep]
    return Tortuosity(
        float(np.median(arc / chord)),
        float(arc.sum() / chord.sum()),
        float(density.mean()),
        int(keep.sum()),
    )
