"""Choose the tile stride: stitched Dice, tile redundancy and time per stride, in one run.

    python benchmarks/stride.py ../shared/data/retinal_vessel_dev.npz [--model M.tflite]

Consecutive training patches that continue each other left to right are concatenated into wide
labeled strips (64 pixels high). Each strip is segmented by the runtime's tiling and stitching at
several strides; the stitched mask is scored per original patch (mean per-patch Dice, as
everywhere) and compared with the model run on the patches themselves. Strips are one tile
high, so their redundancy is one-dimensional; on a photograph tiles overlap in both directions,
(64 / stride)^2.
"""

import time
from pathlib import Path

import click
import numpy as np

from edge_runtime.dataset import horizontal_runs, load_labeled_patches
from edge_runtime.holdout import holdout_indices
from edge_runtime.metrics import binarize, dice_per_patch
from edge_runtime.segmenter import Segmenter

STRIDES = (64, 56, 52, 48, 40, 32)


def stitched_patch_dice(
    segmenter: Segmenter, images, labels, runs
) -> tuple[np.ndarray, int, float]:
    """Per-patch Dice of the stitched strips, the tile count and the seconds spent."""
    scores, tiles, seconds = [], 0, 0.0
    for run in runs:
        strip = np.concatenate(list(images[run]), axis=1).astype(np.float32)
        started = time.perf_counter()
        prob, count = segmenter.tile_probabilities(strip, np.ones(strip.shape, dtype=bool))
        seconds += time.perf_counter() - started
        tiles += count
        masks = np.stack(np.split(binarize(prob, segmenter.threshold), len(run), axis=1))
        scores.append(dice_per_patch(labels[run], masks))
    return np.concatenate(scores), tiles, seconds


@click.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--images", default="x_train", show_default=True)
@click.option("--labels", default="y_train", show_default=True)
@click.option("--model", default=None, help="A .tflite model [default: bundled].")
@click.option("--holdout", type=float, default=0.2, show_default=True,
              help="Use only strips inside the training holdout (patches the model never saw; "
                   "on training patches per-patch scores are inflated by memorisation). "
                   "0 uses every strip.")  # fmt: skip
def main(data: Path, images: str, labels: str, model: str | None, holdout: float) -> None:
    """Print, per stride: tile redundancy, stitched Dice and its difference from per-patch Dice."""
    x, y = load_labeled_patches(data, images, labels)
    keep = set(holdout_indices(len(x), holdout).tolist())
    runs = [run for run in horizontal_runs(x) if set(run) <= keep]
    covered = [i for run in runs for i in run]
    base = Segmenter(model)
    per_patch = dice_per_patch(y[covered], base.model.segment_patches(x[covered], base.threshold))
    click.echo(
        f"{len(runs)} strips of {len(covered)} patches; per-patch Dice {per_patch.mean():.4f} "
        f"(model {base.model.path}, threshold {base.threshold})"
    )
    click.echo(
        "stride  strip redundancy  photo redundancy  stitched Dice  difference  ms/patch area"
    )
    for stride in STRIDES:
        segmenter = Segmenter(model, stride=stride)
        scores, tiles, seconds = stitched_patch_dice(segmenter, x, y, runs)
        click.echo(
            f"{stride:>6}  {tiles / len(covered):>15.2f}x  {(64 / stride) ** 2:>15.2f}x  "
            f"{scores.mean():>13.4f}  {scores.mean() - per_patch.mean():>+10.4f}  "
            f"{seconds * 1000 / len(covered):>13.2f}"
        )


if __name__ == "__main__":
    main()
