"""Whole-photograph vessel segmentation: the device's Python API.

    from edge_runtime import Segmenter
    result = Segmenter().segment("photo.jpg")   # bundled model; or Segmenter("model.tflite")
    result.mask        # (H, W) uint8, 1 = vessel, 0 outside the field of view
    result.stats       # vessel fraction, tiles, milliseconds per stage

The pipeline, stage by stage (each a public method, so evaluation and benchmarks can stop or
look in between):

1. :meth:`Segmenter.prepare`: decode, grayscale, find the field-of-view disc, cut it out and
   resize it so that its diameter matches the training photographs;
2. :meth:`Segmenter.tile_corners` and :meth:`Segmenter.tile_inputs`: overlapping tiles inside
   the disc, each contrast-stretched on its own as the training patches were;
3. :meth:`Segmenter.tile_probabilities`: inference in batches and weighted, seam-free stitching;
4. :meth:`Segmenter.finish`: resize back to the photograph, threshold, zero outside the disc.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_runtime.contract.metrics import binarize
from edge_runtime.contract.preprocessing import preprocess_patches
from edge_runtime.errors import InputError
from edge_runtime.inference.bundled import resolve_model
from edge_runtime.inference.patch_model import PatchModel
from edge_runtime.pipeline.decode import MIN_SIDE, load_image
from edge_runtime.pipeline.fov import FieldOfView, Framing, detect_fov
from edge_runtime.pipeline.grayscale import to_grayscale
from edge_runtime.pipeline.resize import resize
from edge_runtime.pipeline.tiling import Stitcher, extract_tiles, tile_grid

STRIDE_SHARE = 52 / 64
"""Tile stride as a share of the tile side: 52 pixels for 64-pixel tiles, which then overlap by
12 (1.5x tile redundancy). Chosen by measurement (benchmarks/stride.py, on holdout strips the
model never saw): overlap lifts the stitched Dice by about 0.005 over abutting tiles, and denser
strides add nothing more."""

TILES_PER_STEP = 32
"""Tiles preprocessed and run together; bounds the working memory of a large photograph."""


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


@dataclass(frozen=True)
class Prepared:
    """A photograph ready for the model: ``work`` is its field of view as float32 grayscale at
    the working scale, ``inside`` the disc there (boolean, same shape)."""

    shape: tuple[int, int]
    fov: FieldOfView
    framing: Framing
    work: np.ndarray
    inside: np.ndarray


def as_photograph(image: np.ndarray | str | Path) -> np.ndarray:
    """A photograph to segment: decoded from a path, or a checked (H, W[, 3|4]) uint8/uint16
    array.

    Raises:
        InputError: the file cannot be used, or the array has the wrong shape or dtype.
    """
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


class Segmenter:
    """Segments vessels in whole fundus photographs with a LiteRT patch model.

    Args:
        model: a .tflite file; ``None`` for the model bundled with the package.
        threads: CPU threads of the interpreter.
        delegate: ``None`` (CPU) or ``"edgetpu"``.
        threshold: decision threshold; ``None`` for the model's own (from its model card).
        channel: grayscale conversion, ``"luma"`` or ``"green"``
            (:mod:`edge_runtime.pipeline.grayscale`).
        fov_diameter: field-of-view diameter in pixels of the photographs the model was trained
            on; photographs are resized to match. ``None`` for the model card's (540 by
            default, the DRIVE photographs' disc).
        stride: tile stride in pixels of the resized photograph; ``None`` for
            :data:`STRIDE_SHARE` of the tile side.
        tta: test-time averaging, a key of :data:`edge_runtime.contract.symmetry.TTA_MODES`.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        threads: int = 1,
        delegate: str | None = None,
        threshold: float | None = None,
        channel: str = "luma",
        fov_diameter: float | None = None,
        stride: int | None = None,
        tta: str = "off",
    ):
        self.model = PatchModel(
            resolve_model(model), threads=threads, delegate=delegate, tta=tta, threshold=threshold
        )
        self.tile = self.model.side
        self.fov_diameter = self.model.card.fov_diameter if fov_diameter is None else fov_diameter
        stride = round(self.tile * STRIDE_SHARE) if stride is None else stride
        if not 1 <= stride <= self.tile:
            raise ValueError(f"got stride {stride}, expected 1..{self.tile}")
        self.channel, self.stride = channel, stride

    @property
    def threshold(self) -> float:
        """The decision threshold in effect."""
        return self.model.threshold

    def segment(self, image: np.ndarray | str | Path) -> Result:
        """Segment one photograph: a path, or an (H, W) / (H, W, 3|4) uint8 or uint16 array."""
        clock = _Clock()
        photo = as_photograph(image)
        clock.lap("decode")
        prepared = self.prepare(photo)
        clock.lap("fov_and_resize")
        work_probability, tiles = self.tile_probabilities(prepared.work, prepared.inside)
        clock.lap("tiles_and_inference")
        probability, mask, fov_mask = self.finish(prepared, work_probability)
        clock.lap("stitch_and_threshold")
        stats = Stats(
            vessel_fraction=float(mask[fov_mask].mean()) if fov_mask.any() else 0.0,
            tiles=tiles,
            scale=prepared.framing.scale,
            fov_found=prepared.fov.found,
            fov_center=(prepared.fov.center_y, prepared.fov.center_x),
            fov_radius=prepared.fov.radius,
            ms=clock.laps,
        )
        return Result(mask, probability, fov_mask, stats)

    def prepare(self, photo: np.ndarray) -> Prepared:
        """Stage 1: the field of view of a decoded photograph, in grayscale at the working scale."""
        shape = photo.shape[:2]
        fov = detect_fov(photo)
        framing = fov.framing(shape, self.fov_diameter, self.tile)
        top, left, bottom, right = framing.box
        gray = to_grayscale(photo[top:bottom, left:right], self.channel)
        work = resize(gray, framing.work_shape)
        return Prepared(shape, fov, framing, work, framing.work_fov.mask(framing.work_shape))

    def tile_corners(self, inside: np.ndarray) -> np.ndarray:
        """Stage 2: (N, 2) top-left corners of the tiles, every ``stride`` pixels, that touch
        ``inside`` (a boolean working-scale mask); tiles wholly outside are skipped."""
        corners = tile_grid(inside.shape, self.tile, self.stride)
        t = self.tile
        return corners[[inside[y : y + t, x : x + t].any() for y, x in corners]]

    def tile_inputs(self, work: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """Stage 2: model inputs (N, tile, tile, 1) of the tiles at ``corners``, each
        contrast-stretched on its own as the training patches were."""
        return preprocess_patches(extract_tiles(work, corners, self.tile))

    def tile_probabilities(self, work: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, int]:
        """Stage 3: vessel probabilities (H, W) of a grayscale image already at the working
        scale (0 where no tile reached), and the tile count."""
        corners = self.tile_corners(inside)
        stitcher = Stitcher(work.shape, self.tile)
        for start in range(0, len(corners), TILES_PER_STEP):
            batch = corners[start : start + TILES_PER_STEP]
            stitcher.add(self.model.predict(self.tile_inputs(work, batch)), batch)
        return stitcher.result(), len(corners)

    def finish(
        self, prepared: Prepared, work_probability: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stage 4: probability (float32), mask (uint8) and field of view (bool), each (H, W),
        from working-scale probabilities."""
        shape, framing = prepared.shape, prepared.framing
        top, left, bottom, right = framing.box
        fov_mask = np.zeros(shape, dtype=bool)
        fov_mask[top:bottom, left:right] = prepared.fov.mask(shape, framing.box)
        probability = np.zeros(shape, dtype=np.float32)
        inside = probability[top:bottom, left:right]
        resize(work_probability, framing.crop_shape, out=inside)
        inside *= fov_mask[top:bottom, left:right]
        return probability, binarize(probability, self.threshold), fov_mask


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self.laps["total"] = round((now - self._start) * 1000, 2)
        self._last = now
