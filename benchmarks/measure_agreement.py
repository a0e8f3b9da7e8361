"""How well the measurements of the bundled model's masks agree with those of the manual
labels, per camera: what a study gains from measuring the model's maps.

    python benchmarks/measure_agreement.py ../shared/data [--cameras drive,stare] [--limit N]

For each labelled photograph of each camera's folder (DRIVE, STARE, GAVE, LES-AV), the
photograph is segmented by ``edge_runtime.Segmenter`` (the bundled model) and both its mask and
the manual label are measured inside the same field of view (the set's mask, else the
segmenter's), with the set's field of view in degrees, which sizes the disc
(:meth:`~edge_runtime.measure.labelled.LabelledMap.camera_scale`: DRIVE's 45, STARE's 35,
LES-AV's 30 and 45 by the photograph's size; GAVE's is not stated, so a 45-degree field is
assumed). Prints, per camera and measurement, the Pearson correlation across photographs
between the two values and the mean bias (model - manual), with the mean manual value for
scale; and how far apart the two discs are, in disc diameters.
"""

import math
from collections import defaultdict
from pathlib import Path

import click
import numpy as np

from edge_runtime.measure.field import field_from_mask
from edge_runtime.measure.labelled import CAMERAS, labelled_maps
from edge_runtime.measure.maps import VesselMap, read_field_mask, read_map
from edge_runtime.measure.measurements import MapMeasurements, analyse_map
from edge_runtime.pipeline.segmenter import Segmenter

MEASURES = (
    "density",
    "length_density_per_px",
    "mean_width_px",
    "d0",
    "d1",
    "d2",
    "tortuosity_median",
    "tortuosity_index",
    "tortuosity_density",
    "end_points",
    "branch_points",
)
"""The measurements of all vessels compared (the model gives no artery/vein classes)."""


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or not a.std() or not b.std():
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _disc_distance(model: MapMeasurements, manual: MapMeasurements) -> float | None:
    """Distance between the two discs found, in disc diameters."""
    if model.disc is None or manual.disc is None:
        return None
    gap = math.hypot(
        model.disc.center_x - manual.disc.center_x, model.disc.center_y - manual.disc.center_y
    )
    return gap / manual.disc.diameter_px


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cameras", default=",".join(CAMERAS), show_default=True)
@click.option("--limit", type=click.IntRange(1), default=None, help="Photographs per camera.")
def main(data_dir: Path, cameras: str, limit: int | None) -> None:
    """Print, per camera, Pearson r and mean bias of each measurement, model vs manual."""
    segmenter = Segmenter()
    pairs: dict[str, list[tuple[MapMeasurements, MapMeasurements]]] = defaultdict(list)
    for item in labelled_maps(data_dir, tuple(cameras.split(","))):
        if limit and len(pairs[item.camera]) >= limit:
            continue
        result = segmenter.segment(item.image)
        field = field_from_mask(read_field_mask(item.mask) if item.mask else result.fov)
        scale = item.camera_scale(field.mask.shape).scale(field.spanned_px)
        manual = read_map(item.label).vessels
        model = result.mask != 0
        pairs[item.camera].append(
            tuple(analyse_map(VesselMap(v), field, scale).measurements for v in (model, manual))
        )
    header = ("camera", "photographs", "measurement", "manual mean", "Pearson r", "mean bias")
    print("| " + " | ".join(header) + " (model - manual) |")
    print("|---|---|---|---|---|---|")
    for camera, found in pairs.items():
        for name in MEASURES:
            values = [
                (getattr(a.vessels, name), getattr(b.vessels, name))
                for a, b in found
                if getattr(a.vessels, name) is not None and getattr(b.vessels, name) is not None
            ]
            model, manual = (np.array(v, dtype=np.float64) for v in zip(*values, strict=True))
            print(
                f"| {camera} | {len(values)} | {name} | {manual.mean():.4g} | "
                f"{_pearson(model, manual):.2f} | {(model - manual).mean():+.4g} |"
            )
        gaps = [g for g in (_disc_distance(a, b) for a, b in found) if g is not None]
        within = np.mean(np.array(gaps) <= 0.5)
        print(
            f"| {camera} | {len(gaps)} | disc centre | | {within:.0%} within half a disc "
            f"diameter | median {np.median(gaps):.2f} disc diameters apart |"
        )


if __name__ == "__main__":
    main()
