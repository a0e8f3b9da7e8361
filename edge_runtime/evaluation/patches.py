"""Score a model on labelled patches: the reference notebook's mean per-patch Dice."""

import numpy as np

from edge_runtime.contract.evaluation_record import PatchEvaluation
from edge_runtime.contract.metrics import count_both_empty, dice_per_patch
from edge_runtime.pipeline.segmenter import Segmenter


def evaluate_patches(
    segmenter: Segmenter, images: np.ndarray, labels: np.ndarray, data: str
) -> PatchEvaluation:
    """Per-patch Dice of ``segmenter``'s masks of raw patches ``images`` (N, P, P) against their
    binary ``labels``, each patch preprocessed on its own as in training (``data`` names them in
    the record)."""
    masks = segmenter.patch_masks(images)
    dice = dice_per_patch(labels, masks)
    return PatchEvaluation(
        model=segmenter.model_name,
        data=data,
        n=len(dice),
        threshold=segmenter.threshold,
        tta=segmenter.config.tta,
        dice_mean=float(dice.mean()),
        dice_min=float(dice.min()),
        dice_median=float(np.median(dice)),
        both_empty=count_both_empty(labels, masks),
        provenance=segmenter.provenance,
    )
