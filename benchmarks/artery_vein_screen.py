"""Screen a candidate for the artery/vein output (issue 21): a second model chained after the
vessel model, which classifies the vessels it found as artery or vein, scored on a camera it
never saw (leave one camera out).

    python benchmarks/artery_vein_screen.py ../shared/data [--cameras drive,gave,les-av]
        [--width 16] [--depth 3] [--epochs 8] [--crops 3000] [--limit N]

Each photograph with an artery/vein label is segmented by the bundled vessel model; its field
of view is taken at the segmenter's working scale (:class:`~edge_runtime.pipeline.segmenter.
Prepared`), with four channels: red, green and blue (each normalised by its mean and spread
inside the field of view, so that cameras and exposures meet) and the vessel model's
probability. The candidate, a U-Net (``unet-lite`` with four input channels), learns from
random crops the probability that a pixel is an artery, its loss weighted to the labelled
artery and vein pixels (crossings and uncertain pixels weigh nothing). For each camera in turn
it is trained on the others' photographs and scored on that camera's: the vessels the vessel
model found, classed by the candidate, against the label (the field's metrics,
:func:`~edge_runtime.contract.artery_vein_metrics.artery_vein_scores`; centre lines: the
label's skeleton), at the working scale. The ``brighter`` baseline (a found pixel brighter in
green than the photograph's median vessel pixel is an artery) is scored the same way.

Prints, per held-out camera, the mean accuracy on found pixels and the centre-line accuracy
of the candidate and of the baseline, the candidate's parameters and its training time. A
screen, not a release: the release's trainer, gate and runtime do not know this output yet.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
from PIL import Image

from edge_runtime.contract.artery_vein_classes import ArteryVein, classes_from_probability
from edge_runtime.contract.artery_vein_metrics import (
    ArteryVeinScores,
    artery_vein_scores,
    mean_scores,
)
from edge_runtime.data.artery_vein import read_artery_vein
from edge_runtime.measure.labelled import ARTERY_VEIN_CAMERAS, artery_vein_maps
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.decode import load_photo
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.segmenter import Segmenter

CROP = 128
"""Side of the training crops (working-scale pixels)."""


@dataclass(frozen=True)
class Working:
    """One labelled photograph at the working scale: the model's four input channels, the
    artery/vein label, the vessels the vessel model found, and the field of view."""

    camera: str
    channels: np.ndarray
    truth: np.ndarray
    found: np.ndarray
    inside: np.ndarray


def _working(segmenter: Segmenter, camera: str, image: Path, label: Path) -> Working:
    decoded = load_photo(image)
    result = segmenter.segment(decoded)
    prepared = result.prepared
    framing = prepared.framing
    top, left, bottom, right = framing.box
    rgb = decoded.pixels[top:bottom, left:right].astype(np.float32)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    colour = np.stack([resize(rgb[..., c], framing.work_shape) for c in range(3)], axis=-1)
    inside = prepared.inside
    mean, spread = colour[inside].mean(axis=0), colour[inside].std(axis=0) + 1e-6
    colour = np.where(inside[..., None], (colour - mean) / spread, 0.0)
    truth_full = read_artery_vein(label, decoded.shape)
    top, left, bottom, right = prepared.box
    height, width = framing.work_shape
    truth = np.asarray(
        Image.fromarray(truth_full[top:bottom, left:right].astype(np.uint8)).resize(
            (width, height), Image.NEAREST
        )
    )
    probability = result.work_probability.astype(np.float32)
    channels = np.concatenate([colour, probability[..., None]], axis=-1).astype(np.float32)
    found = (probability >= result.threshold) & inside
    return Working(camera, channels, truth, found, inside)


def _crops(photos: list[Working], rng: np.random.Generator, count: int) -> tuple[np.ndarray, ...]:
    """Random crops (channels, artery target, weight), each centred near a labelled pixel."""
    x = np.zeros((count, CROP, CROP, 4), np.float32)
    y = np.zeros((count, CROP, CROP, 1), np.float32)
    w = np.zeros((count, CROP, CROP), np.float32)
    labelled = [
        np.argwhere((p.truth == ArteryVein.ARTERY) | (p.truth == ArteryVein.VEIN)) for p in photos
    ]
    for i in range(count):
        k = rng.integers(len(photos))
        photo, points = photos[k], labelled[k]
        cy, cx = points[rng.integers(len(points))]
        height, width = photo.truth.shape
        top = int(np.clip(cy - rng.integers(CROP), 0, height - CROP))
        left = int(np.clip(cx - rng.integers(CROP), 0, width - CROP))
        window = slice(top, top + CROP), slice(left, left + CROP)
        truth = photo.truth[window]
        chans = photo.channels[window]
        if rng.random() < 0.5:
            chans, truth = chans[:, ::-1], truth[:, ::-1]
        if rng.random() < 0.5:
            chans, truth = chans[::-1], truth[::-1]
        x[i] = chans
        y[i, ..., 0] = truth == ArteryVein.ARTERY
        w[i] = (truth == ArteryVein.ARTERY) | (truth == ArteryVein.VEIN)
    return x, y, w


def _predict(build, weights: list, photo: Working, step: int) -> np.ndarray:
    """The artery probability over a whole working-scale photograph: the trained ``weights``
    in a model ``build(size)`` as large as the photograph (padded to a square, a multiple of
    ``step``)."""
    height, width = photo.truth.shape
    size = -(-max(height, width) // step) * step
    model = build(size)
    model.set_weights(weights)
    padded = np.zeros((1, size, size, 4), np.float32)
    padded[0, :height, :width] = photo.channels
    return np.asarray(model(padded, training=False))[0, :height, :width, 0]


def _brighter(photo: Working) -> np.ndarray:
    green = photo.channels[..., 1]
    if not photo.found.any():
        return np.zeros(green.shape)
    return (green > np.median(green[photo.found])).astype(np.float64)


def _score(photo: Working, artery: np.ndarray) -> ArteryVeinScores:
    centreline = skeletonize(photo.truth != ArteryVein.BACKGROUND)
    classes = classes_from_probability(photo.found, artery)
    return artery_vein_scores(photo.truth, classes, photo.inside, centreline)


def _figures(scores: list[ArteryVeinScores]) -> str:
    """The mean accuracy and centre-line accuracy of a camera's photographs, as table cells."""
    means = mean_scores(scores)
    pair = (means.accuracy, means.centreline_accuracy)
    return " | ".join("-" if value is None else f"{value:.3f}" for value in pair)


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cameras", default=",".join(ARTERY_VEIN_CAMERAS), show_default=True)
@click.option("--width", type=click.IntRange(2), default=16, show_default=True)
@click.option("--depth", type=click.IntRange(1, 5), default=3, show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=8, show_default=True)
@click.option(
    "--crops",
    type=click.IntRange(1),
    default=3000,
    show_default=True,
    help="Random crops drawn afresh for each epoch.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Photographs per camera.")
@click.option("--seed", type=int, default=0, show_default=True)
def main(
    data_dir: Path,
    cameras: str,
    width: int,
    depth: int,
    epochs: int,
    crops: int,
    limit: int | None,
    seed: int,
) -> None:
    """Print, per held-out camera, the candidate's and the baseline's artery/vein accuracy."""
    import keras

    from training.models import build_unet_lite

    segmenter = Segmenter()
    photos = [
        _working(segmenter, item.camera, item.image, item.artery_vein)
        for item in artery_vein_maps(data_dir, tuple(cameras.split(",")), limit)
    ]
    header = ("held out", "photographs", "model", "accuracy", "centreline_accuracy")
    print("| " + " | ".join(header) + " | parameters | training s |")
    print("|---|---|---|---|---|---|---|")
    for held in cameras.split(","):
        train = [p for p in photos if p.camera != held]
        test = [p for p in photos if p.camera == held]
        keras.utils.set_random_seed(seed)
        rng = np.random.default_rng(seed)

        def build(size: int):
            return build_unet_lite(
                None, width, depth, size=size, channels=4, output="artery_probability"
            )

        model = build(CROP)
        model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="binary_crossentropy")
        started = time.perf_counter()
        for _ in range(epochs):
            x, y, w = _crops(train, rng, crops)
            model.fit(x, y, sample_weight=w, batch_size=16, epochs=1, verbose=0)
        trained = time.perf_counter() - started
        weights = model.get_weights()
        candidate = [_score(p, _predict(build, weights, p, 2 ** (depth + 1))) for p in test]
        baseline = [_score(p, _brighter(p)) for p in test]
        params = model.count_params()
        for name, scores, cost in (
            ("brighter", baseline, "- | -"),
            (f"unet-lite w{width} d{depth}", candidate, f"{params} | {trained:.0f}"),
        ):
            print(
                f"| {held} | {len(scores)} | {name} | {_figures(scores)} | {cost} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
