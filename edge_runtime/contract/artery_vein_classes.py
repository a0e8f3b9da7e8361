"""The artery/vein classes of a pixel: the codes that labels are decoded into, that an
artery/vein model's output is read as, and that the metrics score, defined once."""

from enum import IntEnum

import numpy as np

from edge_runtime.errors import InputError


class ArteryVein(IntEnum):
    """What an artery/vein map (int8, (H, W)) holds at a pixel."""

    BACKGROUND = 0
    ARTERY = 1
    VEIN = 2
    UNCERTAIN = 3
    """A vessel of either class: where an artery and a vein cross, or where the annotator could
    not tell (a prediction may use it for a vessel it does not classify)."""


ARTERY_THRESHOLD = 0.5
"""A vessel pixel whose artery probability is at least this is an artery, else a vein."""


def classes_from_probability(
    vessels: np.ndarray, artery_probability: np.ndarray, threshold: float = ARTERY_THRESHOLD
) -> np.ndarray:
    """An artery/vein map (int8) from a vessel mask (non-zero = vessel) and each pixel's
    probability of being an artery: a vessel pixel is :attr:`~ArteryVein.ARTERY` where that
    probability is at least ``threshold``, else :attr:`~ArteryVein.VEIN`; the rest is
    :attr:`~ArteryVein.BACKGROUND`."""
    vessels = np.asarray(vessels).astype(bool)
    artery = np.asarray(artery_probability) >= threshold
    if artery.shape != vessels.shape:
        raise InputError(
            f"got artery probabilities of shape {artery.shape}, expected the vessel mask's "
            f"{vessels.shape}"
        )
    # in int8 arithmetic (np.where is ten times slower): VEIN less one is ARTERY, times 0 is
    # BACKGROUND
    classes = np.int8(ArteryVein.VEIN) - artery.view(np.int8)
    classes *= vessels.view(np.int8)
    return classes
