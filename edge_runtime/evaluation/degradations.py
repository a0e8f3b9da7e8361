"""What a handheld fundus camera does to a photograph, simulated at a chosen strength: defocus
and motion blur, under- and over-exposure, haze, a small pupil's dark periphery, an eyelid's
shadow, a field pushed off the frame, JPEG artefacts and sensor noise. Each takes and returns an
(H, W, 3) uint8 photograph (numpy and Pillow only), is deterministic, and needs at most the
field of view's disc. The verdict is calibrated and tested on them (benchmarks/
verdict_calibration.py, tests/runtime/test_verdict*.py), benchmarks/robustness.py uses them."""

import io

import numpy as np
from PIL import Image, ImageFilter

from edge_runtime.pipeline.fov import FieldOfView

VEIL = np.array([225, 205, 165], dtype=np.float32)
"""Colour of the haze a cataract or a dirty lens spreads over the field (a pale warm white)."""

SHADOW = 0.12
"""Brightness left under an eyelid's shadow."""


def _uint8(pixels: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _radius_map(shape: tuple[int, int], disc: FieldOfView) -> np.ndarray:
    """(H, W) distance from the disc's centre in radii."""
    ys, xs = np.ogrid[: shape[0], : shape[1]]
    return np.hypot(ys - disc.center_y, xs - disc.center_x).astype(np.float32) / disc.radius


def defocus(photo: np.ndarray, sigma: float) -> np.ndarray:
    """Out of focus: a Gaussian blur of ``sigma`` pixels."""
    return np.asarray(Image.fromarray(photo).filter(ImageFilter.GaussianBlur(sigma)))


def motion_blur(photo: np.ndarray, length: float, angle: float = 30.0) -> np.ndarray:
    """A hand that moved: the mean of copies shifted along a line ``length`` pixels long at
    ``angle`` degrees (edges repeated)."""
    steps = max(2, round(length) + 1)
    pad = int(np.ceil(length / 2)) + 1
    padded = np.pad(photo.astype(np.float32), ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    height, width = photo.shape[:2]
    total = np.zeros(photo.shape, dtype=np.float32)
    direction = np.deg2rad(angle)
    for t in np.linspace(-length / 2, length / 2, steps):
        dy, dx = round(t * np.sin(direction)), round(t * np.cos(direction))
        total += padded[pad + dy : pad + dy + height, pad + dx : pad + dx + width]
    return _uint8(total / steps)


def exposure(photo: np.ndarray, gain: float) -> np.ndarray:
    """Under- (``gain`` < 1) or over-exposed (> 1, clipped at 255)."""
    return _uint8(photo * np.float32(gain))


def haze(photo: np.ndarray, disc: FieldOfView, veil: float) -> np.ndarray:
    """Light scattered by a cloudy lens or cataract: ``veil`` (0..1) of the field blended
    towards :data:`VEIL`, the dark border untouched."""
    inside = np.clip((1.02 - _radius_map(photo.shape[:2], disc)) / 0.04, 0, 1)[..., None]
    amount = np.float32(veil) * inside
    return _uint8(photo * (1 - amount) + VEIL * amount)


def small_pupil(photo: np.ndarray, disc: FieldOfView, rim: float) -> np.ndarray:
    """Vignetting of a small pupil: brightness falling from 1 at the disc's centre to ``rim``
    at its edge, steeply towards the edge (fourth power of the radius)."""
    factor = 1 - (1 - np.float32(rim)) * np.clip(_radius_map(photo.shape[:2], disc), 0, 1) ** 4
    return _uint8(photo * factor[..., None])


def eyelid(photo: np.ndarray, disc: FieldOfView, cover: float) -> np.ndarray:
    """An eyelid's shadow from the top of the field down over ``cover`` of its diameter
    (brightness :data:`SHADOW`, a soft edge a tenth of the radius wide), with a few lashes."""
    ys = np.arange(photo.shape[0], dtype=np.float32)[:, None]
    xs = np.arange(photo.shape[1], dtype=np.float32)[None, :]
    top = disc.center_y - disc.radius
    soft = 0.1 * disc.radius
    edge = top + 2 * disc.radius * cover + 0.04 * disc.radius * np.sin(xs / disc.radius * 3)
    lit = np.clip((ys - edge) / soft + 0.5, 0, 1)
    for k in range(7):  # lashes: thin dark arcs hanging below the lid
        x0 = disc.center_x + (k - 3) * 0.22 * disc.radius
        curve = edge + 0.25 * disc.radius * np.exp(-(((xs - x0) / (0.3 * disc.radius)) ** 2))
        on_lash = np.abs(xs - x0 - 0.1 * (ys - edge)) < 0.012 * disc.radius
        lit = np.where(on_lash & (ys > edge) & (ys < curve), lit * 0.4, lit)
    factor = SHADOW + (1 - SHADOW) * lit
    return _uint8(photo * factor[..., None])


def shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The frame moved ``dy`` pixels down and ``dx`` right over the scene: what leaves the
    frame is lost, what enters is black (zero). Works on photographs, labels and masks."""
    out = np.zeros_like(image)
    height, width = image.shape[:2]
    source = (
        slice(max(0, -dy), min(height, height - dy)),
        slice(max(0, -dx), min(width, width - dx)),
    )
    target = slice(max(0, dy), min(height, height + dy)), slice(max(0, dx), min(width, width + dx))
    out[target] = image[source]
    return out


def jpeg(photo: np.ndarray, quality: int) -> np.ndarray:
    """Saved as JPEG at ``quality`` (1..95) and read back."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def sensor_noise(photo: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Gaussian sensor noise of ``sigma`` grey levels, independent per pixel and channel."""
    noise = np.random.default_rng(seed).normal(0, sigma, photo.shape).astype(np.float32)
    return _uint8(photo + noise)
