"""Train an artery/vein model, which the runtime chains after the vessel model.

The model (:class:`~edge_runtime.pipeline.artery_vein.ArteryVeinModel` on the device) gives
each pixel its probability of being an artery. Each photograph with an artery/vein label is
segmented by a vessel model through the device's pipeline, and taken at the artery/vein
model's own working scale as the device takes it
(:func:`~edge_runtime.pipeline.artery_vein.framed_input`: colour standardised in the field of
view, and the vessel probabilities). The model, a U-Net
(``unet-lite`` with four input channels), learns from random square crops, each centred near a
labelled vessel pixel and flipped at random, its loss weighted to the labelled artery and vein
pixels (crossings and uncertain pixels weigh nothing). It is scored as the device runs it: the
whole field at once (:attr:`~training.config.ArteryVeinTraining.device_side`), on the vessels
the vessel model found, at the vessel model's working scale (the field's metrics,
:mod:`~edge_runtime.contract.artery_vein_metrics`).
"""

import dataclasses
import functools
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import keras
import numpy as np
from PIL import Image

from edge_runtime.atomic import atomic_path, files_together, folders_removed_on_failure
from edge_runtime.contract.artery_vein_classes import ArteryVein, classes_from_probability
from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_CHANNELS
from edge_runtime.contract.artery_vein_metrics import (
    ArteryVeinScores,
    artery_vein_scores,
    mean_scores,
)
from edge_runtime.contract.bound_settings import bind
from edge_runtime.contract.schema import bounded, encode, read_record
from edge_runtime.contract.training_record import Versions
from edge_runtime.data.artery_vein import check_on_vessels, read_artery_vein
from edge_runtime.data.patches import file_sha256
from edge_runtime.data.photos import list_dataset, read_binary
from edge_runtime.data.vessel_share import check_share
from edge_runtime.errors import InputError
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.artery_vein import ArteryVeinModel, framed_input
from edge_runtime.pipeline.decode import load_photo
from edge_runtime.pipeline.grayscale import NO_COLOUR, has_colour
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.segmenter import Prepared, Segmenter
from training.config import (
    ARTERY_VEIN_RECORD,
    ARTERY_VEIN_RUN_FILES,
    ArteryVeinTraining,
)
from training.model_io import KerasPatches
from training.models import build_unet_lite, pixel_shuffled
from training.trainer import make_deterministic, software_versions

OUTPUT_NAME = "artery_probability"
"""Name of an artery/vein model's output."""


@dataclass(frozen=True)
class ArteryVeinExample:
    """One labelled photograph.

    At the artery/vein model's working scale, what the model learns from: its input (h, w, 4),
    the field of view there and the label's :class:`ArteryVein` codes (``target``). At the
    vessel model's working scale, what it is scored on: the label's codes (``truth``), the
    vessels the vessel model found and the field of view. (At one scale, each pair is one.)
    """

    name: str
    inputs: np.ndarray
    field: np.ndarray
    target: np.ndarray
    truth: np.ndarray
    found: np.ndarray
    inside: np.ndarray
    camera: int = 0
    """Which of the training folders (a camera each) it came from, counted from 0."""

    @functools.cached_property
    def centreline(self) -> np.ndarray:
        """The label's centre lines (its vessels' skeleton, crossings included), thinned once."""
        return skeletonize(self.truth != ArteryVein.BACKGROUND)


def make_example(
    segmenter: Segmenter,
    training: ArteryVeinTraining,
    name: str,
    image: Path,
    label: Path,
    vessels: Path,
) -> ArteryVeinExample:
    """A photograph and its artery/vein label, at ``training``'s working scale.

    The photograph is segmented by ``segmenter``; ``vessels`` is its vessel label, which the
    artery/vein label must follow.

    Raises:
        InputError: the photograph or its labels cannot be used (a photograph without colour
            neither: the device makes no map of one).
    """
    photo = load_photo(image)
    if not has_colour(photo.pixels):
        raise InputError(
            f"{image}: {NO_COLOUR}: arteries and veins are told apart by "
            "colour, and the device makes no map of one"
        )
    result = segmenter.segment(photo)
    prepared = result.prepared
    probability = result.work_probability
    inputs, field = framed_input(photo, prepared, probability, training.fov_diameter)
    vessel_label = read_binary(vessels, prepared.shape, "label")
    codes = boxed_classes(label, prepared, vessel_label)  # read once, resized to both scales
    shapes = (prepared.framing.work_shape, field.shape)
    truth, target = (resized_classes(codes, shape) for shape in shapes)
    found = (probability >= result.threshold) & prepared.inside
    return ArteryVeinExample(name, inputs, field, target, truth, found, prepared.inside)


def boxed_classes(label: Path, prepared: Prepared, vessels: np.ndarray) -> np.ndarray:
    """An artery/vein label's :class:`ArteryVein` codes (int8) in its photograph's box.

    The box the device's first stage cut from the photograph; ``vessels`` is the photograph's
    vessel label (boolean, its size).

    Raises:
        InputError: the label cannot be used (a white background too: vessels over more than
            half the frame; or its arteries and veins off the vessel label: another's).
    """
    top, left, bottom, right = prepared.box
    codes = read_artery_vein(label, prepared.shape)
    check_share(label, codes != ArteryVein.BACKGROUND, None)
    check_on_vessels(label, skeletonize(codes != ArteryVein.BACKGROUND), vessels)
    return codes[top:bottom, left:right]


def resized_classes(codes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """:func:`boxed_classes` resized (nearest) to ``shape``, as the device resized its photo."""
    height, width = shape
    return np.asarray(
        Image.fromarray(codes.astype(np.uint8)).resize((width, height), Image.NEAREST), np.int8
    )


def load_examples(
    folders: list[Path], segmenter: Segmenter, training: ArteryVeinTraining
) -> list[ArteryVeinExample]:
    """The photographs with an artery/vein label in labelled folders (``folder/name``).

    Each at the working scale of ``training``'s model (:func:`make_example`).

    A photograph without an artery/vein label, or whose files cannot be used, is left out with
    a warning.

    Raises:
        InputError: a folder has none, or one cannot be used.
    """
    examples = []
    for camera, folder in enumerate(folders):
        photos = []
        dataset = list_dataset(folder)
        dataset.warn_of_unmatched()
        for photo in dataset.photos:
            if not photo.has_artery_vein:
                warnings.warn(f"{photo.image}: no artery/vein label, left out", stacklevel=2)
            elif photo.problem:
                warnings.warn(f"{photo.problem}; left out", stacklevel=2)
            else:
                photos.append(photo)
        if not photos:
            raise InputError(f"{folder}: no photographs with an artery/vein label")
        for photo in photos:
            name = f"{Path(folder).name}/{photo.name}"
            label = photo.artery_vein_label()
            example = make_example(segmenter, training, name, photo.image, label, photo.label)
            examples.append(dataclasses.replace(example, camera=camera))
    return examples


def build_model(training: ArteryVeinTraining, size: int | None = None) -> keras.Model:
    """The artery/vein U-Net on ``size`` (by default the tile's) square four-channel inputs."""
    return build_unet_lite(
        None,
        training.width,
        training.depth,
        size=size or training.tile,
        channels=ARTERY_VEIN_CHANNELS,
        output=OUTPUT_NAME,
    )


def device_model(model: keras.Model, training: ArteryVeinTraining) -> keras.Model:
    """The trained ``model`` as the device runs it: the device's input side, pixel-shuffled.

    :func:`training.models.pixel_shuffled`: the same map, in operators that run one field (a
    batch of one) as fast as a batch on a CPU.
    """
    plain = build_model(training, training.device_side)
    plain.set_weights(model.get_weights())  # a width or depth not the model's fails in its terms
    return pixel_shuffled(plain)


def chained_model(device: keras.Model, training: ArteryVeinTraining) -> ArteryVeinModel:
    """A Keras model of the device's input side, run as the runtime runs a converted one.

    ``device`` is :func:`device_model`'s; it runs at ``training``'s working scale.
    """
    return ArteryVeinModel(KerasPatches(device, training.fov_diameter))


def whole_fields(examples: list[ArteryVeinExample], side: int) -> np.ndarray:
    """The examples' inputs (N, side, side, C), each padded with zeros (or cut) to the side."""
    out = np.zeros((len(examples), side, side, examples[0].inputs.shape[-1]), np.float32)
    for slot, example in zip(out, examples, strict=True):
        height, width = (min(n, side) for n in example.inputs.shape[:2])
        slot[:height, :width] = example.inputs[:height, :width]
    return out


def random_window(
    rng: np.random.Generator, points: np.ndarray, shape: tuple[int, int], side: int
) -> tuple[tuple[slice, slice], bool, bool]:
    """A random square window, and whether to flip it left-right and upside down.

    The window, of ``side``, lies inside ``shape`` and holds one of ``points`` (N, 2), picked at
    random; each flip has even odds.
    """
    cy, cx = points[rng.integers(len(points))]
    height, width = shape
    top = int(np.clip(cy - rng.integers(side), 0, height - side))
    left = int(np.clip(cx - rng.integers(side), 0, width - side))
    window = slice(top, top + side), slice(left, left + side)
    return window, rng.random() < 0.5, rng.random() < 0.5


def flipped(image: np.ndarray, left_right: bool, upside_down: bool) -> np.ndarray:
    """``image`` (H, W[, C]) flipped as :func:`random_window` says."""
    image = image[:, ::-1] if left_right else image
    return image[::-1] if upside_down else image


def drawn_groups(examples: list[ArteryVeinExample], draw_by: str) -> list[list[int]]:
    """The examples' indices in the groups a crop's photograph is drawn from, evenly.

    Drawn by ``"photograph"``, one group of all; by ``"camera"``, a group per camera, so that
    each camera weighs as much as another, whatever its number of photographs.
    """
    if draw_by == "photograph":
        return [list(range(len(examples)))]
    cameras = sorted({e.camera for e in examples})
    return [[k for k, e in enumerate(examples) if e.camera == camera] for camera in cameras]


def draw_crops(
    examples: list[ArteryVeinExample],
    rng: np.random.Generator,
    count: int,
    side: int,
    groups: list[list[int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random crops (inputs, artery target, weight), each near a labelled vessel pixel.

    Each crop's photograph is drawn from one of ``groups`` (:func:`drawn_groups`), the group
    and the photograph in it evenly.
    """
    x = np.zeros((count, side, side, ARTERY_VEIN_CHANNELS), np.float32)
    y = np.zeros((count, side, side, 1), np.float32)
    w = np.zeros((count, side, side), np.float32)
    graded = (ArteryVein.ARTERY, ArteryVein.VEIN)
    labelled = [np.argwhere(np.isin(e.target, graded)) for e in examples]
    for i in range(count):
        group = groups[rng.integers(len(groups))] if len(groups) > 1 else groups[0]
        k = group[rng.integers(len(group))]
        example = examples[k]
        window, *flips = random_window(rng, labelled[k], example.target.shape, side)
        x[i] = flipped(example.inputs[window], *flips)
        truth = flipped(example.target[window], *flips)
        y[i, ..., 0] = truth == ArteryVein.ARTERY
        w[i] = np.isin(truth, graded)
    return x, y, w


def train_artery_vein(
    examples: list[ArteryVeinExample], training: ArteryVeinTraining
) -> tuple[keras.Model, float]:
    """An artery/vein model trained on ``examples``, and the seconds it took."""
    make_deterministic(training.seed)
    rng = np.random.default_rng(training.seed)
    model = build_model(training)
    model.compile(
        optimizer=keras.optimizers.Adam(training.learning_rate), loss="binary_crossentropy"
    )
    groups = drawn_groups(examples, training.draw_by)
    started = time.perf_counter()
    for _ in range(training.epochs):
        x, y, w = draw_crops(examples, rng, training.crops, training.tile, groups)
        model.fit(x, y, sample_weight=w, batch_size=training.batch_size, epochs=1, verbose=0)
    return model, time.perf_counter() - started


def predicted_classes(model: ArteryVeinModel, example: ArteryVeinExample) -> np.ndarray:
    """The model's classes of the vessels the vessel model found, run as on the device.

    At the vessel model's working scale, where the example is scored.
    """
    artery = model.tiled_probability(example.inputs, example.field)
    return classes_from_probability(example.found, resize(artery, example.found.shape))


def score_classes(example: ArteryVeinExample, classes: np.ndarray) -> ArteryVeinScores:
    """The artery/vein metrics of one photograph's predicted classes (on its label's lines)."""
    return artery_vein_scores(example.truth, classes, example.inside, example.centreline)


@dataclass(frozen=True)
class ScoredPhoto:
    """One scored photograph's accuracy on found vessel pixels and on their centre lines."""

    name: str
    accuracy: float | None = bounded(None, 0, 1)
    centreline_accuracy: float | None = bounded(None, 0, 1)


@dataclass(frozen=True)
class ArteryVeinRecord:
    """What an artery/vein run trained on, what it made, and how it scored.

    ``scored`` are the photographs it was asked to score, of folders it was not trained on
    (scores on its own training photographs would say nothing).
    """

    training: ArteryVeinTraining
    data: tuple[str, ...]
    photographs: int = bounded(0, 0)
    parameters: int = bounded(0, 0)
    train_seconds: float = bounded(0.0, 0)
    scored: tuple[ScoredPhoto, ...] = ()
    accuracy: float | None = bounded(None, 0, 1)
    centreline_accuracy: float | None = bounded(None, 0, 1)
    versions: Versions | None = None
    model_sha256: str | None = None
    """SHA-256 of the run's ``model.keras`` (``None`` in records older than 1.2.0-dev)."""
    settings_sha256: dict[str, str] | None = None
    """Each of :attr:`BOUND_SETTINGS` bound to ``model_sha256``
    (:mod:`~edge_runtime.contract.bound_settings`; ``None`` in records older than 1.2.0-dev)."""

    BOUND_SETTINGS: ClassVar[tuple[str, ...]] = ("training.fov_diameter",)
    """The settings the card takes from the record, bound to the model file (the width and
    depth are checked by building the model's layers)."""

    def write(self, path: Path) -> None:
        """Write as indented JSON, atomically."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(encode(self), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> "ArteryVeinRecord":
        """Read and check a record.

        Raises:
            ValueError: as :func:`~edge_runtime.contract.schema.read_record` says.
        """
        return read_record(cls, path, "an artery/vein record")


def scored_photos(
    model: ArteryVeinModel, examples: list[ArteryVeinExample]
) -> tuple[tuple[ScoredPhoto, ...], ArteryVeinScores]:
    """Each example's accuracies, and the mean scores over them."""
    scores = [score_classes(e, predicted_classes(model, e)) for e in examples]
    photos = tuple(
        ScoredPhoto(e.name, s.accuracy, s.centreline_accuracy)
        for e, s in zip(examples, scores, strict=True)
    )
    return photos, mean_scores(scores)


def train_artery_vein_run(
    data: list[Path], out: Path, training: ArteryVeinTraining, score: list[Path]
) -> ArteryVeinRecord:
    """Train, score and write an artery/vein run (``model.keras`` and its record in ``out``).

    It trains on the artery/vein labelled photographs of the ``data`` folders (segmented by
    the bundled vessel model) and scores on those of the ``score`` folders, read before it
    trains (a folder that cannot be scored would lose the training).

    Raises:
        InputError: a folder has no usable artery/vein labelled photograph.
    """
    segmenter = Segmenter()
    examples = load_examples(data, segmenter, training)
    scored = load_examples(score, segmenter, training) if score else []
    model, seconds = train_artery_vein(examples, training)
    photos, means = (), None
    if scored:
        device = chained_model(device_model(model, training), training)
        photos, means = scored_photos(device, scored)
    record = ArteryVeinRecord(
        training=training,
        data=tuple(Path(folder).name for folder in data),
        photographs=len(examples),
        parameters=model.count_params(),
        train_seconds=round(seconds, 1),
        scored=photos,
        accuracy=means.accuracy if means else None,
        centreline_accuracy=means.centreline_accuracy if means else None,
        versions=software_versions(),
    )
    inference = build_model(training)  # no optimizer state: a third the size
    inference.set_weights(model.get_weights())
    # never half a run, nor a lost one; the model last (a model alone would be taken)
    run_files = ARTERY_VEIN_RUN_FILES[::-1]
    with folders_removed_on_failure(out), files_together(out, run_files) as files:
        out.mkdir(parents=True, exist_ok=True)
        inference.save(files["model.keras"])
        record = bind(record, file_sha256(files["model.keras"]))
        record.write(files[ARTERY_VEIN_RECORD])
    return record
