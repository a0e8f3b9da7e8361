"""The field's artery/vein metrics of one photograph, defined once for training, conversion and
the device.

A model's artery/vein map (:class:`~edge_runtime.contract.artery_vein_classes.ArteryVein`
codes; :func:`~edge_runtime.contract.artery_vein_classes.classes_from_probability` makes one
from a vessel mask and artery probabilities) is scored against the ground truth's inside a
field of view. Only ground-truth arteries and veins are graded: a crossing or uncertain pixel
of the ground truth has no class to be right about. Finding vessels is the vessel metrics' job
(:mod:`~edge_runtime.contract.metrics`); here the model's classes are scored where it found a
vessel, and :attr:`ArteryVeinScores.found` says how much of the graded vessels that is:

- ``found``: share of the graded pixels (ground-truth artery or vein) that the model marks as
  vessel (any class);
- ``accuracy``: share of the found graded pixels whose class the model got right (a found pixel
  the model leaves :attr:`~ArteryVein.UNCERTAIN` is wrong);
- ``artery_sensitivity``, ``artery_specificity``, ``artery_dice``: on the found graded pixels,
  artery as the positive class: arteries called artery / all arteries, veins not called artery
  / all veins, and Dice 2TP / (2TP + FP + FN); ``vein_*`` the same with vein as positive (when
  the model calls every found pixel artery or vein, vein sensitivity is artery specificity and
  the other way round);
- ``centreline_accuracy``: ``accuracy`` on the found graded pixels of the ground truth's
  centre lines (its skeleton), where every vessel counts the same whatever its width.

A metric whose denominator is empty is undefined and ``None``, never a made-up 1.0 or 0.0:
every metric when the field of view holds no graded pixel; all but ``found`` when the model
found none of them; a class's sensitivity when no found pixel is of that class, its specificity
when none is of the other, its Dice when neither the ground truth nor the model has that class
on the found pixels; ``centreline_accuracy`` when no centre-line pixel is found.

Sources and where conventions differ:

- Hemelings et al., "Artery-vein segmentation in fundus images using a fully convolutional
  network", Computerized Medical Imaging and Graphics 76 (2019), with its evaluation code
  (github.com/rubenhx/av-segmentation, ``evaluation_code.py``): accuracy on the "discovered"
  centre-line pixels (those the prediction marks as vessel), on all of them (an undiscovered
  one counts as wrong), and on the full image. Their centre lines are the skeletons of the
  arteries and of the veins, each thinned alone; here the caller thins the whole vessel tree
  (crossings included, so that lines run through them) and only its artery and vein pixels
  are graded.
- Morano et al., "RRWNet: Recursive Refinement Network for effective retinal artery/vein
  segmentation and classification", Expert Systems with Applications 256 (2024) 124970, with
  its evaluation code (github.com/j-morano/rrwnet, ``eval/test_utils.py``): sensitivity,
  specificity and accuracy with artery as the positive class, on the ground-truth vessel
  pixels without crossings and uncertain ones, either those the prediction found
  ("Intersection", as here) or all of them ("All", an undetected pixel given a random class).
- The ground truth: RITE (Hu, Abramoff and Garvin, MICCAI 2013), the artery/vein labels of
  DRIVE, whose colours LES-AV and GAVE share (red artery, blue vein, green crossing or
  uncertain). Galdran et al. ("The Little W-Net that could", Scientific Reports 12, 2022) also
  score artery/vein segmentation on these sets; their exact protocol is not confirmed here.
  Some papers instead give each class's Dice over the whole field of view, counting missed
  vessels against it: that mixes finding vessels with telling them apart, which ``found`` and
  the vessel metrics keep apart here.
"""

from dataclasses import dataclass, fields

import numpy as np

from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.contract.metrics import ratio
from edge_runtime.errors import InputError

_CODES = len(ArteryVein)


@dataclass(frozen=True)
class ArteryVeinScores:
    """The field's artery/vein metrics of one photograph (module docstring: definitions and
    when each is undefined, ``None``)."""

    found: float | None
    accuracy: float | None
    artery_sensitivity: float | None
    artery_specificity: float | None
    artery_dice: float | None
    vein_sensitivity: float | None
    vein_specificity: float | None
    vein_dice: float | None
    centreline_accuracy: float | None


def _shaped(what: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``array``, checked to be of ``shape``."""
    array = np.asarray(array)
    if array.shape != shape:
        raise InputError(f"got a {what} of shape {array.shape}, expected {shape}")
    return array


def _codes(what: str, classes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An artery/vein map of integers, checked to be of ``shape`` and to hold only codes (as
    it is: a 25-megapixel map widened to int64 took 200 MB)."""
    classes = _shaped(what, classes, shape)
    if not np.issubdtype(classes.dtype, np.integer):
        raise InputError(f"got a {what} of {classes.dtype}, expected integer artery/vein codes")
    if classes.size and (classes.min() < 0 or classes.max() >= _CODES):
        raise InputError(
            f"got a {what} with values from {classes.min()} to {classes.max()}, expected "
            f"artery/vein codes 0 to {_CODES - 1}"
        )
    return classes


def _confusion(truth: np.ndarray, predicted: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Counts (truth code, predicted code) of the pixels ``where`` holds."""
    pairs = truth[where].astype(np.intp) * _CODES + predicted[where]
    return np.bincount(pairs, minlength=_CODES * _CODES).reshape(_CODES, _CODES)


def _accuracy(confusion: np.ndarray) -> float | None:
    """Share of the graded pixels counted in ``confusion`` whose class is right."""
    graded = (ArteryVein.ARTERY, ArteryVein.VEIN)
    right = sum(int(confusion[c, c]) for c in graded)
    return ratio(right, int(confusion[list(graded)].sum()))


def _as_positive(confusion: np.ndarray, positive: ArteryVein) -> tuple[float | None, ...]:
    """Sensitivity, specificity and Dice of ``positive`` against the other graded class."""
    negative = ArteryVein.VEIN if positive == ArteryVein.ARTERY else ArteryVein.ARTERY
    tp = int(confusion[positive, positive])
    fn = int(confusion[positive].sum()) - tp
    fp = int(confusion[negative, positive])
    tn = int(confusion[negative].sum()) - fp
    return ratio(tp, tp + fn), ratio(tn, tn + fp), ratio(2 * tp, 2 * tp + fp + fn)


def artery_vein_scores(
    truth: np.ndarray, predicted: np.ndarray, fov: np.ndarray, centreline: np.ndarray
) -> ArteryVeinScores:
    """:class:`ArteryVeinScores` of a predicted artery/vein map against the ground truth's,
    inside ``fov``.

    Args:
        truth: the ground truth's :class:`ArteryVein` codes, (H, W).
        predicted: the model's codes, (H, W) (:attr:`~ArteryVein.BACKGROUND` where it found no
            vessel).
        fov: the field of view, boolean (H, W).
        centreline: the ground truth's centre lines, boolean (H, W): the skeleton of its vessels
            (``edge_runtime.measure.skeleton.skeletonize(truth != ArteryVein.BACKGROUND)``).

    Raises:
        InputError: the arrays' shapes differ, or a map holds a value that is no code.
    """
    shape = np.shape(truth)
    truth = _codes("ground-truth artery/vein map", truth, shape)
    predicted = _codes("predicted artery/vein map", predicted, shape)
    fov = _shaped("field of view", fov, shape).astype(bool)
    centreline = _shaped("centre-line mask", centreline, shape).astype(bool)
    graded = fov & ((truth == ArteryVein.ARTERY) | (truth == ArteryVein.VEIN))
    found = graded & (predicted != ArteryVein.BACKGROUND)
    confusion = _confusion(truth, predicted, found)
    return ArteryVeinScores(
        ratio(int(np.count_nonzero(found)), int(np.count_nonzero(graded))),
        _accuracy(confusion),
        *_as_positive(confusion, ArteryVein.ARTERY),
        *_as_positive(confusion, ArteryVein.VEIN),
        _accuracy(_confusion(truth, predicted, found & centreline)),
    )


def mean_scores(scores: list[ArteryVeinScores]) -> ArteryVeinScores:
    """Each metric's mean over the photographs where it is defined (``None`` where it is on
    none): what a set of photographs scores."""
    means = {}
    for field in fields(ArteryVeinScores):
        values = [getattr(s, field.name) for s in scores if getattr(s, field.name) is not None]
        means[field.name] = float(np.mean(values)) if values else None
    return ArteryVeinScores(**means)
