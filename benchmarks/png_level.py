"""What the runtime's PNG settings cost and save against Pillow's default, in one run.

    python benchmarks/png_level.py [--image PHOTO] [--repeats 10]

Segments a photograph (DRIVE-sized synthetic, or ``--image``) with the bundled vessel and
artery/vein models, then encodes each of ``segment``'s outputs (mask, overlay, probabilities,
artery/vein map) with the runtime's settings (``edge_runtime.atomic.PNG_OPTIONS``) and with
Pillow's default (zlib level 6, its default strategy), in turn, so that machine noise hits both
alike. Prints the median milliseconds and bytes of each, and the ratios default / runtime's
(time) and runtime's / default (size).
"""

import io
import statistics
import time

import click
import numpy as np
from PIL import Image

from edge_runtime import ArteryVeinModel, Segmenter
from edge_runtime.app.outputs import overlay
from edge_runtime.atomic import PNG_OPTIONS
from edge_runtime.data.artery_vein import colour_picture
from edge_runtime.evaluation.synthetic import synthetic_fundus

SETTINGS = {"runtime": PNG_OPTIONS, "default": {}}
"""The runtime's PNG settings, and Pillow's own (zlib level 6)."""


def _encoded(picture: Image.Image, options: dict) -> tuple[float, int]:
    """Milliseconds and bytes of one encoding."""
    buffer = io.BytesIO()
    started = time.perf_counter()
    picture.save(buffer, format="PNG", **options)
    return (time.perf_counter() - started) * 1000, len(buffer.getvalue())


@click.command()
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--repeats", type=click.IntRange(1, 1000), default=10, show_default=True)
def main(image, repeats):
    """Time and size of each output with the runtime's PNG settings against Pillow's default."""
    segmenter = Segmenter(artery_vein=ArteryVeinModel())
    result = segmenter.segment(image if image else synthetic_fundus(584, 565))
    mask = np.multiply(result.mask, 255, dtype=np.uint8)
    outputs = {
        "mask": Image.fromarray(mask),
        "overlay": overlay(result.photo, result.mask),
        "prob": Image.fromarray(np.round(result.probability * 255).astype(np.uint8)),
        "artery/vein": colour_picture(result.artery_vein),
    }
    print(f"runtime ({PNG_OPTIONS}) against Pillow's default (level 6)")
    for name, picture in outputs.items():
        runs = {setting: [] for setting in SETTINGS}
        for _ in range(repeats):
            for setting, timed in runs.items():
                timed.append(_encoded(picture, SETTINGS[setting]))
        ms = {setting: statistics.median(t for t, _ in timed) for setting, timed in runs.items()}
        size = {setting: timed[0][1] for setting, timed in runs.items()}
        print(
            f"{name}: {ms['runtime']:.1f} against {ms['default']:.1f} ms "
            f"(faster {ms['default'] / ms['runtime']:.2f}x), "
            f"{size['runtime']:,} against {size['default']:,} bytes "
            f"(size {size['runtime'] / size['default']:.2f}x)"
        )


if __name__ == "__main__":
    main()
