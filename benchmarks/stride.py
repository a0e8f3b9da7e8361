"""Choose the tile stride: stitched Dice, tile redundancy and time per stride, in one run.

    python benchmarks/stride.py ../shared/data/retinal_vessel_dev.npz [--model M.tflite]

Consecutive training patches that continue each other left to right are concatenated into wide
labeled strips (64 pixels high). Each strip is segmented by the runtime's tiling and stitching at
several strides; the stitched mask is scored per original patch (mean per-patch Dice, as
everywhere) and compared with the model run on the patches themselves. Strips are one tile
high, so their redundancy is one-dimensional; on a photograph tiles overlap in both directions,
(64 / stride)^2.
"""

from pathlib import Path

import click

from edge_runtime.contract.card_holdout import refuse_another_card_holdout
from edge_runtime.contract.metrics import dice_per_patch
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.data.patches import load_labeled_patches
from edge_runtime.errors import InputError
from edge_runtime.evaluation.strips import holdout_runs, stitched_patch_dice
from edge_runtime.pipeline.segmenter import Segmenter

STRIDES = (64, 56, 52, 48, 40, 32)


@click.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--images", default="x_train", show_default=True)
@click.option("--labels", default="y_train", show_default=True)
@click.option("--model", default=None, help="A .tflite model [default: bundled].")
@click.option(
    "--holdout",
    type=float,
    default=0.2,
    show_default=True,
    help="Use only strips inside the training holdout (patches the model never saw; "
    "on training patches per-patch scores are inflated by memorisation). "
    "0 uses every strip.",
)
def main(data: Path, images: str, labels: str, model: str | None, holdout: float) -> None:
    """Print, per stride: tile redundancy, stitched Dice and its difference from per-patch Dice."""
    x, y = load_labeled_patches(data, images, labels)
    runs = holdout_runs(x, holdout)
    covered = [i for run in runs for i in run]
    base = Segmenter(model)
    try:  # scored as held out: what the model's run held out, as its card says
        refuse_another_card_holdout(
            holdout, base.model.card, base.model_name, "patches", scorer="stride.py"
        )
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    per_patch = dice_per_patch(y[covered], base.patch_masks(x[covered]))
    click.echo(
        f"{len(runs)} strips of {len(covered)} patches; per-patch Dice {per_patch.mean():.4f} "
        f"(model {base.model_name}, threshold {base.threshold})"
    )
    click.echo(
        "stride  strip redundancy  photo redundancy  stitched Dice  difference  ms/patch area"
    )
    for stride in STRIDES:
        segmenter = Segmenter(model, SegmenterConfig(stride=stride))
        strips = stitched_patch_dice(segmenter, x, y, runs)
        click.echo(
            f"{stride:>6}  {strips.tiles / len(covered):>15.2f}x  {(64 / stride) ** 2:>15.2f}x  "
            f"{strips.dice.mean():>13.4f}  {strips.dice.mean() - per_patch.mean():>+10.4f}  "
            f"{strips.seconds * 1000 / len(covered):>13.2f}"
        )


if __name__ == "__main__":
    main()
