"""What the artery/vein output adds to segmenting a photograph, measured in one run.

    python benchmarks/artery_vein_cost.py [--image PHOTO] [--size HxW] [--repeats 9]

Segments a photograph (``--image``, or a synthetic one of ``--size``, DRIVE's 584x565 by
default) with the bundled vessel model on one thread, then classes its vessels with the bundled
artery/vein model as ``segment --av`` does (its four-channel input, stitched tiles, the map at
the photograph's size). Prints the median milliseconds of each (timed in turn, so that machine
noise hits them alike), the tiles of each model and the ratio (vessels + arteries/veins) /
vessels. Issue 21's budget: both outputs no slower than release 1.1.0 with one, i.e. a ratio of
1.0 with an unchanged vessel model.
"""

import statistics
import time

import click
import numpy as np

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.artery_vein import ArteryVeinModel
from edge_runtime.pipeline.decode import load_image


@click.command()
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--size", default="584x565", show_default=True, help="Synthetic photograph HxW.")
@click.option("--repeats", type=click.IntRange(1), default=9, show_default=True)
def main(image: str | None, size: str, repeats: int) -> None:
    """Print vessel and artery/vein milliseconds and their ratio."""
    height, width = (int(side) for side in size.split("x"))
    photo = load_image(image) if image else synthetic_fundus(height, width)
    model = ArteryVeinModel()
    segmenter = Segmenter(artery_vein=model)
    segmenter.segment(photo).artery_vein  # noqa: B018  (warm-up)
    vessel_ms, artery_vein_ms = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = segmenter.segment(photo)
        segmented = time.perf_counter()
        classes = result.artery_vein
        done = time.perf_counter()
        vessel_ms.append((segmented - started) * 1000)
        artery_vein_ms.append((done - segmented) * 1000)
    vessels, arteries_veins = statistics.median(vessel_ms), statistics.median(artery_vein_ms)
    tiles = len(model.tile_corners(result.prepared.inside))
    print(
        f"photograph {photo.shape[1]}x{photo.shape[0]}: {result.stats.tiles} vessel tiles of "
        f"{segmenter.tile} px, {tiles} artery/vein tile{'s' * (tiles > 1)} of {model.tile} px, "
        f"{np.count_nonzero(classes == 1)} artery and {np.count_nonzero(classes == 2)} vein pixels"
    )
    print(f"vessels {vessels:.1f} ms, arteries/veins {arteries_veins:.1f} ms (median of {repeats})")
    print(f"ratio {(vessels + arteries_veins) / vessels:.3f}")


if __name__ == "__main__":
    main()
