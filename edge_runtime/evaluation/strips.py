"""Labeled strips rebuilt from consecutive patches, to score the whole-photograph path (tiling,
stitching) against the patch labels: used by the stride and test-time-averaging benchmarks and
by the tests."""

import time
from dataclasses import dataclass

import numpy as np

from edge_runtime.contract.holdout import holdout_indices
from edge_runtime.contract.metrics import binarize, dice_per_patch
from edge_runtime.data.patches import horizontal_runs
from edge_runtime.pipeline.segmenter import Segmenter


def holdout_runs(images: np.ndarray, holdout: float | None) -> list[range]:
    """Runs of patches that continue each other left to right (see
    :func:`edge_runtime.data.patches.horizontal_runs`) lying wholly inside the holdout of
    ``holdout`` (every run when ``holdout`` is 0 or ``None``)."""
    keep = set(holdout_indices(len(images), holdout).tolist())
    return [run for run in horizontal_runs(images) if set(run) <= keep]


@dataclass(frozen=True)
class StripScores:
    """Per-patch Dice of stitched strips, in the order of the runs' patches."""

    dice: np.ndarray
    tiles: int
    seconds: float


def stitched_patch_dice(
    segmenter: Segmenter, images: np.ndarray, labels: np.ndarray, runs: list[range]
) -> StripScores:
    """Concatenate each run's patches into a strip, segment it with the segmenter's tiling and
    stitching, cut the mask back into patches and score them against their labels."""
    scores, tiles, seconds = [], 0, 0.0
    for run in runs:
        strip = np.concatenate(list(images[run]), axis=1).astype(np.float32)
        started = time.perf_counter()
        prob, count = segmenter.tile_probabilities(strip, np.ones(strip.shape, dtype=bool))
        seconds += time.perf_counter() - started
        tiles += count
        masks = np.stack(np.split(binarize(prob, segmenter.threshold), len(run), axis=1))
        scores.append(dice_per_patch(labels[run], masks))
    return StripScores(np.concatenate(scores), tiles, seconds)
