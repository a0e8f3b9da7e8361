"""The eight symmetries of the square: random augmentation in training, and test-time averaging
on the device (the model's probabilities over flipped/rotated copies of each patch)."""

from collections.abc import Callable, Iterable

import numpy as np

TTA_MODES = {"off": (0,), "flip": (0, 1), "dihedral": tuple(range(8))}
"""Test-time averaging modes and the symmetries (see :func:`dihedral`) each one averages over:
none, a left-right flip, or all eight. Each symmetry is one more model run per patch."""


def dihedral(array: np.ndarray, transform: int, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """One of the 8 symmetries of the square on ``axes``: ``transform // 2`` quarter turns, then
    a flip of the second axis when ``transform`` is odd. Returns a view."""
    out = np.rot90(array, transform // 2, axes=axes)
    return np.flip(out, axes[1]) if transform % 2 else out


def undo_dihedral(array: np.ndarray, transform: int, axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """The inverse of :func:`dihedral`: ``undo_dihedral(dihedral(a, t), t)`` equals ``a``."""
    out = np.flip(array, axes[1]) if transform % 2 else array
    return np.rot90(out, -(transform // 2), axes=axes)


def symmetry_average(
    predict: Callable[[np.ndarray], np.ndarray], batch: np.ndarray, transforms: Iterable[int]
) -> np.ndarray:
    """Mean of ``predict`` over transformed copies of a batch (N, H, W[, C]), each prediction
    transformed back: ``predict`` maps a C-contiguous batch to maps of the same height and
    width."""
    transforms = tuple(transforms)
    if transforms == (0,):  # the identity alone: nothing to average
        return predict(np.ascontiguousarray(batch))
    total = np.float32(0)
    for transform in transforms:
        moved = np.ascontiguousarray(dihedral(batch, transform, axes=(1, 2)))
        total = total + undo_dihedral(predict(moved), transform, axes=(1, 2))
    return total / np.float32(len(transforms))
