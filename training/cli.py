"""``edge-seg train``: train a model on a reference ``.npz`` patch set (needs the 'train' extra)."""

from pathlib import Path

import click

from edge_runtime.cli.extras import import_extra
from training.config import (
    ARCHITECTURES,
    LOSSES,
    RECIPES,
    RUN_FILES,
    SCHEDULES,
    TEACHER_RECIPES,
    TrainConfig,
)


@click.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--arch",
    type=click.Choice(ARCHITECTURES),
    default="unet",
    show_default=True,
    help="seed: the notebook's model (no int8 export); seed-edge: its exportable twin; "
    "unet: small U-Net; unet-lite: half-resolution U-Net for speed.",
)
@click.option(
    "--width",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Channels of the first U-Net level (unet, unet-lite).",
)
@click.option("--loss", type=click.Choice(LOSSES), default="bce-dice", show_default=True)
@click.option(
    "--augment/--no-augment",
    default=True,
    show_default=True,
    help="Random flips and 90-degree rotations.",
)
@click.option(
    "--jitter/--no-jitter",
    default=False,
    show_default=True,
    help="Random gamma on the preprocessed patch.",
)
@click.option("--epochs", type=click.IntRange(1), default=100, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option(
    "--lr",
    "learning_rate",
    type=click.FloatRange(0, min_open=True),
    default=1e-3,
    show_default=True,
    help="Adam learning rate.",
)
@click.option(
    "--schedule",
    type=click.Choice(SCHEDULES),
    default="constant",
    show_default=True,
    help="Learning-rate schedule: constant, or cosine decay to 0 over all epochs.",
)
@click.option("--seed", type=int, default=2211, show_default=True)
@click.option(
    "--holdout",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of patches held out in contiguous blocks for checkpoint selection and "
    "threshold tuning; 0 trains on everything and keeps the last epoch.",
)
@click.option(
    "--teacher",
    type=click.Path(dir_okay=False),
    default=None,
    help="Distil from this trained model (a run's model.keras, usually much larger): its "
    "probabilities, averaged over flips and rotations, become extra soft targets.",
)
@click.option(
    "--teacher-weight",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Share of the loss that follows the teacher rather than the labels (with --teacher).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run directory: model.keras, metrics.json, config.json, history.png.",
)
@click.option(
    "--recipe",
    type=click.Choice(sorted(RECIPES)),
    default=None,
    help="Start from a named recipe's settings (v1: the release model, distilled from a "
    "v1-teacher model given with --teacher); options given on the command line still win.",
)
@click.option("--overwrite", is_flag=True, help="Replace the files of an existing run directory.")
def train(data: Path, out: Path, overwrite: bool, recipe: str | None, **options) -> None:
    """Train a vessel segmentation model on DATA.npz (x_train, y_train; x_val/y_val unused).

    The checkpoint with the best holdout Dice is kept and the decision threshold is tuned on the
    holdout. The same seed on the same machine gives the same weights.
    """
    if recipe:
        context = click.get_current_context()
        for name, value in RECIPES[recipe].items():
            if context.get_parameter_source(name) is click.core.ParameterSource.DEFAULT:
                options[name] = value
        if recipe in TEACHER_RECIPES and options["teacher"] is None:
            raise click.UsageError(
                f"recipe {recipe} distils from a teacher: train one with --recipe "
                f"{TEACHER_RECIPES[recipe]} and pass its model.keras with --teacher"
            )
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if existing and not overwrite:
        raise click.ClickException(f"{out}: already holds {', '.join(existing)}; pass --overwrite")
    import_extra("tensorflow", "train")
    from training.trainer import train as run_training

    result = run_training(TrainConfig(data=str(data), out=str(out), recipe=recipe, **options))
    if result.holdout_dice_at_0_5 is None:
        click.echo(f"trained on all {result.train_patches} patches; wrote {out}", err=True)
    else:
        click.echo(
            f"holdout Dice {result.holdout_dice_at_0_5:.4f} at 0.5, "
            f"{result.holdout_dice_at_threshold:.4f} at tuned threshold {result.threshold:.2f} "
            f"(best epoch {result.best_epoch}/{result.epochs}, {result.params:,} parameters); "
            f"wrote {out}",
            err=True,
        )
