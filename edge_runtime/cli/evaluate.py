"""``edge-seg eval``: a model's accuracy on labelled photographs (the field's whole-photograph
metrics) or on labelled patches of an .npz file (mean per-patch Dice)."""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from edge_runtime.app.files import prepare_report
from edge_runtime.app.outputs import refuse_output_among
from edge_runtime.atomic import folders_removed_on_failure
from edge_runtime.cli.options import (
    HOLDOUT_HELP,
    NonBlankPath,
    artery_vein_options,
    check_jobs,
    holdout_option,
    jobs_option,
    json_option,
    layout_option,
    segmenter_options,
)
from edge_runtime.cli.results import ResultLines
from edge_runtime.contract.artery_vein_metrics import ArteryVeinScores
from edge_runtime.contract.card_holdout import (
    refuse_another_card_holdout,
    refuse_artery_vein_holdout,
)
from edge_runtime.contract.evaluation_record import FailedPhoto
from edge_runtime.contract.metrics import PhotoScores
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.data.patches import load_labeled_patches, select_holdout
from edge_runtime.data.photos import PhotoDataset, describe_layouts, held_out, list_dataset
from edge_runtime.errors import InputError, counted, one_line
from edge_runtime.evaluation.patches import evaluate_patches
from edge_runtime.evaluation.photos import (
    METRICS,
    PICTURE_SUFFIX,
    SUMMARY_FILES,
    PhotoResult,
    evaluate_photos,
    write_summary,
)
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.pipeline.parallel import SCORING_MEMORY, job_count, stopping_on_signals
from edge_runtime.pipeline.segmenter import Segmenter

ARTERY_VEIN_SHOWN = {
    "accuracy": "accuracy",
    "centreline_accuracy": "centre lines",
    "artery_sensitivity": "artery sensitivity",
    "vein_sensitivity": "vein sensitivity",
}
"""The artery/vein metrics a line shows, and their names there."""


def _shown(
    scores: PhotoScores | ArteryVeinScores,
    counts: dict[str, int] | None = None,
    n: int = 0,
    names: dict[str, str] | None = None,
) -> str:
    """``f1 0.8012, sensitivity undefined, ...``: the metrics of ``names`` (metric: name
    shown; every vessel metric by default); with the ``counts`` of a mean of ``n``
    photographs, over how many each is taken where that is fewer."""
    parts = []
    for metric, name in (names or {m: m for m in METRICS}).items():
        value = getattr(scores, metric)
        text = "undefined" if value is None else f"{value:.4f}"
        if counts is not None and counts[metric] != n:
            text += f" (over {counts[metric]})"
        parts.append(f"{name} {text}")
    return ", ".join(parts)


def _shown_artery_vein(
    scores: ArteryVeinScores, counts: dict[str, int] | None = None, n: int = 0
) -> str:
    """``arteries/veins on the vessels found: accuracy 0.8123, centre lines ...`` (:func:`_shown`
    of :data:`ARTERY_VEIN_SHOWN`)."""
    return f"arteries/veins on the vessels found: {_shown(scores, counts, n, ARTERY_VEIN_SHOWN)}"


def _warn_of_unlabelled(data: Path, dataset: PhotoDataset) -> None:
    """Say which photographs have no artery/vein label: their vessels are scored, their
    arteries and veins are not, and the artery/vein means are over the others (a photograph
    that cannot be scored at all, its label missing say, fails with its own error instead)."""
    unlabelled = [p.name for p in dataset.photos if not (p.has_artery_vein or p.problem)]
    if unlabelled:
        named = ", ".join(unlabelled[:3]) + (", ..." if len(unlabelled) > 3 else "")
        click.echo(
            f"warning: {data}: {len(unlabelled)} of {len(dataset.photos)} photographs have no "
            f"artery/vein label ({named}): their arteries and veins are not scored",
            err=True,
        )


def _reporter(total: int, out: ResultLines, as_json: bool) -> Callable[[PhotoResult, int], None]:
    """What is shown of each photograph as it is done: its error (or its arteries and veins')
    on stderr, its scores on stdout (``out``, without --json), and how far it has got on
    stderr when that is a terminal."""
    terminal = sys.stderr.isatty()

    def report(result: PhotoResult, done: int) -> None:
        if terminal:
            click.echo("\r\033[K", err=True, nl=False)
        if isinstance(result, FailedPhoto):
            click.echo(f"error: {result.error}", err=True)
        else:
            if not as_json:
                graded = result.artery_vein and "; " + _shown_artery_vein(result.artery_vein)
                out.echo(f"{one_line(result.name)}: {_shown(result)}{graded or ''}")
            for error in (result.artery_vein_error, result.report_error):
                if error:
                    click.echo(f"error: {error}", err=True)
        if terminal and done < total:
            click.echo(f"evaluated {done} of {total} photographs", err=True, nl=False)

    return report


def _nothing_to_evaluate(data: Path, reason: str) -> NoReturn:
    """A warning, and exit status 1 (nothing to evaluate is not a bad input)."""
    click.echo(f"warning: {one_line(f'{data}: nothing to evaluate: {reason}')}", err=True)
    raise click.exceptions.Exit(1)


def _photographs(
    data: Path,
    layout: str | None,
    holdout: float | None,
    runtime: RuntimeOptions,
    config: SegmenterConfig,
    artery_vein: RuntimeOptions | None,
    report: Path | None,
    jobs: int | None,
    as_json: bool,
) -> None:
    check_jobs(jobs, runtime)
    found = list_dataset(data, layout)
    found.warn_of_unmatched()
    if report is not None:
        refuse_output_among(report, [found], "--report")
    segmenter = Segmenter(runtime, config, artery_vein)
    refuse_another_card_holdout(holdout, segmenter.model.card, segmenter.model_name, "photographs")
    if artery_vein is not None:
        refuse_artery_vein_holdout(
            holdout, segmenter.artery_vein.model.card, str(artery_vein.model)
        )
    dataset = held_out(found, holdout)
    if not found.photos:
        _nothing_to_evaluate(data, f"no photographs in the {found.layout} layout")
    if not dataset.photos:
        count = counted(len(found.photos), "photograph")  # one: photo_holdout holds out of 2+
        _nothing_to_evaluate(data, f"--holdout {holdout} of {count} holds none out")
    if artery_vein is not None and not any(p.has_artery_vein for p in dataset.photos):
        _nothing_to_evaluate(data, "no artery/vein labels (labels-av/, AV/) to score --av on")
    if artery_vein is not None:
        _warn_of_unlabelled(data, dataset)
    total = len(dataset.photos)
    jobs = job_count(jobs, [photo.image for photo in dataset.photos], runtime, SCORING_MEMORY)
    if report is not None:  # once the run is sure to start: one refused leaves an earlier report
        prepare_report(report, SUMMARY_FILES, PICTURE_SUFFIX)
    with stopping_on_signals() as stop:
        out = ResultLines(stop)
        progress = _reporter(total, out, as_json)
        evaluation = evaluate_photos(segmenter, dataset, report, progress, jobs, stop)
    scored = evaluation.n
    if as_json:
        out.echo(json_text(encode(evaluation)))
    elif scored:
        out.echo(
            f"mean of {counted(scored, 'photograph')}: "
            f"{_shown(evaluation.mean, evaluation.counts, scored)} "
            f"({dataset.layout} layout; threshold {evaluation.threshold}, "
            f"model {evaluation.model})"
        )
        if evaluation.artery_vein is not None:
            out.echo(
                f"mean of {evaluation.artery_vein_n} with artery/vein labels: "
                + _shown_artery_vein(
                    evaluation.artery_vein, evaluation.artery_vein_counts, evaluation.artery_vein_n
                )
            )
    if report is not None:  # after the means are shown: a report that fails loses none
        write_summary(report, evaluation)
    ungraded = "photographs' arteries and veins could not be scored"
    failures = [
        f"{count} of {of} {what}"
        for count, of, what in (
            (len(evaluation.failed), total, "photographs failed"),
            (len(evaluation.ungraded), total, ungraded),
            (len(evaluation.undrawn), evaluation.n, "report pictures could not be written"),
        )
        if count
    ]
    out.check(f"{scored} of {total} photographs")
    if failures:
        raise click.ClickException("; ".join(failures))


def _patches(
    data: Path,
    images_key: str | None,
    labels_key: str | None,
    holdout: float | None,
    runtime: RuntimeOptions,
    config: SegmenterConfig,
    as_json: bool,
) -> None:
    if not images_key or not labels_key:
        raise click.UsageError(f"{data}: an .npz file needs --images and --labels (its arrays)")
    segmenter = Segmenter(runtime, config)
    refuse_another_card_holdout(holdout, segmenter.model.card, segmenter.model_name, "patches")
    images, labels = load_labeled_patches(data, images_key, labels_key)
    keep = select_holdout(data, len(images), holdout)
    if not len(keep):
        count = counted(len(images), "patch", "patches")
        _nothing_to_evaluate(data, f"--holdout {holdout} of {count} holds none out")
    evaluation = evaluate_patches(segmenter, images[keep], labels[keep], str(data))
    if as_json:
        click.echo(json_text(encode(evaluation)))
        return
    empty = evaluation.both_empty
    convention = f"{empty} without a vessel in label or mask count as 1; " if empty else ""
    click.echo(
        f"mean Dice {evaluation.dice_mean:.4f} on {counted(evaluation.n, 'patch', 'patches')} "
        f"({convention}threshold {evaluation.threshold}, model {evaluation.model})"
    )


@click.command(
    "eval", epilog="\b\nLayouts (detected, or named with --layout):\n" + describe_layouts()
)
@click.argument("data", type=NonBlankPath(path_type=Path))
@click.option("--images", "images_key", help="Array of patches in DATA.npz (needed for an .npz).")
@click.option("--labels", "labels_key", help="Array of masks in DATA.npz (needed for an .npz).")
@holdout_option(
    help=f"{HOLDOUT_HELP} Refused unless the model's card says its run held out F (any F, for a "
    "run that held nothing out); taken with a warning where the card does not say. With --av, "
    "refused unless the artery/vein model's card says so too (train-artery-vein holds nothing "
    "out: any F, where its card records 0 or no share)."
)
@layout_option
@click.option(
    "--report",
    "report",
    type=NonBlankPath(file_okay=False, path_type=Path),
    help="Write, per photograph, a picture of true positives (green), false positives (red) "
    "and false negatives (blue), and summary.csv and summary.md, into this folder (an earlier "
    "report there is removed as the run starts, its pictures of other photographs too: a run "
    "that fails leaves none, one refused before it starts leaves it as it was).",
)
@segmenter_options
@artery_vein_options(
    "scores the photographs with an artery/vein label on their arteries and veins."
)
@jobs_option(SCORING_MEMORY)
@json_option
def evaluate(
    data,
    images_key,
    labels_key,
    holdout,
    layout,
    report,
    runtime,
    config,
    artery_vein,
    jobs,
    as_json,
):
    """Score a model on labelled photographs (a dataset folder) or patches (.npz).

    For photographs (the layouts of DRIVE, STARE, CHASE_DB1 and HRF, or images/ labels/
    [masks/]): F1 (the Dice of the binary mask), sensitivity, specificity, accuracy and ROC AUC
    inside the field of view, per photograph and their mean, through the same pipeline as
    segment; a metric that is undefined on a photograph (an empty denominator) is left out of
    its mean. With --av, the photographs with an artery/vein label (DRIVE's AV/, or labels-av/)
    are also scored on their arteries and veins, on the vessels the model found (accuracy,
    centre-line accuracy, each class's sensitivity, specificity and Dice). For an .npz file:
    mean per-patch Dice of --images against --labels. A photograph
    that cannot be scored is reported on one line and skipped; the exit status is 1 if any was
    (or, with --av, if a photograph's arteries and veins could not be scored: its vessels are;
    or, with --report, if a picture could not be written: its scores stand), or if there is
    nothing to evaluate. SIGINT, SIGTERM or SIGHUP (unless ignored when it started: nohup)
    stops it after the photographs in progress; the others fail as stopped.
    """
    if not os.path.lexists(data):
        raise InputError(f"{data}: no such file or folder")
    if data.is_dir():
        _refuse(data, "a folder of photographs", images=images_key, labels=labels_key)
        with folders_removed_on_failure(*filter(None, [report])):  # made for a failed run
            _photographs(data, layout, holdout, runtime, config, artery_vein, report, jobs, as_json)
    else:
        _refuse(  # patches are grayscale already: no --channel
            data,
            "an .npz file",
            layout=layout,
            report=report,
            jobs=jobs,
            av=artery_vein,
            channel=config.channel,
        )
        _patches(data, images_key, labels_key, holdout, runtime, config, as_json)


def _refuse(data: Path, kind: str, **given) -> None:
    """A usage error when an option that does not apply to ``data`` was given."""
    extra = [f"--{name}" for name, value in given.items() if value is not None]
    if extra:
        raise click.UsageError(f"{data}: {kind} takes no {' or '.join(extra)}")
