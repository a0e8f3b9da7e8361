"""What test-time averaging buys and costs, measured in one run.

    python benchmarks/tta.py ../shared/data/retinal_vessel_dev.npz [--model M.tflite]

For each mode of ``--tta`` (off, flip, dihedral): mean per-patch Dice on the training holdout
(patches the bundled model never saw), the Dice of holdout strips tiled and stitched as
photographs are, and the milliseconds per DRIVE-sized photograph (one thread, median of
``--repeats``, the modes timed in turn so that machine noise hits them alike), with the gains
and the time ratio against ``off``.
"""

import statistics
import time
from pathlib import Path

import click

from edge_runtime.contract.card_holdout import refuse_another_card_holdout
from edge_runtime.contract.metrics import dice_per_patch
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.contract.symmetry import TTA_MODES
from edge_runtime.data.patches import TRAIN_IMAGES, TRAIN_LABELS, load_labeled_patches
from edge_runtime.errors import InputError
from edge_runtime.evaluation.strips import holdout_runs, stitched_patch_dice
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.segmenter import Segmenter


@click.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", default=None, help="A .tflite model [default: bundled].")
@click.option("--holdout", type=float, default=0.2, show_default=True)
@click.option("--repeats", type=click.IntRange(1), default=7, show_default=True)
def main(data: Path, model: str | None, holdout: float, repeats: int) -> None:
    """Print, per test-time averaging mode: patch Dice, stitched Dice, ms per photograph."""
    x, y = load_labeled_patches(data, TRAIN_IMAGES, TRAIN_LABELS)
    runs = holdout_runs(x, holdout)
    covered = [i for run in runs for i in run]
    segmenters = {mode: Segmenter(model, SegmenterConfig(tta=mode)) for mode in TTA_MODES}
    try:  # scored as held out: what the model's run held out, as its card says
        refuse_another_card_holdout(
            holdout,
            segmenters["off"].model.card,
            segmenters["off"].model_name,
            "patches",
            scorer="tta.py",
        )
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    photo = synthetic_fundus(584, 565)
    times: dict[str, list[float]] = {mode: [] for mode in TTA_MODES}
    for segmenter in segmenters.values():
        segmenter.segment(photo)  # warm-up
    for _ in range(repeats):
        for mode, segmenter in segmenters.items():
            started = time.perf_counter()
            segmenter.segment(photo)
            times[mode].append((time.perf_counter() - started) * 1000)
    rows = {}
    for mode, segmenter in segmenters.items():
        patches = dice_per_patch(y[covered], segmenter.patch_masks(x[covered])).mean()
        strips = stitched_patch_dice(segmenter, x, y, runs).dice.mean()
        rows[mode] = (patches, strips, statistics.median(times[mode]))
    path = segmenters["off"].model_name
    click.echo(f"{len(covered)} holdout patches in {len(runs)} strips; model {path}")
    click.echo("mode      patch Dice  (gain)   strip Dice  (gain)   ms/photo  (x off)")
    base = rows["off"]
    for mode, (patches, strips, ms) in rows.items():
        click.echo(
            f"{mode:<9} {patches:>10.4f} {patches - base[0]:>+8.4f} {strips:>12.4f} "
            f"{strips - base[1]:>+8.4f} {ms:>10.1f} {ms / base[2]:>7.2f}x"
        )


if __name__ == "__main__":
    main()
