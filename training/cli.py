"""``edge-seg train``: train a model on labelled patches and photographs.

It needs the 'train' extra (TensorFlow).
"""

import contextlib
import dataclasses
import functools
import math
import os
from collections.abc import Iterator
from pathlib import Path

import click

from edge_runtime.app.files import prepare_outdir
from edge_runtime.app.outputs import identity, refuse_output_among
from edge_runtime.atomic import folders_removed_on_failure, refuse_in_the_way
from edge_runtime.cli.extras import import_extra
from edge_runtime.cli.options import (
    NonBlankPath,
    channel_option,
    distinct_paths,
    finite_range,
    holdout_option,
    overwrite_option,
    refuse_given,
)
from edge_runtime.data.patches import check_npz_file
from edge_runtime.data.photos import datasets_of_folders
from edge_runtime.errors import InputError, counted
from edge_runtime.processes import ending_cleanly_on_sigterm
from training.config import (
    ARTERY_VEIN_RUN_FILES,
    CROP_DRAWS,
    LOSSES,
    MAX_EPOCHS,
    MAX_SEED,
    RECIPES,
    RUN_FILES,
    SCHEDULES,
    ArteryVeinTraining,
    TrainConfig,
    default,
)
from training.models import ARCHITECTURES, MAX_WIDTH
from training.sources import refuse_a_channel_for_patches, source_path

AV_DEFAULTS = ArteryVeinTraining()


def refuse_an_earlier_run(out: Path, files: tuple[str, ...], overwrite: bool) -> None:
    """Refuse to train into ``out`` when it holds a run's ``files`` or something in their way.

    An earlier run's files are refused unless overwriting; the files of another kind of run (a
    vessel run's beside an artery/vein run's) and a folder or a link where one would go always
    (refused only once trained, the training would be lost).

    Raises:
        InputError: ``out`` holds an earlier run, or another kind's (exit status 2, as any bad
            option).
        OSError: something is in a file's way (:func:`~edge_runtime.atomic.refuse_in_the_way`,
            which the run's writing would raise once trained; one line, exit status 2).
    """
    other_kind = {*RUN_FILES, *ARTERY_VEIN_RUN_FILES} - set(files)
    foreign = sorted(name for name in other_kind if os.path.lexists(out / name))
    if foreign:  # replaced in part, the run's files would describe two models
        raise InputError(
            f"{out}: holds {', '.join(foreign)} of another kind of run, which this one would not "
            "replace: train into another folder"
        )
    existing = [name for name in files if (out / name).exists()]
    if existing and not overwrite:
        raise InputError(f"{out}: already holds {', '.join(existing)}; pass --overwrite")
    for name in files:
        refuse_in_the_way(out / name)


@contextlib.contextmanager
def run_folder(out: Path, files: tuple[str, ...]) -> Iterator[None]:
    """Make ``out`` and check that a run's ``files`` can be written there, then train inside.

    A folder that cannot be made or written in is refused before training, not once trained
    (the training lost). Made here, it is removed again when the run fails or is stopped and
    leaves it empty.

    Raises:
        OutputError: ``out`` cannot be made or written in (one line, exit status 2).
    """
    with folders_removed_on_failure(out):
        prepare_outdir(out, files)
        yield


_distinct_sources = functools.partial(distinct_paths, path_of=source_path)
"""``distinct_paths`` of train's sources, their weights set aside (``drive drive:2``)."""


@click.command()
@click.argument("data", nargs=-1, required=True, callback=_distinct_sources)
@click.option(
    "--arch",
    type=click.Choice(tuple(ARCHITECTURES)),
    default=default("arch"),
    show_default=True,
    help=" ".join(f"{a.name}: {a.description}." for a in ARCHITECTURES.values()),
)
@click.option(
    "--width",
    type=click.IntRange(1, MAX_WIDTH),
    default=default("width"),
    show_default=True,
    help="Channels of the first level, which set the size of "
    f"{', '.join(a.name for a in ARCHITECTURES.values() if a.sized)}.",
)
@click.option(
    "--loss",
    type=click.Choice(LOSSES),
    default=default("loss"),
    show_default=True,
    help="bce: binary cross-entropy; bce-dice: BCE plus soft Dice.",
)
@click.option(
    "--augment/--no-augment",
    default=default("augment"),
    show_default=True,
    help="Random flips and 90-degree rotations.",
)
@click.option(
    "--jitter/--no-jitter",
    default=default("jitter"),
    show_default=True,
    help="Random gamma on the preprocessed patch.",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, MAX_EPOCHS),
    default=default("epochs"),
    show_default=True,
    help="Passes over the training data (or over --crops samples of photographs).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 4096),
    default=default("batch_size"),
    show_default=True,
    help="Samples per optimisation step.",
)
@click.option(
    "--lr",
    "learning_rate",
    type=finite_range(0, 10, min_open=True),
    default=default("learning_rate"),
    show_default=True,
    help="Adam learning rate.",
)
@click.option(
    "--schedule",
    type=click.Choice(SCHEDULES),
    default=default("schedule"),
    show_default=True,
    help="Learning-rate schedule: constant, or cosine decay to 0 over all epochs.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=default("seed"),
    show_default=True,
    help="Random seed of weights, crops and augmentation (same seed, same machine: same weights).",
)
@holdout_option(
    default=default("holdout"),
    help="Share held out for checkpoint selection and threshold tuning: of each .npz file, "
    "contiguous blocks of patches; of each folder, whole photographs spread over the sorted "
    "names. 0 trains on everything and keeps the last epoch.",
)
@click.option(
    "--teacher",
    type=NonBlankPath(dir_okay=False),
    default=None,
    help="Distil from this trained model (a run's model.keras, usually much larger): its "
    "probabilities, averaged over flips and rotations, become extra soft targets.",
)
@click.option(
    "--teacher-weight",
    type=finite_range(0, 1),
    default=default("teacher_weight"),
    show_default=True,
    help="Share of the loss that follows the teacher rather than the labels (with --teacher).",
)
@click.option(
    "--out",
    type=NonBlankPath(file_okay=False, path_type=Path),
    required=True,
    help="Run directory: model.keras, metrics.json, config.json, history.png.",
)
@click.option(
    "--recipe",
    type=click.Choice(sorted(RECIPES)),
    default=None,
    help="Start from a named recipe's settings (v2: the release model, from labelled "
    "photographs of two cameras in the green channel; v1: release candidate 1.0.0-rc2, "
    "distilled from a v1-teacher model given with --teacher; finetune: the release model "
    "adapted to a camera from a few labelled photographs); options given on the command line "
    "still win.",
)
@channel_option(
    default=default("channel"),
    help="Grayscale of colour photographs the model learns from (and the device will use: the "
    "model card records it): luma, or the green channel (steadier across cameras). Only luma "
    "where .npz patches are trained on, alone or beside photographs: they are grayscale already.",
)
@click.option(
    "--crops",
    type=click.IntRange(1, 10**7),
    default=default("crops"),
    show_default=True,
    help="Training samples per epoch when DATA is more than one .npz file (photographs are "
    "cropped at new random places every epoch).",
)
@click.option(
    "--init",
    type=NonBlankPath(dir_okay=False),
    default=None,
    help="Start from this model's weights (a run's model.keras of the same --arch and --width): "
    "fine-tuning, e.g. the release model for a new camera (recipe finetune).",
)
@overwrite_option("the files of an earlier run in --out")
def train(data: tuple[str, ...], out: Path, overwrite: bool, recipe: str | None, **options) -> None:
    """Train a vessel model on patch files and folders of labelled photographs.

    DATA: .npz patch files (x_train, y_train; x_val/y_val are never used) and folders of
    labelled photographs (the layouts eval reads), each optionally PATH:WEIGHT to set its share
    of the samples.

    Photographs go through the device's own pipeline and are cropped at random places every
    epoch; their holdout is whole photographs, scored as the device segments them. The
    checkpoint with the best holdout score is kept and the decision threshold is tuned on the
    holdout. The same seed on the same machine gives the same weights.
    """
    settings = {"data": tuple(data), "out": str(out)}
    context = click.get_current_context()
    if recipe:  # the recipe fills what the command line left at its defaults
        given = {
            name: value
            for name, value in options.items()
            if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
        }
        try:
            config = TrainConfig.from_recipe(recipe, **settings, **given)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    else:
        config = TrainConfig(**settings, **options)
    if config.teacher is None:
        why = "of distillation, which needs --teacher"
        refuse_given(context, ("teacher_weight",), why)
    if not ARCHITECTURES[config.arch].sized:
        why = f"of a sized architecture, but --arch {config.arch} has a fixed size"
        refuse_given(context, ("width",), why)
    # a source that is no file is no .npz file: one missing is said so when it is read
    patches = [source_path(d).is_file() for d in data]
    for source in (source_path(d) for d, patch in zip(data, patches, strict=True) if patch):
        check_npz_file(source)  # a photograph given for its folder: said so, not taken as one
    if patches == [True]:
        why = (
            "of photographs or several .npz files, but one .npz file is trained on whole, "
            "every patch once an epoch"
        )
        refuse_given(context, ("crops",), why)
    try:  # a usage error, its .npz files checked above
        refuse_a_channel_for_patches(config)
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    refuse_an_earlier_run(out, RUN_FILES, overwrite)
    refuse_output_among(out, datasets_of_folders(map(source_path, data)), "--out")
    import_extra("tensorflow", "train")
    from training.trainer import train as run_training

    with ending_cleanly_on_sigterm(), run_folder(out, RUN_FILES):  # unfinished: nothing left
        result = run_training(config)
    run = f"(best epoch {result.best_epoch}/{result.epochs}, {result.params:,} parameters)"
    if result.holdout_f1 is not None:
        photos = [p for p in result.holdout_photos if p.scored]
        defined = sum(p.auc is not None for p in photos)  # both classes in the field of view
        auc = "undefined" if result.holdout_auc is None else f"{result.holdout_auc:.4f}"
        auc += f" (over {defined})" if 0 < defined < len(photos) else ""
        unscored = len(result.holdout_photos) - len(photos)
        also = f", not on {unscored} held out that could not be scored" if unscored else ""
        click.echo(
            f"holdout photographs: F1 {result.holdout_f1:.4f}, AUC {auc} at tuned threshold "
            f"{result.threshold:.2f} on {counted(len(photos), 'photograph')}{also} "
            f"{run}; wrote {out}"
        )
    elif result.holdout_dice_at_0_5 is not None:
        click.echo(
            f"holdout Dice {result.holdout_dice_at_0_5:.4f} at 0.5, "
            f"{result.holdout_dice_at_threshold:.4f} at tuned threshold {result.threshold:.2f} "
            f"{run}; wrote {out}"
        )
    else:
        click.echo(f"trained without a holdout {run}; wrote {out}")


def _av_range(name: str) -> click.IntRange:
    """The range of an :class:`ArteryVeinTraining` field: the bounds its record is read with."""
    spec = next(f for f in dataclasses.fields(ArteryVeinTraining) if f.name == name)
    low, high = spec.metadata["bounds"]
    return click.IntRange(low, None if math.isinf(high) else high)


def artery_vein_training_options(command):
    """Add an artery/vein run's settings to a command, which receives them as ``training``.

    Width, depth, epochs, crops, their draw and seed make one
    :class:`~training.config.ArteryVeinTraining`.
    """

    @functools.wraps(command)
    def build(*args, width, depth, epochs, crops, draw_by, seed, **kwargs):
        training = ArteryVeinTraining(
            width, depth, epochs=epochs, crops=crops, draw_by=draw_by, seed=seed
        )
        return command(*args, training=training, **kwargs)

    options = [
        click.option(
            "--width",
            type=_av_range("width"),
            default=AV_DEFAULTS.width,
            show_default=True,
            help="Channels of the U-Net's first level.",
        ),
        click.option(
            "--depth",
            type=_av_range("depth"),
            default=AV_DEFAULTS.depth,
            show_default=True,
            help="Poolings of the U-Net (its context grows with each).",
        ),
        click.option(
            "--epochs",
            type=_av_range("epochs"),
            default=AV_DEFAULTS.epochs,
            show_default=True,
            help="Passes, each over freshly drawn crops.",
        ),
        click.option(
            "--crops",
            type=_av_range("crops"),
            default=AV_DEFAULTS.crops,
            show_default=True,
            help="Random crops drawn afresh for each epoch.",
        ),
        click.option(
            "--draw-by",
            type=click.Choice(CROP_DRAWS),
            default=AV_DEFAULTS.draw_by,
            show_default=True,
            help="Draw each crop's photograph evenly over the photographs, or over the "
            "cameras (the DATA folders) and then their photographs.",
        ),
        click.option(
            "--seed",
            type=_av_range("seed"),
            default=AV_DEFAULTS.seed,
            show_default=True,
            help="Seed of the weights and the crops (the same machine gives the same model).",
        ),
    ]
    for option in reversed(options):
        build = option(build)
    return build


@click.command("train-artery-vein")
@click.argument(
    "data",
    nargs=-1,
    required=True,
    type=NonBlankPath(exists=True, file_okay=False, path_type=Path),
    callback=distinct_paths,
)
@click.option(
    "--out",
    type=NonBlankPath(file_okay=False, path_type=Path),
    required=True,
    help="Run directory for model.keras and artery_vein.json.",
)
@click.option(
    "--score",
    "score_folders",
    multiple=True,
    type=NonBlankPath(exists=True, file_okay=False, path_type=Path),
    callback=distinct_paths,
    help="A labelled folder to score the model on after training (a camera left out); repeatable.",
)
@artery_vein_training_options
@overwrite_option("the files of an earlier run in --out")
def train_artery_vein_command(data, out, score_folders, overwrite, training):
    """Train an artery/vein model on folders of photographs with artery/vein labels.

    Each photograph is segmented by the bundled vessel model through the device's pipeline;
    the model learns, at half the vessel model's working scale (a disc 270 pixels across),
    which of the vessels are arteries and which veins (firmware_notes/ARTERY_VEIN.md). With
    --score, the folders given are scored as the device runs the model (accuracy on the found
    vessel pixels). Convert the result with `edge-seg convert-artery-vein`.
    """
    trained = {identity(folder) for folder in data} - {None}
    for folder in score_folders:
        if identity(folder) in trained:
            raise click.UsageError(
                f"--score {folder}: is a folder the model trains on; score a camera left out"
            )
    refuse_an_earlier_run(out, ARTERY_VEIN_RUN_FILES, overwrite)
    refuse_output_among(out, datasets_of_folders([*data, *score_folders]), "--out")
    import_extra("tensorflow", "train")
    from training.artery_vein import train_artery_vein_run

    with ending_cleanly_on_sigterm(), run_folder(out, ARTERY_VEIN_RUN_FILES):
        record = train_artery_vein_run(list(data), out, training, list(score_folders))
    line = (
        f"trained on {counted(record.photographs, 'photograph')} "
        f"({record.parameters:,} parameters, {record.train_seconds:.0f} s)"
    )
    if record.accuracy is not None:
        line += (
            f"; scored {counted(len(record.scored), 'photograph')}: accuracy on found vessels "
            f"{record.accuracy:.4f}, centre lines {record.centreline_accuracy:.4f}"
        )
    click.echo(f"{line}; wrote {out}")
