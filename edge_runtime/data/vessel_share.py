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
    """Refuse a map or label whose vessels cover more than :data:`MAX_VESSEL_SHARE` of its
    field of view (``field``, boolean, the map's size; ``None``: the whole frame).

    Raises:
        InputError: they do.
    """
    if field is None:
        share = np.count_nonzero(vessels) / max(1, vessels.size)
    else:
        share = np.count_nonzero(vessels & field) / max(1, np.count_nonzero(field))
    if share > MAX_VESSEL_SHARE:
        raise InputError(
            f"{path}: vessels cover {share:.0%} of the field of view, expected at most "
            f"{MAX_VESSEL_SHARE:.0%} (an inverted mask, white background?)"
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


MAX_ALONE_SHARE = 0.1
"""A vessel label's pixels touch one another: at most 0.9 % of them have no vessel pixel above,
below or beside them on the 108 reference labels of DRIVE, STARE, GAVE and LES-AV; noise covering
30 % of a photograph leaves 24 % alone, a dithered soft label 62 %, a checkerboard all. A label
with more than this share alone is no vessel label."""


def check_not_speckle(path: str | Path, vessels: np.ndarray) -> None:
    """Refuse a label whose vessel pixels are more than :data:`MAX_ALONE_SHARE` alone (no vessel
    pixel above, below or beside them): noise, a dithered or a checkerboard image.

    Raises:
        InputError: they are.
    """
    touching = np.zeros_like(vessels)
    touching[1:] |= vessels[:-1]
    touching[:-1] |= vessels[1:]
    touching[:, 1:] |= vessels[:, :-1]
    touching[:, :-1] |= vessels[:, 1:]
    alone = 1 - share_inside(vessels, touching)
    if alone > MAX_ALONE_SHARE:
        raise InputError(
            f"{path}: {alone:.0%} of its vessel pixels touch no other, expected at most "
            f"{MAX_ALONE_SHARE:.0%} (noise, a dithered or a checkerboard image is no vessel label)"
        )
