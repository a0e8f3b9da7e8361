"""The floor any artery/vein model must beat: the field's artery/vein metrics of trivial
classifications of the bundled vessel model's masks, per camera.

    python benchmarks/artery_vein_baseline.py ../shared/data [--cameras drive,gave] [--limit N]

For each photograph with an artery/vein label in each camera's folder (DRIVE's RITE ``AV/``,
GAVE's and LES-AV's ``labels-av/``), the photograph is segmented by ``edge_runtime.Segmenter``
(the bundled model) and the vessels it finds are classified by each baseline:

- ``all veins``: every vessel pixel is a vein (veins are the larger class);
- ``brighter``: a vessel pixel brighter in the green channel than the median of the
  photograph's vessel pixels (inside the field of view) is an artery (arteries are lighter than
  veins, with a brighter central reflex).

Each is scored against the label inside the field of view (the set's mask, else the
segmenter's) by :func:`~edge_runtime.contract.artery_vein_metrics.artery_vein_scores`, the
centre lines being the label's skeleton (:mod:`edge_runtime.measure.skeleton`). Prints, per
camera and baseline, each metric's mean over the photographs where it is defined.
"""

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

from edge_runtime.contract.artery_vein_classes import ArteryVein, classes_from_probability
from edge_runtime.contract.artery_vein_metrics import (
    ArteryVeinScores,
    artery_vein_scores,
    mean_scores,
)
from edge_runtime.data.artery_vein import read_artery_vein
from edge_runtime.data.photos import read_binary
from edge_runtime.measure.labelled import ARTERY_VEIN_CAMERAS, LabelledMap, artery_vein_maps
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.decode import load_photo
from edge_runtime.pipeline.segmenter import Segmenter


def _all_veins(rgb: np.ndarray, found: np.ndarray) -> np.ndarray:
    return np.zeros(found.shape)


def _brighter(rgb: np.ndarray, found: np.ndarray) -> np.ndarray:
    green = rgb[..., 1]
    if not found.any():
        return np.zeros(found.shape)
    return (green > np.median(green[found])).astype(np.float64)


BASELINES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "all veins": _all_veins,
    "brighter": _brighter,
}
"""Each baseline's artery probability from the photograph (RGB) and the vessels found in its
field of view."""


def _scores(segmenter: Segmenter, photo: LabelledMap) -> dict[str, ArteryVeinScores]:
    """Each baseline's scores on one photograph."""
    decoded = load_photo(photo.image)
    rgb = np.asarray(decoded.picture())
    result = segmenter.segment(decoded)
    truth = read_artery_vein(photo.artery_vein, decoded.shape)
    fov = read_binary(photo.mask, decoded.shape, "mask") if photo.mask else result.fov
    centreline = skeletonize(truth != ArteryVein.BACKGROUND)
    vessels = result.mask != 0
    return {
        name: artery_vein_scores(
            truth,
            classes_from_probability(vessels, baseline(rgb, vessels & fov)),
            fov,
            centreline,
        )
        for name, baseline in BASELINES.items()
    }


def _mean(scores: list[ArteryVeinScores], name: str) -> str:
    value = getattr(mean_scores(scores), name)
    return "-" if value is None else f"{value:.3f}"


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cameras", default=",".join(ARTERY_VEIN_CAMERAS), show_default=True)
@click.option("--limit", type=click.IntRange(1), default=None, help="Photographs per camera.")
def main(data_dir: Path, cameras: str, limit: int | None) -> None:
    """Print, per camera and baseline, the mean artery/vein metrics over the photographs."""
    segmenter = Segmenter()
    metrics = [f.name for f in dataclasses.fields(ArteryVeinScores)]
    print("| camera | photographs | baseline | " + " | ".join(metrics) + " |")
    print("|---" * (3 + len(metrics)) + "|")
    for camera in cameras.split(","):
        by_baseline: dict[str, list[ArteryVeinScores]] = defaultdict(list)
        for photo in artery_vein_maps(data_dir, (camera,), limit):
            for name, scores in _scores(segmenter, photo).items():
                by_baseline[name].append(scores)
        for name, scores in by_baseline.items():
            means = " | ".join(_mean(scores, metric) for metric in metrics)
            print(f"| {camera} | {len(scores)} | {name} | {means} |")


if __name__ == "__main__":
    main()
