"""What measuring adds to segmenting a photograph, measured in one run.

    python benchmarks/measure_cost.py [--image PHOTO] [--repeats 15]

Segments a DRIVE-sized photograph (a synthetic 584x565 one, or ``--image``) with the bundled
model on one thread, then measures the mask inside the segmenter's field of view as
``segment --measure`` will (skeleton, graph, widths, fractal dimensions, tortuosity, disc).
Prints the median milliseconds of each (the two timed in turn, so that machine noise hits them
alike) and the ratio (segment + measure) / segment; the goal is at most 1.2.
"""

import statistics
import time

import click
import numpy as np

from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.measure.field import field_from_mask
from edge_runtime.measure.maps import VesselMap
from edge_runtime.measure.measurements import analyse_map
from edge_runtime.pipeline.decode import load_image
from edge_runtime.pipeline.segmenter import Segmenter

GOAL = 1.2
"""The most that measuring may multiply a photograph's time by (issue 23)."""


@click.command()
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--repeats", type=click.IntRange(1), default=15, show_default=True)
def main(image: str | None, repeats: int) -> None:
    """Print segment and measure milliseconds and their ratio."""
    photo = load_image(image) if image else synthetic_fundus(584, 565)
    segmenter = Segmenter()
    result = segmenter.segment(photo)  # warm-up
    segment_ms, measure_ms = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = segmenter.segment(photo)
        segmented = time.perf_counter()
        analysis = analyse_map(VesselMap(result.mask != 0), field_from_mask(result.fov), None)
        done = time.perf_counter()
        segment_ms.append((segmented - started) * 1000)
        measure_ms.append((done - segmented) * 1000)
    segment, measure = statistics.median(segment_ms), statistics.median(measure_ms)
    ratio = (segment + measure) / segment
    vessels = analysis.measurements.vessels
    print(
        f"photograph {photo.shape[1]}x{photo.shape[0]}, {np.count_nonzero(result.mask)} "
        f"vessel pixels, {vessels.segments} segments"
    )
    print(f"segment {segment:.1f} ms, measure {measure:.1f} ms (median of {repeats})")
    print(f"ratio {ratio:.3f} (goal <= {GOAL}): {'met' if ratio <= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
