"""How the bundled model's mask holds up when a real photograph is degraded, in one run.

    python benchmarks/robustness.py [--model M.tflite] [--tta off|flip|dihedral]

Takes scikit-image's fundus photograph (the ``demo`` extra), degrades it the ways a portable
camera does (under-exposure, a dark periphery, JPEG compression, sensor noise, defocus, a lower
resolution), segments each version and compares its mask with the mask of the original: Dice
over the whole field of view and over its outer ring (beyond 70 % of the radius, where
periphery vignetting bites), vessel fraction, and the field-of-view radius found. There are no
labels for this photograph: it measures consistency, not accuracy.
"""

from collections.abc import Callable

import click
import numpy as np
from PIL import Image

from edge_runtime.cli.options import tta_option
from edge_runtime.contract.metrics import dice_score
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.evaluation.degradations import defocus, exposure, jpeg, sensor_noise
from edge_runtime.pipeline.segmenter import Segmenter

OUTER_RING = 0.7
"""Pixels beyond this fraction of the field-of-view radius form the "periphery"."""


def _scaled(photo: np.ndarray, factor: np.ndarray | float) -> np.ndarray:
    return np.clip(np.rint(photo * np.asarray(factor)[..., None]), 0, 255).astype(np.uint8)


def _vignette(photo: np.ndarray, rim: float) -> np.ndarray:
    """Brightness falling from 1 at the centre to ``rim`` at the corners, quadratically."""
    height, width = photo.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    r = np.hypot(ys - height / 2, xs - width / 2) / np.hypot(height / 2, width / 2)
    return _scaled(photo, 1 - (1 - rim) * r**2)


def _shrunk(photo: np.ndarray, factor: float) -> np.ndarray:
    height, width = photo.shape[:2]
    size = (round(width * factor), round(height * factor))
    small = Image.fromarray(photo).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(small.resize((width, height), Image.Resampling.BILINEAR))


DEGRADATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exposure x0.5": lambda p: exposure(p, 0.5),
    "exposure x0.25": lambda p: exposure(p, 0.25),
    "vignette to 0.5": lambda p: _vignette(p, 0.5),
    "vignette to 0.25": lambda p: _vignette(p, 0.25),
    "JPEG quality 50": lambda p: jpeg(p, 50),
    "JPEG quality 20": lambda p: jpeg(p, 20),
    "noise sigma 5": lambda p: sensor_noise(p, 5),
    "noise sigma 15": lambda p: sensor_noise(p, 15),
    "blur radius 1": lambda p: defocus(p, 1),
    "blur radius 3": lambda p: defocus(p, 3),
    "resolution x0.5": lambda p: _shrunk(p, 0.5),
    "resolution x0.25": lambda p: _shrunk(p, 0.25),
}
"""Named degradations of an (H, W, 3) uint8 photograph."""


@click.command()
@click.option("--model", default=None, help="A .tflite model [default: bundled].")
@tta_option
def main(model: str | None, tta: str) -> None:
    """Print, per degradation: Dice against the original's mask (field of view, periphery)."""
    from skimage.data import retina

    photo = retina()
    segmenter = Segmenter(model, SegmenterConfig(tta=tta))
    reference = segmenter.segment(photo)
    stats = reference.stats
    ys, xs = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]]
    radius = np.hypot(ys - stats.fov_center[0], xs - stats.fov_center[1]) / stats.fov_radius
    inside = reference.fov
    outer = inside & (radius > OUTER_RING)
    click.echo(
        f"scikit-image retina {photo.shape[1]}x{photo.shape[0]}, model "
        f"{segmenter.model_name}, tta {tta}: vessels {stats.vessel_fraction:.1%} of the field "
        f"of view, radius {stats.fov_radius:.0f} px"
    )
    click.echo("degradation        Dice (FOV)  Dice (periphery)  vessels  FOV radius")
    for name, degrade in DEGRADATIONS.items():
        result = segmenter.segment(degrade(photo))
        click.echo(
            f"{name:<18} {dice_score(reference.mask[inside], result.mask[inside]):>10.3f}  "
            f"{dice_score(reference.mask[outer], result.mask[outer]):>16.3f}  "
            f"{result.stats.vessel_fraction:>7.1%}  {result.stats.fov_radius:>10.0f}"
        )


if __name__ == "__main__":
    main()
