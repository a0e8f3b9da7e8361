"""What the PNG compression level of every output costs and saves, measured in one run.

    python benchmarks/png_level.py [--image PHOTO] [--repeats 10]

Segments a photograph (DRIVE-sized synthetic, or ``--image``) with the bundled vessel and
artery/vein models, then encodes each of ``segment``'s outputs (mask, overlay, probabilities,
artery/vein map) at the level the runtime uses (``edge_runtime.atomic.PNG_COMPRESS_LEVEL``)
and at Pillow's default (6), in turn, so that machine noise hits both alike. Prints the median
milliseconds and bytes of each, and the ratios default / runtime's (time) and runtime's /
default (size).
"""

import io
import statistics
import time

import click
import numpy as np
from PIL import Image

from edge_runtime import ArteryVeinModel, Segmenter
from edge_runtime.app.outputs import overlay
from edge_runtime.atomic import PNG_COMPRESS_LEVEL
from edge_runtime.data.artery_vein import colour_picture
from edge_runtime.evaluation.synthetic import synthetic_fundus

PILLOW_DEFAULT = 6
"""Pillow's own PNG level (zlib's default)."""


def _encoded(picture: Image.Image, level: int) -> tuple[float, int]:
    """Milliseconds and bytes of one encoding."""
    buffer = io.BytesIO()
    started = time.perf_counter()
    picture.save(buffer, format="PNG", compress_level=level)
    return (time.perf_counter() - started) * 1000, len(buffer.getvalue())


@click.command()
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--repeats", type=click.IntRange(1, 1000), default=10, show_default=True)
def main(image, repeats):
    """Time and size of each output at the runtime's PNG level against Pillow's default."""
    segmenter = Segmenter(artery_vein=ArteryVeinModel())
    result = segmenter.segment(image if image else synthetic_fundus(584, 565))
    mask = np.multiply(result.mask, 255, dtype=np.uint8)
    outputs = {
        "mask": Image.fromarray(mask),
        "overlay": overlay(result.photo, result.mask),
        "prob": Image.fromarray(np.round(result.probability * 255).astype(np.uint8)),
        "artery/vein": colour_picture(result.artery_vein),
    }
    print(f"level {PNG_COMPRESS_LEVEL} (runtime) against {PILLOW_DEFAULT} (Pillow's default)")
    for name, picture in outputs.items():
        runs = {PNG_COMPRESS_LEVEL: [], PILLOW_DEFAULT: []}
        for _ in range(repeats):
            for level, timed in runs.items():
                timed.append(_encoded(picture, level))
        ms = {level: statistics.median(t for t, _ in timed) for level, timed in runs.items()}
        size = {level: timed[0][1] for level, timed in runs.items()}
        print(
            f"{name}: {ms[PNG_COMPRESS_LEVEL]:.1f} against {ms[PILLOW_DEFAULT]:.1f} ms "
            f"(faster {ms[PILLOW_DEFAULT] / ms[PNG_COMPRESS_LEVEL]:.2f}x), "
            f"{size[PNG_COMPRESS_LEVEL]:,} against {size[PILLOW_DEFAULT]:,} bytes "
            f"(larger {size[PNG_COMPRESS_LEVEL] / size[PILLOW_DEFAULT]:.2f}x)"
        )


if __name__ == "__main__":
    main()
