"""Deterministic holdout of contiguous patch blocks for model selection and threshold tuning.

The patches are tiles of whole photographs stored row by row: neighbouring indices are
neighbouring tiles, and a tile's vertical neighbours sit about one row (5-8 tiles) away. A random
split would leak neighbours across it, so the holdout is a few contiguous blocks spread over the
file, and a guard band of tiles on each side of every block is left out of training.
"""

from dataclasses import dataclass

import numpy as np

from edge_runtime.errors import counted

HOLDOUT_BLOCKS = 3
"""Number of contiguous holdout blocks, spread evenly over the patch indices."""

GUARD = 8
"""Tiles on each side of a holdout block excluded from training (about one row of a photo)."""


@dataclass(frozen=True)
class Split:
    """Index arrays into the training patches; ``guard`` lists the indices used by neither side."""

    train: np.ndarray
    holdout: np.ndarray
    guard: np.ndarray


def _blocks(n: int, fraction: float, blocks: int, guard: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the held-out indices and of those excluded from training (blocks and guards)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"got holdout fraction {fraction}, expected 0 <= fraction < 1")
    holdout = np.zeros(n, dtype=bool)
    excluded = np.zeros(n, dtype=bool)
    size = round(n * fraction)
    if size == 0:
        return holdout, excluded
    blocks = max(1, min(blocks, size))
    sizes = np.full(blocks, size // blocks) + (np.arange(blocks) < size % blocks)
    centres = (np.arange(blocks) + 0.5) * n / blocks
    for centre, length in zip(centres, sizes, strict=True):
        start = int(np.clip(round(centre - length / 2), 0, n - length))
        holdout[start : start + length] = True
        excluded[max(0, start - guard) : start + length + guard] = True
    return holdout, excluded


def holdout_split(
    n: int, fraction: float, blocks: int = HOLDOUT_BLOCKS, guard: int = GUARD
) -> Split:
    """Split ``n`` patch indices into training and a holdout of contiguous blocks.

    Args:
        n: number of patches.
        fraction: share of patches held out, in [0, 1); 0 puts every patch in training.
        blocks: number of holdout blocks, centred at evenly spaced positions.
        guard: indices on each side of a block excluded from both sides.

    Returns:
        The split; the same arguments always give the same indices.

    Raises:
        ValueError: the fraction is out of range, or the holdout and its guards leave no
            patch to train on.
    """
    holdout, excluded = _blocks(n, fraction, blocks, guard)
    train = ~excluded
    if not train.any():
        raise ValueError(
            f"holdout fraction {fraction} of {counted(n, 'patch', 'patches')} leaves nothing to "
            "train on"
        )
    return Split(
        np.flatnonzero(train), np.flatnonzero(holdout), np.flatnonzero(excluded & ~holdout)
    )


def holdout_indices(n: int, fraction: float | None) -> np.ndarray:
    """Indices of the holdout of ``n`` patches for ``fraction``, or all of them when it is
    ``None`` or 0 (for evaluating on a whole labeled file).

    The holdout is the one training keeps for the same fraction; scoring it needs no patch left
    to train on, so a fraction too large for training still names its blocks here.
    """
    if not fraction:
        return np.arange(n)
    return np.flatnonzero(_blocks(n, fraction, HOLDOUT_BLOCKS, GUARD)[0])
