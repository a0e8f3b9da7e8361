"""Tortuosity of vessel segments by the distance metric: length along a segment over the
straight distance between its ends (1 for a straight segment, more the more it winds)."""

from dataclasses import dataclass

import numpy as np

MIN_ARC = 10.0
"""Segments shorter than this (pixels along them) are left out: on a few pixels, the steps of
the pixel grid outweigh any bending (PVBM leaves out the same)."""


@dataclass(frozen=True)
class Tortuosity:
    """The distance metric over a map's segments: its ``median`` over the segments, the
    ``index`` (their total arc over their total chord, which weighs long segments more), and the
    number of ``segments`` measured; both ``None`` without a segment to measure."""

    median: float | None
    index: float | None
    segments: int


def tortuosity(arc: np.ndarray, chord: np.ndarray) -> Tortuosity:
    """The distance metric of the segments with arc lengths ``arc`` and chords ``chord``
    (pixels), those shorter than :data:`MIN_ARC` left out."""
    keep = (arc >= MIN_ARC) & (chord > 0)
    arc, chord = arc[keep], chord[keep]
    if not len(arc):
        return Tortuosity(None, None, 0)
    return Tortuosity(float(np.median(arc / chord)), float(arc.sum() / chord.sum()), len(arc))
