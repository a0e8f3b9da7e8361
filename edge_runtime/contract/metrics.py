"""Thresholding, the Dice coefficient and the whole-photograph metrics, defined once for
training, conversion and the device."""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

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


def _flat_pairs(truth: np.ndarray, prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two batches of masks (N, ...) as boolean (N, pixels) arrays, checked to match."""
    a = np.asarray(truth).astype(bool)
    b = np.asarray(prediction).astype(bool)
    if a.shape != b.shape:
        raise ValueError(f"got masks of shapes {a.shape} and {b.shape}, expected equal shapes")
    if a.ndim == 0:
        raise ValueError("got scalar masks, expected arrays of shape (N, ...)")
    return a.reshape(len(a), -1), b.reshape(len(b), -1)


def dice_per_patch(truth: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Dice coefficient 2|A∩B| / (|A|+|B|) of each patch of a batch.

    Nonzero values count as vessel. Dice is undefined (0/0) when both masks are empty; by the
    reference notebook's convention such a patch counts as 1.0 (perfect agreement on "no
    vessel"), and :func:`count_both_empty` says how many did. Exactly one empty gives 0.0.

    Args:
        truth: array (N, ...) of binary masks.
        prediction: array of the same shape.

    Returns:
        float64 array (N,) of Dice scores.
    """
    a, b = _flat_pairs(truth, prediction)
    overlap = np.count_nonzero(a & b, axis=1)
    total = np.count_nonzero(a, axis=1) + np.count_nonzero(b, axis=1)
    return np.divide(2.0 * overlap, total, out=np.ones(len(a)), where=total > 0)


def count_both_empty(truth: np.ndarray, prediction: np.ndarray) -> int:
    """How many patches of a batch have no vessel in either mask: those :func:`dice_per_patch`
    counts as 1.0 by convention, where Dice itself is undefined."""
    a, b = _flat_pairs(truth, prediction)
    return int(np.count_nonzero(~(a.any(axis=1) | b.any(axis=1))))


def dice_score(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Dice coefficient of one pair of binary masks of equal shape (see :func:`dice_per_patch`)."""
    return float(
        dice_per_patch(np.asarray(truth)[np.newaxis], np.asarray(prediction)[np.newaxis])[0]
    )


def mean_dice(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Mean of the per-patch Dice scores, as the reference notebook reported it."""
    return float(dice_per_patch(truth, prediction).mean())


THRESHOLD_CANDIDATES = np.round(np.arange(0.05, 0.951, 0.01), 2)
"""Thresholds tried when one is tuned: 0.05, 0.06, ..., 0.95."""


def best_threshold(scores: np.ndarray, candidates: np.ndarray = THRESHOLD_CANDIDATES) -> int:
    """Index of the candidate with the highest score; ties go to the one closest to 0.5."""
    scores = np.asarray(scores)
    best = np.flatnonzero(scores == scores.max())
    return int(best[np.argmin(np.abs(np.asarray(candidates)[best] - DEFAULT_THRESHOLD))])


def best_mean_threshold(curves: list[np.ndarray]) -> float:
    """The threshold of :data:`THRESHOLD_CANDIDATES` with the highest mean F1 over photographs,
    from each one's :func:`f1_by_threshold` (a photograph whose F1 is undefined at a threshold
    is left out of that threshold's mean)."""
    return float(THRESHOLD_CANDIDATES[best_threshold(np.nanmean(curves, axis=0))])


def tune_threshold(
    truth: np.ndarray, probabilities: np.ndarray, candidates: np.ndarray = THRESHOLD_CANDIDATES
) -> tuple[float, float]:
    """Pick the threshold that maximises the mean per-patch Dice.

    Args:
        truth: binary masks (N, ...).
        probabilities: predicted probabilities of the same shape.
        candidates: thresholds to try.

    Returns:
        (threshold, mean Dice at that threshold), as :func:`best_threshold` picks.
    """
    scores = np.array([mean_dice(truth, binarize(probabilities, t)) for t in candidates])
    pick = best_threshold(scores, candidates)
    return float(candidates[pick]), float(scores[pick])


def roc_auc(scores: np.ndarray, truth: np.ndarray) -> float | None:
    """Exact area under the ROC curve of ``scores`` for binary ``truth`` (same shape): the
    probability that a random vessel pixel scores above a random background pixel, ties counting
    one half (the Mann-Whitney U statistic, counted against the sorted background scores).
    ``None`` when ``truth`` has only one class."""
    values = np.asarray(scores).ravel()
    positive = np.asarray(truth).ravel().astype(bool)
    above = values[positive]
    below = np.sort(values[~positive])  # memory: one copy of the scores, not a ranking of them
    if len(above) == 0 or len(below) == 0:
        return None
    lower = np.searchsorted(below, above, "left").sum(dtype=np.int64)  # pairs won
    not_higher = np.searchsorted(below, above, "right").sum(dtype=np.int64)  # won or tied
    return float(lower + not_higher) / 2.0 / (len(above) * len(below))


@dataclass(frozen=True)
class PhotoScores:
    """The field's whole-photograph metrics, inside the field of view: ``f1`` (the Dice of the
    binary mask), ``sensitivity`` (share of vessel pixels found), ``specificity`` (share of
    background kept), ``accuracy`` and ``auc`` (ROC AUC of the probabilities).

    A metric whose denominator is empty is undefined and ``None``, never a made-up 1.0 or 0.0:
    ``f1`` when neither the label nor the mask has a vessel pixel, ``sensitivity`` when the
    label has none, ``specificity`` when it has no background pixel, ``auc`` for either,
    ``accuracy`` (and every other) when the field of view is empty."""

    f1: float | None
    sensitivity: float | None
    specificity: float | None
    accuracy: float | None
    auc: float | None


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or ``None`` (undefined) when the denominator is 0."""
    return numerator / denominator if denominator else None


def photo_scores(
    probability: np.ndarray, label: np.ndarray, fov: np.ndarray, threshold: float
) -> PhotoScores:
    """:class:`PhotoScores` of probabilities (H, W) against a binary label (H, W), counting only
    the pixels inside ``fov`` (boolean (H, W)); undefined metrics are ``None``."""
    inside = np.asarray(fov, dtype=bool)
    scores = np.asarray(probability)[inside]
    truth = np.asarray(label)[inside].astype(bool)
    predicted = scores >= threshold
    tp = int(np.count_nonzero(predicted & truth))
    fp = int(np.count_nonzero(predicted & ~truth))
    fn = int(np.count_nonzero(~predicted & truth))
    tn = truth.size - tp - fp - fn
    return PhotoScores(
        f1=ratio(2 * tp, 2 * tp + fp + fn),
        sensitivity=ratio(tp, tp + fn),
        specificity=ratio(tn, tn + fp),
        accuracy=ratio(tp + tn, truth.size),
        auc=roc_auc(scores, truth),
    )


def f1_by_threshold(
    probability: np.ndarray,
    label: np.ndarray,
    fov: np.ndarray,
    candidates: np.ndarray = THRESHOLD_CANDIDATES,
) -> np.ndarray:
    """One photograph's F1 inside ``fov`` at each candidate threshold, as :func:`photo_scores`
    gives it, counted from the sorted scores rather than a pass over the pixels per threshold;
    NaN where F1 is undefined (no vessel pixel in the label nor the mask: ``np.nanmean``
    leaves such a photograph out of a mean)."""
    inside = np.asarray(fov, dtype=bool)
    scores = np.asarray(probability)[inside]
    truth = np.asarray(label)[inside].astype(bool)
    at = np.asarray(candidates, dtype=scores.dtype)  # compared as photo_scores compares
    vessel, background = np.sort(scores[truth]), np.sort(scores[~truth])
    tp = len(vessel) - np.searchsorted(vessel, at, "left")
    fp = len(background) - np.searchsorted(background, at, "left")
    fn = len(vessel) - tp
    wrong_or_found = 2 * tp + fp + fn
    return np.divide(
        2.0 * tp, wrong_or_found, out=np.full(len(at), np.nan), where=wrong_or_found > 0
    )


def mean_scores(scores: list[PhotoScores]) -> PhotoScores:
    """The mean of each metric over the photographs where it is defined (``None`` where it is
    defined on none); :func:`defined_counts` says over how many."""

    def mean(name: str) -> float | None:
        values = [getattr(s, name) for s in scores if getattr(s, name) is not None]
        return float(np.mean(values)) if values else None

    return PhotoScores(*(mean(f.name) for f in dataclasses.fields(PhotoScores)))


def defined_counts(scores: Sequence[object], kind: type = PhotoScores) -> dict[str, int]:
    """For each metric (by name) of ``kind``, a dataclass of scores, on how many of the
    photographs it is defined: the count of its mean (:func:`mean_scores`, or the artery/vein
    metrics' own)."""
    return {
        f.name: sum(getattr(s, f.name) is not None for s in scores)
        for f in dataclasses.fields(kind)
    }
