"""Screen the whole-field model kind (issue 21) against today's tiles, leaving one camera out.

    python benchmarks/whole_field_screen.py ../shared/data --tile-runs runs/wf [--width 12]
        [--depth 3] [--inputs rgb|rgb+local-green] [--epochs 16] [--crops 3000] [--limit N]
        [--no-candidate] [--out runs/wf/screen.json]

The candidate is one fully convolutional model (``unet-lite`` with two output maps) that sees
the field of view at the vessel model's working scale, in colour standardised inside the field
(:func:`~edge_runtime.contract.artery_vein_input.standardised_colour`; with ``--inputs
rgb+local-green`` also the green normalised in a 31-pixel window around each pixel,
:func:`local_contrast`), all at once on the device
(:attr:`~training.config.ArteryVeinTraining.device_side`), and gives each pixel two
probabilities: vessel and artery. It learns from random square crops centred inside
the field and flipped at random: weighted cross-entropy plus soft Dice on the vessel map inside
the field, cross-entropy on the artery map at the labelled artery and vein pixels only (STARE
has no artery/vein label and teaches vessels only). Its threshold is the one with the best
mean F1 on its own training photographs.

For each camera in turn, the candidate is trained on the others' photographs and scored on
that camera's; the tile model it is measured against (recipe v2: 64-pixel grayscale tiles,
each contrast-stretched on its own) was trained on the same photographs beforehand, one run
per held-out camera (``edge-seg train OTHER... --recipe v2 --out TILE_RUNS/tiles-CAMERA``),
and is run as the device runs it (tiles every 52 pixels, stitched), with its run's threshold.
Both are float Keras models, both scored the same way at the working scale (the labels cut and
resized as the photograph, the field of view the device detects): vessel F1 and ROC AUC, and
for the candidate the artery/vein accuracy on the vessel pixels it found and on the label's
centre lines (the field's metrics). Cost: parameters and multiply-accumulates on one
DRIVE-size photograph (the tiles the device runs on DRIVE's first photograph, against one
whole field). Prints a table per held-out camera and writes it as JSON. ``--no-candidate``
scores the tile runs alone; every tile run must be finished before the screen starts.
"""

import dataclasses
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import keras
import numpy as np
from keras import ops

from converters.metadata_writer import refuse_edited_settings
from edge_runtime.contract.artery_vein_classes import ArteryVein, classes_from_probability
from edge_runtime.contract.artery_vein_input import standardised_colour
from edge_runtime.contract.artery_vein_metrics import artery_vein_scores, mean_scores
from edge_runtime.contract.metrics import best_mean_threshold, f1_by_threshold, photo_scores
from edge_runtime.contract.metrics import mean_scores as mean_photo_scores
from edge_runtime.contract.model_card import FOV_DIAMETER
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.contract.training_record import RECORD_FILE, TrainingRecord
from edge_runtime.data.photos import LabelledPhoto, load_labelled
from edge_runtime.measure.labelled import CAMERAS, labelled_maps
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.artery_vein import framed_colour
from edge_runtime.pipeline.segmenter import Segmenter
from training.artery_vein import (
    boxed_classes,
    flipped,
    random_window,
    resized_classes,
    whole_fields,
)
from training.cli import artery_vein_training_options
from training.config import ArteryVeinTraining
from training.model_io import KerasPatches, load_keras_model
from training.models import build_unet_lite, multiply_accumulates
from training.sources import training_prepared, working_label
from training.trainer import make_deterministic

GRADED = (ArteryVein.ARTERY, ArteryVein.VEIN)


@dataclass(frozen=True)
class Example:
    """One labelled photograph at the working scale: the candidate's input (H, W, 3), the
    vessel label, the artery/vein codes (``None`` without an artery/vein label), the field of
    view, and the photograph's files (for the tile model, which reads it again)."""

    camera: str
    photo: LabelledPhoto
    inputs: np.ndarray
    vessels: np.ndarray
    classes: np.ndarray | None
    inside: np.ndarray


LOCAL_RADIUS = 15
"""Half the side of the square window of :func:`local_contrast` (31 working-scale pixels)."""


def box_sums(image: np.ndarray, radius: int) -> np.ndarray:
    """Each pixel's sum of ``image`` (H, W) over the square of side ``2 * radius + 1`` around it
    (cut at the edges), from one summed-area table."""
    table = np.pad(image, ((radius + 1, radius), (radius + 1, radius))).cumsum(0).cumsum(1)
    side = 2 * radius + 1
    return table[side:, side:] - table[:-side, side:] - table[side:, :-side] + table[:-side, :-side]


def local_contrast(plane: np.ndarray, inside: np.ndarray, radius: int = LOCAL_RADIUS) -> np.ndarray:
    """``plane`` (H, W) less its mean over the field-of-view pixels of a square window around
    each pixel, over their spread plus one grey level; 0 outside the field."""
    weight = inside.astype(np.float64)
    values = plane.astype(np.float64) * weight
    count = np.maximum(box_sums(weight, radius), 1.0)
    mean = box_sums(values, radius) / count
    spread = np.sqrt(np.maximum(box_sums(values * values, radius) / count - mean**2, 0.0))
    return ((plane - mean) / (spread + 1.0) * weight).astype(np.float32)


INPUTS = {
    "rgb": lambda colour, inside: standardised_colour(colour, inside),
    "rgb+local-green": lambda colour, inside: np.concatenate(
        [standardised_colour(colour, inside), local_contrast(colour[..., 1], inside)[..., None]],
        axis=-1,
    ),
}
"""The candidate's inputs: the colour standardised over the whole field, and with it the green
normalised over a window around each pixel (the tile model stretches each 64-pixel tile)."""


def load_example(camera: str, photo: LabelledPhoto, inputs: str) -> Example:
    """A labelled photograph through the device's first stage, as the ``inputs`` say."""
    loaded = load_labelled(photo)
    prepared = training_prepared(loaded.photo, "green")
    colour = framed_colour(loaded.photo, prepared.framing)
    inputs = INPUTS[inputs](colour, prepared.inside)
    vessels = working_label(loaded.label, prepared)
    classes = None
    if photo.artery_vein:
        codes = boxed_classes(photo.artery_vein, prepared, loaded.label)
        classes = resized_classes(codes, prepared.framing.work_shape)
    return Example(camera, photo, inputs, vessels, classes, prepared.inside)


def joint_loss(y_true, y_pred):
    """Weighted cross-entropy of both maps, plus soft Dice of the vessel map in the field.

    ``y_true`` (N, H, W, 4): vessel and artery targets, then each one's pixel weights.
    """
    targets, weights = y_true[..., :2], y_true[..., 2:]
    entropy = keras.losses.binary_crossentropy(targets[..., None], y_pred[..., None])
    per_map = ops.sum(entropy * weights, axis=(1, 2)) / (ops.sum(weights, axis=(1, 2)) + 1.0)
    vessel, truth, field = y_pred[..., 0], targets[..., 0], weights[..., 0]
    overlap = ops.sum(vessel * truth * field, axis=(1, 2))
    total = ops.sum((vessel + truth) * field, axis=(1, 2))
    return ops.sum(per_map, axis=-1) + 1.0 - (2.0 * overlap + 1.0) / (total + 1.0)


def draw_crops(
    examples: list[Example], rng: np.random.Generator, count: int, side: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random crops (inputs, targets and weights), each centred near a field-of-view pixel."""
    x = np.zeros((count, side, side, examples[0].inputs.shape[-1]), np.float32)
    y = np.zeros((count, side, side, 4), np.float32)
    fields = [np.argwhere(e.inside) for e in examples]
    for i in range(count):
        k = rng.integers(len(examples))
        example = examples[k]
        window, *flips = random_window(rng, fields[k], example.inside.shape, side)
        target = np.zeros((side, side, 4), np.float32)
        target[..., 0], target[..., 2] = example.vessels[window], example.inside[window]
        if example.classes is not None:
            codes = example.classes[window]
            target[..., 1], target[..., 3] = codes == ArteryVein.ARTERY, np.isin(codes, GRADED)
        x[i], y[i] = flipped(example.inputs[window], *flips), flipped(target, *flips)
    return x, y


def build(training: ArteryVeinTraining, size: int, channels: int) -> keras.Model:
    """The candidate on ``size`` square inputs of ``channels``."""
    return build_unet_lite(
        None, training.width, training.depth, size=size, channels=channels, output="maps", maps=2
    )


def train(examples: list[Example], training: ArteryVeinTraining) -> tuple[keras.Model, float]:
    """The candidate trained on ``examples``, at the device's input side, and its seconds."""
    make_deterministic(training.seed)
    rng = np.random.default_rng(training.seed)
    channels = examples[0].inputs.shape[-1]
    model = build(training, training.tile, channels)
    model.compile(optimizer=keras.optimizers.Adam(training.learning_rate), loss=joint_loss)
    started = time.perf_counter()
    for _ in range(training.epochs):
        x, y = draw_crops(examples, rng, training.crops, training.tile)
        model.fit(x, y, batch_size=training.batch_size, epochs=1, verbose=0)
    device = build(training, training.device_side, channels)
    device.set_weights(model.get_weights())
    return device, time.perf_counter() - started


def whole_field(model: keras.Model, example: Example) -> np.ndarray:
    """The candidate's two maps (H, W, 2) of one photograph, its whole field at once."""
    side = int(model.input.shape[1])
    height, width = example.inside.shape
    if height > side or width > side:
        raise click.ClickException(f"{example.photo.image}: working field {height}x{width}")
    return np.asarray(model.predict(whole_fields([example], side), verbose=0))[0, :height, :width]


def tuned_threshold(model: keras.Model, examples: list[Example]) -> float:
    """The threshold with the best mean vessel F1 over ``examples``."""
    return best_mean_threshold(
        [f1_by_threshold(whole_field(model, e)[..., 0], e.vessels, e.inside) for e in examples]
    )


@dataclass(frozen=True)
class Row:
    """One model's scores on one held-out camera."""

    held_out: str
    model: str
    photographs: int
    f1: float
    auc: float
    threshold: float
    artery_vein_accuracy: float | None
    centreline_accuracy: float | None
    parameters: int
    macs_per_photograph: int
    train_seconds: float | None

    def line(self) -> str:
        """A markdown table row."""
        cells = [
            self.held_out,
            self.model,
            self.photographs,
            f"{self.f1:.3f}",
            f"{self.auc:.3f}",
            f"{self.threshold:.2f}",
            *(
                "-" if v is None else f"{v:.3f}"
                for v in (self.artery_vein_accuracy, self.centreline_accuracy)
            ),
            f"{self.parameters:,}",
            f"{self.macs_per_photograph / 1e9:.2f} G",
            "-" if self.train_seconds is None else f"{self.train_seconds:.0f}",
        ]
        return "| " + " | ".join(map(str, cells)) + " |"


def candidate_row(
    held: str, train_on: list[Example], test: list[Example], training: ArteryVeinTraining, name: str
) -> Row:
    """Train the candidate on ``train_on`` and score it on ``test``."""
    model, seconds = train(train_on, training)
    threshold = tuned_threshold(model, train_on)
    vessels, classes = [], []
    for example in test:
        maps = whole_field(model, example)
        vessels.append(photo_scores(maps[..., 0], example.vessels, example.inside, threshold))
        if example.classes is not None:
            found = (maps[..., 0] >= threshold) & example.inside
            centreline = skeletonize(example.classes != ArteryVein.BACKGROUND)
            classes.append(
                artery_vein_scores(
                    example.classes,
                    classes_from_probability(found, maps[..., 1]),
                    example.inside,
                    centreline,
                )
            )
    means, av = mean_photo_scores(vessels), mean_scores(classes) if classes else None
    return Row(
        held,
        name,
        len(test),
        means.f1,
        means.auc,
        threshold,
        av and av.accuracy,
        av and av.centreline_accuracy,
        model.count_params(),
        multiply_accumulates(model),
        seconds,
    )


def tile_record(run: Path) -> TrainingRecord:
    """The record of the finished tile run ``run``, its settings those its run wrote."""
    path = run / RECORD_FILE
    if not path.is_file():
        raise click.ClickException(f"{run}: no finished tile run")
    try:
        record = TrainingRecord.read(path)
        refuse_edited_settings(path, record, run / "model.keras")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    return record


def tile_row(
    held: str, run: Path, record: TrainingRecord, test: list[Example], tiles_per_photograph: int
) -> Row:
    """Score the tile model of ``run`` (trained without ``held``; its ``record``) on ``test``."""
    model = load_keras_model(run / "model.keras", PREPROCESSING_NAME)
    config = SegmenterConfig(threshold=record.threshold, channel=record.channel)
    segmenter = Segmenter(KerasPatches(model), config)
    scores = []
    for example in test:
        result = segmenter.segment(example.photo.image)
        if result.work_probability.shape != example.inside.shape:
            raise click.ClickException(f"{example.photo.image}: working scales differ")
        scores.append(
            photo_scores(result.work_probability, example.vessels, example.inside, config.threshold)
        )
    means = mean_photo_scores(scores)
    return Row(
        held,
        "tiles v2",
        len(test),
        means.f1,
        means.auc,
        config.threshold,
        None,
        None,
        model.count_params(),
        multiply_accumulates(model) * tiles_per_photograph,
        record.train_seconds,
    )


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--tile-runs", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cameras", default=",".join(CAMERAS), show_default=True)
@artery_vein_training_options
@click.option("--inputs", type=click.Choice(list(INPUTS)), default="rgb", show_default=True)
@click.option("--limit", type=click.IntRange(1), default=None, help="Photographs per camera.")
@click.option(
    "--candidate/--no-candidate", default=True, help="Train the candidate (or score only tiles)."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def main(
    data_dir: Path,
    tile_runs: Path | None,
    cameras: str,
    training: ArteryVeinTraining,
    inputs: str,
    limit: int | None,
    candidate: bool,
    out: Path | None,
) -> None:
    """Print, per held-out camera, the whole-field candidate's and the tile model's scores."""
    training = dataclasses.replace(training, fov_diameter=FOV_DIAMETER)  # the vessels' scale
    chosen = tuple(cameras.split(","))
    records = {held: tile_record(tile_runs / f"tiles-{held}") for held in chosen if tile_runs}
    examples = []
    for item in labelled_maps(data_dir, chosen):
        if limit is not None and sum(e.camera == item.camera for e in examples) == limit:
            continue
        photo = LabelledPhoto(item.name, item.image, item.label, item.mask, None, item.artery_vein)
        examples.append(load_example(item.camera, photo, inputs))
    drive = next((e for e in examples if e.camera == "drive"), examples[0])
    tiles = Segmenter().segment(drive.photo.image).stats.tiles
    print(f"{len(examples)} photographs; tiles on {drive.photo.image.name}: {tiles}")
    header = "held out | model | photographs | F1 | AUC | threshold | A/V accuracy | centre lines"
    print(f"| {header} | parameters | MACs/photograph | training s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for held in chosen:
        test = [e for e in examples if e.camera == held]
        train_on = [e for e in examples if e.camera != held]
        if candidate:
            name = f"whole field {inputs} w{training.width} d{training.depth}"
            rows.append(candidate_row(held, train_on, test, training, name))
            print(rows[-1].line(), flush=True)
        if tile_runs is not None:
            run = tile_runs / f"tiles-{held}"
            rows.append(tile_row(held, run, records[held], test, tiles))
            print(rows[-1].line(), flush=True)
        if out is not None:
            out.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
