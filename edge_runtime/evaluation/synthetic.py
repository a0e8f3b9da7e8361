"""Synthetic fundus-like photographs, their labels and patch sets, for benchmarks and tests
where no real labelled photograph is at hand (a fresh clone has none)."""

import numpy as np
from PIL import Image

from edge_runtime.pipeline.grayscale import LUMA_WEIGHTS

DRAW_SIDE = 640
"""Larger images are drawn at about this size and enlarged, so that making a test photograph
costs little memory next to segmenting it."""

HUE = 4.0
HUE_SIDE = 8.0
"""Levels of red the disc's patches have above or below its shades of orange, at most (blue the
other way, their brightness kept), patches about 25 pixels (pi times 8) across."""


def synthetic_fundus(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An (H, W, 3) uint8 image: a textured orange disc, in patches redder and bluer, with dark
    curved "vessels" inside a black border, deterministic for a seed. Not a substitute for
    real photographs in accuracy checks; it exercises decoding, field-of-view detection,
    tiling and timing."""
    shrink = max(height, width) / DRAW_SIDE
    if shrink > 1:
        small = _draw(round(height / shrink), round(width / shrink), seed)
        return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR))
    return _draw(height, width, seed)


def _draw(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx, radius = (height - 1) / 2, (width - 1) / 2, 0.46 * min(height, width)
    r = np.hypot(ys - cy, xs - cx) / radius
    brightness = np.clip(1.0 - 0.35 * r**2, 0, 1) * (r <= 1)
    vessels = np.zeros((height, width), dtype=np.float32)
    for _ in range(12):
        phase, freq, amp = rng.uniform(0, 2 * np.pi), rng.uniform(1, 4), rng.uniform(0.05, 0.3)
        offset = rng.uniform(-0.8, 0.8) * radius
        centre_line = cy + offset + amp * radius * np.sin(freq * xs / radius + phase)
        vessels = np.maximum(vessels, np.exp(-(((ys - centre_line) / rng.uniform(1.5, 5)) ** 2)))
    noise = rng.normal(0, 0.02, (height, width)).astype(np.float32)
    gray = np.clip(brightness * (1 - 0.45 * vessels) + noise * (r <= 1), 0, 1)
    photo = gray[..., None] * np.array([230, 120, 50], dtype=np.float32)
    # patches redder and bluer at the same brightness (luma), as a real fundus's colour varies
    # over it: colour, not one colour's shades, which have none to tell arteries from veins by
    # (edge_runtime.pipeline.grayscale.has_colour)
    hue = HUE * np.sin(xs / HUE_SIDE) * np.cos(ys / HUE_SIDE) * (r <= 1)
    photo[..., 0] -= hue
    photo[..., 2] += hue * (LUMA_WEIGHTS[0] / LUMA_WEIGHTS[2])
    return np.clip(photo, 0, 255).astype(np.uint8)


def synthetic_label(photo: np.ndarray) -> np.ndarray:
    """The (H, W) bool "vessels" of a :func:`synthetic_fundus` photograph: its dark curves
    inside the disc (darker than 0.8 of the disc's 60th brightness percentile)."""
    gray = photo.mean(axis=2)
    inside = gray > 20
    return (gray < 0.8 * np.percentile(gray[inside], 60)) & inside


def synthetic_patches(
    photographs: int = 4, side: int = 64, shape: tuple[int, int] = (584, 565)
) -> tuple[np.ndarray, np.ndarray]:
    """A labelled patch set laid out like the reference one: (N, side, side) uint8 grayscale
    patches (ITU-R 601 luma) and (N, side, side) uint8 0/1 labels, on a ``side``-pixel grid of
    DRIVE-sized synthetic photographs (seeds 0.. ``photographs`` - 1), row by row, keeping the
    patches at least 90 % inside the disc. The committed test model scores a Dice of about
    0.75 on it, so conversion and gate mechanics can be tested without the reference data."""
    images, labels = [], []
    height, width = shape
    for seed in range(photographs):
        photo = synthetic_fundus(height, width, seed=seed)
        gray = photo.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        label, inside = synthetic_label(photo), gray > 20
        for y in range(0, height - side + 1, side):
            for x in range(0, width - side + 1, side):
                if inside[y : y + side, x : x + side].mean() > 0.9:
                    images.append(gray[y : y + side, x : x + side].round().astype(np.uint8))
                    labels.append(label[y : y + side, x : x + side].astype(np.uint8))
    return np.stack(images), np.stack(labels)
