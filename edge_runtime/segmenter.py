"""Whole-photograph vessel segmentation: the device's Python API.

    from edge_runtime.segmenter import Segmenter
    result = Segmenter().segment("photo.jpg")   # bundled model; or Segmenter("model.tflite")
    result.mask        # (H, W) uint8, 1 = vessel, 0 outside the field of view
    result.stats       # vessel fraction, tiles, milliseconds per stage

Steps: decode (Pillow, EXIF orientation) -> grayscale -> field-of-view disc -> resize so the
disc's diameter matches the training photographs -> overlapping 64x64 tiles inside the disc,
each contrast-stretched as in training -> inference in batches -> weighted stitching -> resize
back -> threshold, zero outside the field of view.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.errors import InputError
from edge_runtime.fov import FieldOfView, detect_fov
from edge_runtime.grayscale import to_grayscale
from edge_runtime.image_io import MIN_SIDE, load_image
from edge_runtime.metrics import binarize
from edge_runtime.model_report import resolve_model
from edge_runtime.patch_model import PatchModel
from edge_runtime.preprocessing import preprocess_patches
from edge_runtime.resize import upsample_bilinear
from edge_runtime.tiling import Stitcher, extract_tiles, tile_grid

DEFAULT_STRIDE = 52
"""Tile stride in pixels of the resized photograph (64-pixel tiles overlap by 12; 1.5x tile
redundancy). Chosen by measurement (benchmarks/stride.py, on holdout strips the model never
saw): overlap lifts the stitched Dice by about 0.005 over abutting tiles, and denser strides
add nothing more."""

BATCH_SIZE = 32
"""Tiles preprocessed and run per batch; bounds the working memory."""


@dataclass
class Stats:
    """What one segmentation did and how long each stage took (milliseconds)."""

    vessel_fraction: float
    tiles: int
    scale: float
    fov_found: bool
    fov_center: tuple[float, float]
    fov_radius: float
    ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Result:
    """Masks and probabilities at the size of the input photograph (H, W)."""

    mask: np.ndarray
    probability: np.ndarray
    fov: np.ndarray
    stats: Stats


def _as_image(image: np.ndarray | str | Path) -> np.ndarray:
    if isinstance(image, (str, Path)):
        return load_image(image)
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InputError(f"image array: shape {array.shape}, expected (H, W) or (H, W, 3|4)")
    if array.dtype not in (np.uint8, np.uint16):
        raise InputError(f"image array: dtype {array.dtype}, expected uint8 or uint16")
    if min(array.shape[:2]) < MIN_SIDE:
        raise InputError(
            f"image array: shape {array.shape} is too small, each side needs {MIN_SIDE}"
        )
    return array


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize (antialiased when shrinking) of a float32 (H, W) array to (h, w)."""
    if image.shape == shape:
        return image
    resized = Image.fromarray(image, mode="F").resize(
        (shape[1], shape[0]), Image.Resampling.BILINEAR
    )
    return np.asarray(resized, dtype=np.float32)


class Segmenter:
    """Segments vessels in whole fundus photographs with a LiteRT patch model.

    Args:
        model: a .tflite file; ``None`` for the model bundled with the package.
        threads: CPU threads of the interpreter.
        delegate: ``None`` (CPU) or ``"edgetpu"``.
        threshold: decision threshold; ``None`` for the model's own (from its metadata).
        channel: grayscale conversion, ``"luma"`` or ``"green"`` (see ``edge_runtime.grayscale``).
        fov_diameter: field-of-view diameter in pixels of the photographs the model was trained
            on; photographs are resized to match. ``None`` for the model's metadata (540 by
            default, the DRIVE photographs' disc).
        stride: tile stride in pixels of the resized photograph.
        tta: test-time averaging, a key of :data:`edge_runtime.symmetry.TTA_MODES`.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        threads: int = 1,
        delegate: str | None = None,
        threshold: float | None = None,
        channel: str = "luma",
        fov_diameter: float | None = None,
        stride: int = DEFAULT_STRIDE,
        tta: str = "off",
    ):
        self.model = PatchModel(resolve_model(model), threads=threads, delegate=delegate, tta=tta)
        settings = self.model.settings
        self.tile = settings.patch_size
        self.threshold = settings.threshold if threshold is None else threshold
        self.fov_diameter = settings.fov_diameter if fov_diameter is None else fov_diameter
        if not 1 <= stride <= self.tile:
            raise ValueError(f"got stride {stride}, expected 1..{self.tile}")
        self.channel, self.stride = channel, stride

    def segment(self, image: np.ndarray | str | Path) -> Result:
        """Segment one photograph: a path, or an (H, W) / (H, W, 3|4) uint8 or uint16 array."""
        clock = _Clock()
        photo = _as_image(image)
        shape = photo.shape[:2]
        clock.lap("decode")
        fov = detect_fov(photo)
        top, left, bottom, right = fov.box(shape)
        scale = self.fov_diameter / (2 * fov.radius) if fov.found else 1.0
        crop_shape = (bottom - top, right - left)
        work_shape = tuple(max(self.tile, round(s * scale)) for s in crop_shape)
        work = _resize(to_grayscale(photo[top:bottom, left:right], self.channel), work_shape)
        work_fov = FieldOfView(
            (fov.center_y - top) * work_shape[0] / crop_shape[0],
            (fov.center_x - left) * work_shape[1] / crop_shape[1],
            fov.radius * scale,
            fov.found,
        ).mask(work_shape)
        clock.lap("fov_and_resize")
        work_probability, tiles = self.tile_probabilities(work, work_fov)
        clock.lap("tiles_and_inference")
        fov_mask = np.zeros(shape, dtype=bool)
        fov_mask[top:bottom, left:right] = fov.mask(shape, (top, left, bottom, right))
        probability = np.zeros(shape, dtype=np.float32)
        inside = probability[top:bottom, left:right]
        upsample_bilinear(work_probability, inside)
        inside *= fov_mask[top:bottom, left:right]
        mask = binarize(probability, self.threshold)
        clock.lap("stitch_and_threshold")
        stats = Stats(
            vessel_fraction=float(mask[fov_mask].mean()) if fov_mask.any() else 0.0,
            tiles=tiles,
            scale=scale,
            fov_found=fov.found,
            fov_center=(fov.center_y, fov.center_x),
            fov_radius=fov.radius,
            ms=clock.laps,
        )
        return Result(mask, probability, fov_mask, stats)

    def tile_probabilities(self, image: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, int]:
        """Vessel probabilities (H, W) of a grayscale image already at the training scale.

        The image is covered by tiles every ``stride`` pixels; tiles that do not touch ``inside``
        (boolean (H, W)) are skipped and their pixels get 0. Each tile is contrast-stretched on
        its own, as the training patches were. Returns the probabilities and the tile count.
        """
        corners = tile_grid(image.shape, self.tile, self.stride)
        t = self.tile
        corners = corners[[inside[y : y + t, x : x + t].any() for y, x in corners]]
        stitcher = Stitcher(image.shape, t)
        for start in range(0, len(corners), BATCH_SIZE):
            batch = corners[start : start + BATCH_SIZE]
            patches = preprocess_patches(extract_tiles(image, batch, t))
            stitcher.add(self.model.predict(patches), batch)
        return stitcher.result(), len(corners)


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self.laps["total"] = round((now - self._start) * 1000, 2)
        self._last = now
