"""Screen a candidate for the artery/vein output (issue 21): a second model chained after the
vessel model, which classifies the vessels it found as artery or vein, scored on a camera it
never saw (leave one camera out).

    python benchmarks/artery_vein_screen.py ../shared/data [--cameras drive,gave,les-av]
        [--width 16] [--depth 3] [--epochs 8] [--crops 3000] [--fov-diameter 270] [--limit N]

Each photograph with an artery/vein label is segmented by the bundled vessel model and taken
at the candidate's working scale as the device takes it (``--fov-diameter``: the disc's
diameter there; the vessel model's is 540), and the candidate is trained as
``edge-seg train-artery-vein`` trains (:mod:`training.artery_vein`). For each camera in turn
it is trained on the others' photographs and scored on that camera's as the device runs it
(the whole field at once): the vessels the vessel model found, classed by the candidate,
against the label (the field's metrics, :func:`~edge_runtime.contract.
artery_vein_metrics.artery_vein_scores`; centre lines: the label's skeleton), at the vessel
model's working scale. The ``brighter`` baseline (a found pixel brighter in green than the
photograph's median vessel pixel is an artery) is scored the same way.

Prints, per held-out camera, the mean accuracy on found pixels and the centre-line accuracy
of the candidate and of the baseline, the candidate's parameters and its training time.
"""

import dataclasses
from pathlib import Path

import click
import numpy as np

from edge_runtime.contract.artery_vein_classes import classes_from_probability
from edge_runtime.contract.artery_vein_metrics import ArteryVeinScores, mean_scores
from edge_runtime.contract.model_card import FOV_DIAMETER_RANGE
from edge_runtime.measure.labelled import ARTERY_VEIN_CAMERAS, artery_vein_maps
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.segmenter import Segmenter
from training.cli import AV_DEFAULTS, artery_vein_training_options
from training.config import ArteryVeinTraining


def _figures(scores: list[ArteryVeinScores]) -> str:
    """The mean accuracy and centre-line accuracy of a camera's photographs, as table cells."""
    means = mean_scores(scores)
    pair = (means.accuracy, means.centreline_accuracy)
    return " | ".join("-" if value is None else f"{value:.3f}" for value in pair)


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cameras", default=",".join(ARTERY_VEIN_CAMERAS), show_default=True)
@artery_vein_training_options
@click.option(
    "--fov-diameter",
    type=click.FloatRange(*FOV_DIAMETER_RANGE),
    default=AV_DEFAULTS.fov_diameter,
    show_default=True,
    help="The disc's diameter at the candidate's working scale.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Photographs per camera.")
def main(
    data_dir: Path,
    cameras: str,
    fov_diameter: float,
    limit: int | None,
    training: ArteryVeinTraining,
) -> None:
    """Print, per held-out camera, the candidate's and the baseline's artery/vein accuracy."""
    training = dataclasses.replace(training, fov_diameter=fov_diameter)
    from training.artery_vein import (
        chained_model,
        device_model,
        make_example,
        predicted_classes,
        score_classes,
        train_artery_vein,
    )

    segmenter = Segmenter()
    items = artery_vein_maps(data_dir, tuple(cameras.split(",")), limit)
    examples = [
        make_example(
            segmenter,
            training,
            f"{item.camera}/{item.name}",
            item.image,
            item.artery_vein,
            item.label,
        )
        for item in items
    ]
    header = ("held out", "photographs", "model", "accuracy", "centreline_accuracy")
    print("| " + " | ".join(header) + " | parameters | training s |")
    print("|---|---|---|---|---|---|---|")
    for held in cameras.split(","):
        train = [e for e, item in zip(examples, items, strict=True) if item.camera != held]
        test = [e for e, item in zip(examples, items, strict=True) if item.camera == held]
        model, seconds = train_artery_vein(train, training)
        chained = chained_model(device_model(model, training), training)
        candidate = [score_classes(e, predicted_classes(chained, e)) for e in test]
        baseline = [score_classes(e, _brighter(e)) for e in test]
        rows = (
            ("brighter", baseline, "- | -"),
            (
                f"unet-lite w{training.width} d{training.depth}",
                candidate,
                f"{model.count_params()} | {seconds:.0f}",
            ),
        )
        for name, scores, cost in rows:
            print(f"| {held} | {len(scores)} | {name} | {_figures(scores)} | {cost} |", flush=True)


def _brighter(example) -> np.ndarray:
    """The baseline's classes: a found pixel brighter in green than the photograph's median
    found pixel is an artery."""
    green = resize(example.inputs[..., 1], example.found.shape)  # at the scale of the found
    if not example.found.any():
        return classes_from_probability(example.found, np.zeros(green.shape))
    return classes_from_probability(example.found, green > np.median(green[example.found]))


if __name__ == "__main__":
    main()
