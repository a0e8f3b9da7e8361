"""``edge-seg eval``: mean per-patch Dice of a model on labeled patches."""

import json
from pathlib import Path

import click
import numpy as np

from edge_runtime.cli.options import (
    delegate_option,
    holdout_option,
    json_option,
    model_option,
    threads_option,
    threshold_option,
    tta_option,
)
from edge_runtime.contract.metrics import dice_per_patch
from edge_runtime.data.patches import load_labeled_patches, select_holdout
from edge_runtime.inference.bundled import resolve_model
from edge_runtime.inference.patch_model import PatchModel


@click.command("eval")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--images", "images_key", required=True, help="Array of patches in DATA.")
@click.option("--labels", "labels_key", required=True, help="Array of masks in DATA.")
@holdout_option
@model_option
@threads_option
@delegate_option
@tta_option
@threshold_option
@json_option
def evaluate(
    data, images_key, labels_key, holdout, model, threads, delegate, tta, threshold, as_json
):
    """Mean per-patch Dice of a model on the labeled patches of DATA.npz."""
    images, labels = load_labeled_patches(data, images_key, labels_key)
    keep = select_holdout(data, len(images), holdout)
    images, labels = images[keep], labels[keep]
    patch_model = PatchModel(
        resolve_model(model), threads=threads, delegate=delegate, tta=tta, threshold=threshold
    )
    threshold = patch_model.threshold
    dice = dice_per_patch(labels, patch_model.segment_patches(images))
    report = {
        "model": str(patch_model.path),
        "data": str(data),
        "n": len(dice),
        "threshold": threshold,
        "tta": tta,
        "dice_mean": float(dice.mean()),
        "dice_min": float(dice.min()),
        "dice_median": float(np.median(dice)),
    }
    if as_json:
        click.echo(json.dumps(report, allow_nan=False))
    else:
        click.echo(f"mean Dice {report['dice_mean']:.4f} on {report['n']} patches "
                   f"(threshold {threshold}, model {patch_model.path})")  # fmt: skip
