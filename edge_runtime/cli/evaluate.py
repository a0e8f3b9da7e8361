"""``edge-seg eval``: a model's accuracy on labelled photographs (the field's whole-photograph
metrics) or on labelled patches of an .npz file (mean per-patch Dice)."""

import json
import os
import sys
from pathlib import Path

import click
import numpy as np

from edge_runtime.app.files import prepare_outdir
from edge_runtime.app.parallel import job_count
from edge_runtime.cli.options import (
    holdout_option,
    jobs_option,
    json_option,
    layout_option,
    segmenter_options,
)
from edge_runtime.contract.metrics import dice_per_patch
from edge_runtime.data.patches import load_labeled_patches, select_holdout
from edge_runtime.data.photos import find_dataset, held_out
from edge_runtime.errors import InputError
from edge_runtime.evaluation.photos import METRICS, evaluate_photos, write_summary
from edge_runtime.pipeline.segmenter import SegmenterSettings


def _on_terminal(message: str) -> None:
    stderr = sys.stderr
    if stderr.isatty():
        click.echo(f"\r\033[Kevaluating {message}", err=True, nl=False)


def _photographs(data: Path, layout: str | None, holdout: float | None,
                 settings: SegmenterSettings, report: Path | None, jobs: int | None,
                 as_json: bool) -> None:  # fmt: skip
    segmenter = settings.build()
    dataset = held_out(find_dataset(data, layout), holdout)
    if report is not None:
        prepare_outdir(report)
    jobs = job_count(jobs, len(dataset.photos), settings)
    evaluation = evaluate_photos(segmenter, dataset, report, _on_terminal, jobs, settings)
    if sys.stderr.isatty():
        click.echo("\r\033[K", err=True, nl=False)
    if report is not None:
        write_summary(report, evaluation)
    if as_json:
        click.echo(json.dumps(evaluation.to_json(), allow_nan=False))
        return
    mean = evaluation.mean
    shown = ", ".join(
        f"{m} {getattr(mean, m):.4f}" for m in METRICS if getattr(mean, m) is not None
    )
    click.echo(
        f"{shown} (mean of {len(evaluation.photos)} photographs, {dataset.layout} layout; "
        f"threshold {evaluation.threshold}, model {evaluation.model})"
    )


def _patches(data: Path, images_key: str | None, labels_key: str | None, holdout: float | None,
             settings: SegmenterSettings, as_json: bool) -> None:  # fmt: skip
    if not images_key or not labels_key:
        raise click.UsageError(f"{data}: an .npz file needs --images and --labels (its arrays)")
    segmenter = settings.build()
    images, labels = load_labeled_patches(data, images_key, labels_key)
    keep = select_holdout(data, len(images), holdout)
    patch_model = segmenter.model
    dice = dice_per_patch(labels[keep], patch_model.segment_patches(images[keep]))
    report = {
        "model": str(patch_model.path),
        "data": str(data),
        "n": len(dice),
        "threshold": patch_model.threshold,
        "tta": patch_model.tta,
        "dice_mean": float(dice.mean()),
        "dice_min": float(dice.min()),
        "dice_median": float(np.median(dice)),
    }
    if as_json:
        click.echo(json.dumps(report, allow_nan=False))
    else:
        click.echo(f"mean Dice {report['dice_mean']:.4f} on {report['n']} patches "
                   f"(threshold {report['threshold']}, model {patch_model.path})")  # fmt: skip


@click.command("eval")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--images", "images_key", help="Array of patches in DATA.npz.")
@click.option("--labels", "labels_key", help="Array of masks in DATA.npz.")
@holdout_option
@layout_option
@click.option(
    "--report",
    "report",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write, per photograph, a picture of true positives (green), false positives (red) "
    "and false negatives (blue), and summary.csv and summary.md, into this folder.",
)
@segmenter_options
@jobs_option
@json_option
def evaluate(data, images_key, labels_key, holdout, layout, report, settings, jobs, as_json):
    """A model's accuracy on DATA: a folder of labelled photographs, or an .npz of patches.

    For photographs (the layouts of DRIVE, STARE, CHASE_DB1 and HRF, or images/ labels/
    [masks/]): F1 (the Dice of the binary mask), sensitivity, specificity, accuracy and ROC AUC
    inside the field of view, per photograph and their mean, through the same pipeline as
    segment. For an .npz file: mean per-patch Dice of --images against --labels.
    """
    if not os.path.lexists(data):
        raise InputError(f"{data}: no such file or folder")
    if data.is_dir():
        _refuse(data, "a folder of photographs", images=images_key, labels=labels_key)
        _photographs(data, layout, holdout, settings, report, jobs, as_json)
    else:
        _refuse(data, "an .npz file", layout=layout, report=report, jobs=jobs)
        _patches(data, images_key, labels_key, holdout, settings, as_json)


def _refuse(data: Path, kind: str, **given) -> None:
    """A usage error when an option that does not apply to ``data`` was given."""
    extra = [f"--{name}" for name, value in given.items() if value is not None]
    if extra:
        raise click.UsageError(f"{data}: {kind} takes no {' or '.join(extra)}")
