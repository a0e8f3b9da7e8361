"""How much of a field of view a vessel map may cover, and how much of it must lie inside:
what tells a vessel map from an inverted one (white background) or an inverted field of view,
for every reader of maps and labels (``measure``, ``eval``, training); and how many of a
label's pixels may stand alone: what tells it from noise."""

from pathlib import Path

import numpy as np

from edge_runtime.errors import InputError

MAX_VESSEL_SHARE = 0.5
"""Vessels cover 5-20 % of a retina; a map where they cover more than this share of the field
of view is inverted (white background) or not a vessel map."""

MIN_INSIDE_SHARE = 0.5
"""A map's vessels lie inside its field of view (a model's all of them, a manual label's all
but a few at the rim); a field of view that holds less than this share of them is inverted or
another photograph's."""


def check_share(path: str | Path, vessels: np.ndarray, field: np.ndarray | None) -> None:
    """Refuse a map or label whose vessels cover too much of its field of view
    (:func:`too_much_of_the_field`).

    Raises:
        InputError: they do.
    """
    problem = too_much_of_the_field(vessels, field)
    if problem:
        raise InputError(f"{path}: {problem} (an inverted mask, white background?)")


def too_much_of_the_field(vessels: np.ndarray, field: np.ndarray | None) -> str | None:
    """Why a map's vessels cover more than :data:`MAX_VESSEL_SHARE` of its field of view
    (``field``, boolean, the map's size; ``None``: the whole frame); ``None`` if they do not."""
    if field is None:
        return share_problem(np.count_nonzero(vessels), vessels.size)
    return share_problem(np.count_nonzero(vessels & field), np.count_nonzero(field))


def share_problem(vessel_pixels: int, field_pixels: int) -> str | None:
    """Why ``vessel_pixels`` inside a field of view of ``field_pixels`` cover more than
    :data:`MAX_VESSEL_SHARE` of it (:func:`too_much_of_the_field`); ``None`` if they do not."""
    share = vessel_pixels / max(1, field_pixels)
    if share <= MAX_VESSEL_SHARE:
        return None
    return (
        f"vessels cover {share:.0%} of the field of view, expected at most {MAX_VESSEL_SHARE:.0%}"
    )


def share_inside(vessels: np.ndarray, field: np.ndarray) -> float:
    """The share of a map's vessel pixels that lie inside ``field`` (1 for a map without)."""
    count = np.count_nonzero(vessels)
    return np.count_nonzero(vessels & field) / count if count else 1.0


def check_inside(
    field_path: str | Path, vessels: np.ndarray, field: np.ndarray, map_path: str | Path
) -> None:
    """Refuse a field-of-view mask (read from ``field_path``) that holds less than
    :data:`MIN_INSIDE_SHARE` of a map's vessels (read from ``map_path``, named too: one mask
    may serve many maps); a map without vessels passes.

    Raises:
        InputError: it does.
    """
    inside = share_inside(vessels, field)
    if inside < MIN_INSIDE_SHARE:
        raise InputError(
            f"{field_path}: holds {inside:.0%} of the vessel pixels of {map_path}, expected at "
            f"least {MIN_INSIDE_SHARE:.0%} (an inverted field-of-view mask, or another "
            "photograph's?)"
        )


def neighbours(mask: np.ndarray, diagonal: bool) -> np.ndarray:
    """The pixels with a ``mask`` pixel above, below or beside them (and, with ``diagonal``,
    at a corner): the mask's pixels among them only where they touch another."""
    near = np.zeros_like(mask)
    near[1:] |= mask[:-1]
    near[:-1] |= mask[1:]
    near[:, 1:] |= mask[:, :-1]
    near[:, :-1] |= mask[:, 1:]
    if diagonal:
        near[1:, 1:] |= mask[:-1, :-1]
        near[1:, :-1] |= mask[:-1, 1:]
        near[:-1, 1:] |= mask[1:, :-1]
        near[:-1, :-1] |= mask[1:, 1:]
    return near


MAX_ALONE_SHARE = 0.3
"""The most of a label's vessel pixels that may touch no other, even at a corner. On the 108
reference labels of DRIVE, STARE, GAVE and LES-AV: 0.2 % at most; 0.7 % thinned to their centre
lines, 12 % shrunk to a quarter (nearest); a dithered soft label 52 %, noise over 10 % of the
frame 44 %."""

MAX_SIDE_ALONE_SHARE = 0.5
"""The most of a label's vessel pixels that may have none above, below or beside them (touching
others at their corners only): at most 0.9 % on the reference labels, 23 % thinned to centre
lines or shrunk to 256 pixels (diagonal lines), all of a checkerboard's."""


def check_not_speckle(path: str | Path, vessels: np.ndarray) -> None:
    """Refuse a label whose vessel pixels stand apart more than a vessel label's do
    (:data:`MAX_ALONE_SHARE`, :data:`MAX_SIDE_ALONE_SHARE`): noise, a dithered or a
    checkerboard image.

    Raises:
        InputError: they do.
    """
    for diagonal, most, how in (
        (True, MAX_ALONE_SHARE, "touch no other"),
        (False, MAX_SIDE_ALONE_SHARE, "have none above, below or beside them"),
    ):
        alone = 1 - share_inside(vessels, neighbours(vessels, diagonal))
        if alone > most:
            raise InputError(
                f"{path}: {alone:.1%} of its vessel pixels {how}, expected at most {most:.0%} "
                "(noise, a dithered or a checkerboard image is no vessel label)"
            )
