"""Thresholding and the Dice coefficient, defined once for training, conversion and the device."""

import numpy as np

DEFAULT_THRESHOLD = 0.5
"""Decision threshold of the reference notebook, used when a model records none."""

THRESHOLD_RANGE = (0.01, 0.99)
"""Decision thresholds accepted from a model card or an option: nearer 0 or 1 a mask is all
vessel or empty, which is a broken setting, not a choice."""


def binarize(probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Threshold probabilities: ``p >= threshold`` is vessel (1), the rest background (0).

    Args:
        probabilities: real array of any shape.
        threshold: decision threshold.

    Returns:
        uint8 array of the same shape with values {0, 1}.
    """
    return (np.asarray(probabilities) >= threshold).astype(np.uint8)


def dice_per_patch(truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Dice coefficient 2|A∩B| / (|A|+|B|) of each patch of a batch.

    Nonzero values count as vessel. Both masks empty gives 1.0 (perfect agreement on "no vessel");
    exactly one empty gives 0.0.

    Args:
        truth: array (N, ...) of binary masks.
        prediction: array of the same shape.

    Returns:
        float64 array (N,) of Dice scores.
    """
    a = np.asarray(truth).astype(bool)
    b = np.asarray(prediction).astype(bool)
    if a.shape != b.shape:
        raise ValueError(f"got masks of shapes {a.shape} and {b.shape}, expected equal shapes")
    if a.ndim == 0:
        raise ValueError("got scalar masks, expected arrays of shape (N, ...)")
    a = a.reshape(len(a), -1)
    b = b.reshape(len(b), -1)
    overlap = np.count_nonzero(a & b, axis=1)
    total = np.count_nonzero(a, axis=1) + np.count_nonzero(b, axis=1)
    return np.divide(2.0 * overlap, total, out=np.ones(len(a)), where=total > 0)


def dice_score(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Dice coefficient of one pair of binary masks of equal shape (see :func:`dice_per_patch`)."""
    return float(
        dice_per_patch(np.asarray(truth)[np.newaxis], np.asarray(prediction)[np.newaxis])[0]
    )


def mean_dice(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Mean of the per-patch Dice scores, as the reference notebook reported it."""
    return float(dice_per_patch(truth, prediction).mean())


def tune_threshold(
    truth: np.ndarray, probabilities: np.ndarray, candidates: np.ndarray | None = None
) -> tuple[float, float]:
    """Pick the threshold that maximises the mean per-patch Dice.

    Args:
        truth: binary masks (N, ...).
        probabilities: predicted probabilities of the same shape.
        candidates: thresholds to try; default 0.05, 0.06, ..., 0.95.

    Returns:
        (threshold, mean Dice at that threshold); ties go to the candidate closest to 0.5.
    """
    if candidates is None:
        candidates = np.round(np.arange(0.05, 0.951, 0.01), 2)
    scores = np.array([mean_dice(truth, binarize(probabilities, t)) for t in candidates])
    best = np.flatnonzero(scores == scores.max())
    pick = best[np.argmin(np.abs(np.asarray(candidates)[best] - DEFAULT_THRESHOLD))]
    return float(candidates[pick]), float(scores[pick])
