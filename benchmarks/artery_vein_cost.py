"""What the artery/vein output adds to segmenting a photograph, measured in one run.

    python benchmarks/artery_vein_cost.py [--image PHOTO] [--size HxW] [--repeats 9]
        [--av-model A.tflite --av-model B.tflite]

Segments a photograph (``--image``, or a synthetic one of ``--size``, DRIVE's 584x565 by
default) with the bundled vessel model on one thread, then classes its vessels with an
artery/vein model as ``segment --av`` does (its four-channel input at its own working scale,
stitched tiles, the map at the photograph's size): the bundled one, or each ``--av-model`` in
turn. Prints, per artery/vein model, the median milliseconds of each step (all timed in turn,
so that machine noise hits them alike), the tiles of each model and the ratio (vessels +
arteries/veins) / vessels: where the second output's time goes. Then each model's inference
alone, per tile, one tile to an invoke (as a photograph's one or few tiles run) against a full
batch: the CPU library's kernels may depend on the batch (on an AMX machine, XNNPACK picks its
transposed-convolution kernel by the batch size, and one tile alone of a model converted with
them took 2.8x the time per tile of a batch; the bundled model is converted pixel-shuffled,
without them: firmware_notes/ARTERY_VEIN.md, "Cost"). Issue 21's budget itself (both outputs
against release 1.1.0 with one) is measured by ``benchmarks/against_release.py``.
"""

import statistics
import time
from pathlib import Path

import click
import numpy as np

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.errors import counted
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.patch_model import PatchModel
from edge_runtime.pipeline.artery_vein import ArteryVeinModel
from edge_runtime.pipeline.decode import load_image


@click.command()
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--size", default="584x565", show_default=True, help="Synthetic photograph HxW.")
@click.option("--repeats", type=click.IntRange(1), default=9, show_default=True)
@click.option(
    "--av-model",
    "models",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="An artery/vein model to time (repeatable, timed in turn) [default: the bundled one].",
)
def main(image: str | None, size: str, repeats: int, models: tuple[str, ...]) -> None:
    """Print vessel and artery/vein milliseconds and their ratio, for each model."""
    height, width = (int(side) for side in size.split("x"))
    photo = load_image(image) if image else synthetic_fundus(height, width)
    segmenters = [Segmenter(artery_vein=ArteryVeinModel(m)) for m in models or (None,)]
    for segmenter in segmenters:
        segmenter.segment(photo).artery_vein  # noqa: B018  (warm-up)
    vessel_ms: list[list[float]] = [[] for _ in segmenters]
    artery_vein_ms: list[list[float]] = [[] for _ in segmenters]
    results = [None] * len(segmenters)  # each model's last, for its counts
    for _ in range(repeats):
        for k, segmenter in enumerate(segmenters):
            started = time.perf_counter()
            results[k] = result = segmenter.segment(photo)
            segmented = time.perf_counter()
            result.artery_vein  # noqa: B018  (made when first asked for)
            done = time.perf_counter()
            vessel_ms[k].append((segmented - started) * 1000)
            artery_vein_ms[k].append((done - segmented) * 1000)
    print(
        f"photograph {photo.shape[1]}x{photo.shape[0]}: {result.stats.tiles} vessel tiles of "
        f"{segmenters[0].tile} px"
    )
    for k, segmenter in enumerate(segmenters):
        model = segmenter.artery_vein
        framing = result.prepared.framing.at_diameter(model.fov_diameter)
        tiles = len(model.tile_corners(framing.work_fov.mask(framing.work_shape)))
        classes = results[k].artery_vein
        vessels, arteries_veins = (
            statistics.median(vessel_ms[k]),
            statistics.median(artery_vein_ms[k]),
        )
        print(
            f"{Path(model.runtime.model).name}: {counted(tiles, 'artery/vein tile')} of "
            f"{model.tile} px (a disc {model.fov_diameter:g} px across), "
            f"{np.count_nonzero(classes == 1)} artery and {np.count_nonzero(classes == 2)} vein "
            f"pixels; vessels {vessels:.1f} ms, arteries/veins {arteries_veins:.1f} ms (median of "
            f"{repeats}); ratio {(vessels + arteries_veins) / vessels:.3f}"
        )
    for segmenter in segmenters:
        alone, batched, batch = _tile_ms(segmenter.artery_vein.model, repeats)
        print(
            f"{Path(segmenter.artery_vein.runtime.model).name} inference per tile: "
            f"{alone:.1f} ms one to an invoke, {batched:.1f} ms in a batch of {batch} "
            f"(median of {repeats}); ratio {alone / batched:.2f}"
        )


def _tile_ms(model: PatchModel, repeats: int) -> tuple[float, float, int]:
    """Median milliseconds per tile of ``model`` on one tile to an invoke and on a full batch,
    timed in turn, and the batch."""
    tiles = np.zeros((model.batch_size, model.side, model.side, model.channels), np.float32)
    runs: dict[int, list[float]] = {1: [], len(tiles): []}
    for count in runs:
        model.predict(tiles[:count])  # warm-up: the interpreter resized to this batch
    for _ in range(repeats):
        for count, times in runs.items():
            started = time.perf_counter()
            model.predict(tiles[:count])
            times.append((time.perf_counter() - started) * 1000 / count)
    return statistics.median(runs[1]), statistics.median(runs[len(tiles)]), len(tiles)


if __name__ == "__main__":
    main()
