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
4. :class:`Result`: resize back to the photograph, threshold, zero outside the disc, a block of
   rows at a time (the photograph-sized probabilities are made only when asked for).
"""

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_runtime.contract.metrics import binarize
from edge_runtime.contract.preprocessing import preprocess_patches
from edge_runtime.inference.bundled import resolve_model
from edge_runtime.inference.patch_model import PatchModel, PatchPredictor
from edge_runtime.inference.signatures import TrustedKeys
from edge_runtime.pipeline.blocks import row_blocks
from edge_runtime.pipeline.decode import Photo, load_photo, photo_from_array
from edge_runtime.pipeline.fov import FieldOfView, Framing, detect_fov
from edge_runtime.pipeline.grayscale import to_grayscale
from edge_runtime.pipeline.resize import resize, upsample_rows
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


@dataclass(frozen=True)
class Prepared:
    """A photograph ready for the model.

    ``work`` is its field of view as float32 grayscale at the working scale, ``inside`` the disc
    there (boolean, same shape), ``framing`` how ``work`` was cut and scaled from the decoded
    pixels. ``shape`` is the photograph's own (H, W), ``fov`` its disc and ``box`` the framing's
    box in the photograph's own pixels (the decoded pixels may be reduced: see
    :class:`~edge_runtime.pipeline.decode.Photo`).
    """

    shape: tuple[int, int]
    fov: FieldOfView
    box: tuple[int, int, int, int]
    framing: Framing
    work: np.ndarray
    inside: np.ndarray


class Result:
    """A segmentation at the size of the input photograph (H, W).

    ``mask`` (uint8, 1 = vessel, 0 outside the field of view) and ``stats`` are made with the
    result. ``probability`` (float32) and ``fov`` (bool), each as large as the photograph, are
    made when first asked for, so a caller that needs only the mask never pays their memory;
    :meth:`probability_rows` gives the probabilities a block of rows at a time.
    """

    def __init__(self, prepared: Prepared, work_probability: np.ndarray, threshold: float):
        self._prepared, self._work_probability = prepared, work_probability
        self.threshold = threshold
        self.mask = np.zeros(prepared.shape, dtype=np.uint8)
        self.vessel_pixels = self.fov_pixels = 0
        for rows, fov, probability in self._rows():
            self.mask[rows] = binarize(probability, threshold)
            self.vessel_pixels += int(np.count_nonzero(self.mask[rows]))
            self.fov_pixels += int(np.count_nonzero(fov))
        self.stats: Stats | None = None

    @property
    def vessel_fraction(self) -> float:
        """Share of the field of view marked as vessel."""
        return self.vessel_pixels / self.fov_pixels if self.fov_pixels else 0.0

    def _fov_rows(self) -> Iterator[tuple[slice, np.ndarray]]:
        prepared = self._prepared
        height, width = prepared.shape
        for rows in row_blocks(height):
            yield rows, prepared.fov.mask(prepared.shape, (rows.start, 0, rows.stop, width))

    def probability_rows(self) -> Iterator[tuple[slice, np.ndarray]]:
        """(rows, float32 (rows, W) probabilities) down the photograph, a block at a time; 0
        outside the field of view."""
        for rows, _, probability in self._rows():
            yield rows, probability

    def _rows(self) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """(rows, field of view, probabilities) down the photograph, a block at a time."""
        prepared = self._prepared
        top, left, bottom, right = prepared.box
        crop_shape = (bottom - top, right - left)
        work = self._work_probability
        shrunk = None
        if crop_shape[0] < work.shape[0] or crop_shape[1] < work.shape[1]:
            shrunk = resize(work, crop_shape)  # a photograph smaller than the working scale
        for rows, fov in self._fov_rows():
            block = np.zeros(fov.shape, dtype=np.float32)
            first, last = max(rows.start, top), min(rows.stop, bottom)
            if first < last:
                inside = block[first - rows.start : last - rows.start, left:right]
                if shrunk is not None:
                    inside[...] = shrunk[first - top : last - top]
                else:
                    upsample_rows(work, crop_shape, first - top, last - top, out=inside)
            block *= fov
            yield rows, fov, block

    @functools.cached_property
    def probability(self) -> np.ndarray:
        """Vessel probabilities (H, W) float32, 0 outside the field of view."""
        out = np.empty(self._prepared.shape, dtype=np.float32)
        for rows, block in self.probability_rows():
            out[rows] = block
        return out

    @functools.cached_property
    def fov(self) -> np.ndarray:
        """The field of view (H, W) bool."""
        out = np.empty(self._prepared.shape, dtype=bool)
        for rows, block in self._fov_rows():
            out[rows] = block
        return out


def as_photo(image: "np.ndarray | str | Path | Photo") -> Photo:
    """A photograph to segment: a :class:`Photo`, decoded from a path, or a checked (H, W[, 3|4])
    uint8/uint16 array.

    Raises:
        InputError: the file cannot be used, or the array has the wrong shape or dtype.
    """
    if isinstance(image, Photo):
        return image
    if isinstance(image, (str, Path)):
        return load_photo(image)
    return photo_from_array(image)


def prepare(photo: Photo, fov_diameter: float, tile: int, channel: str = "luma") -> Prepared:
    """Stage 1: the field of view of a decoded photograph, in grayscale at the working scale
    (its disc ``fov_diameter`` pixels across; each side at least ``tile``)."""
    pixels, reduction = photo.pixels, photo.reduction
    fov = detect_fov(pixels)
    framing = fov.framing(pixels.shape[:2], fov_diameter, tile)
    top, left, bottom, right = framing.box
    gray = to_grayscale(pixels[top:bottom, left:right], channel)
    work = resize(gray, framing.work_shape)
    height, width = photo.shape
    box = (top * reduction, left * reduction,
           min(bottom * reduction, height), min(right * reduction, width))  # fmt: skip
    return Prepared(
        photo.shape, fov.enlarged(reduction), box, framing, work,
        framing.work_fov.mask(framing.work_shape),
    )  # fmt: skip


class Segmenter:
    """Segments vessels in whole fundus photographs with a LiteRT patch model.

    Args:
        model: a .tflite file; ``None`` for the model bundled with the package; or any
            :class:`~edge_runtime.inference.patch_model.PatchPredictor` (training runs its
            Keras models through the device's pipeline this way; the options that make a
            :class:`PatchModel` are then not used).
        threads: CPU threads of the interpreter.
        delegate: ``None`` (CPU) or ``"edgetpu"``.
        threshold: decision threshold; ``None`` for the model's own (from its model card).
        channel: grayscale conversion, ``"luma"`` or ``"green"``
            (:mod:`edge_runtime.pipeline.grayscale`); ``None`` for the model card's.
        fov_diameter: field-of-view diameter in pixels of the photographs the model was trained
            on; photographs are resized to match. ``None`` for the model card's (540 by
            default, the DRIVE photographs' disc).
        stride: tile stride in pixels of the resized photograph; ``None`` for
            :data:`STRIDE_SHARE` of the tile side.
        tta: test-time averaging, a key of :data:`edge_runtime.contract.symmetry.TTA_MODES`.
        trusted_keys: a folder of public keys the model must be signed by (see
            :class:`PatchModel`); ``None`` for ``$EDGE_SEG_TRUSTED_KEYS``.
    """

    def __init__(
        self,
        model: "str | Path | PatchPredictor | None" = None,
        threads: int = 1,
        delegate: str | None = None,
        threshold: float | None = None,
        channel: str | None = None,
        fov_diameter: float | None = None,
        stride: int | None = None,
        tta: str = "off",
        trusted_keys: TrustedKeys = None,
    ):
        if model is None or isinstance(model, (str, Path)):
            model = PatchModel(
                resolve_model(model), threads=threads, delegate=delegate, tta=tta,
                threshold=threshold, trusted_keys=trusted_keys,
            )  # fmt: skip
        self.model: PatchPredictor = model
        self.tile = self.model.side
        self.fov_diameter = self.model.card.fov_diameter if fov_diameter is None else fov_diameter
        stride = round(self.tile * STRIDE_SHARE) if stride is None else stride
        if not 1 <= stride <= self.tile:
            raise ValueError(f"got stride {stride}, expected 1..{self.tile}")
        self.channel = self.model.card.channel if channel is None else channel
        self.stride = stride

    @property
    def threshold(self) -> float:
        """The decision threshold in effect."""
        return self.model.threshold

    def segment(self, image: "np.ndarray | str | Path | Photo") -> Result:
        """Segment one photograph: a path, a decoded :class:`Photo`, or an (H, W) / (H, W, 3|4)
        uint8 or uint16 array."""
        clock = _Clock()
        photo = as_photo(image)
        clock.lap("decode")
        prepared = self.prepare(photo)
        clock.lap("fov_and_resize")
        work_probability, tiles = self.tile_probabilities(prepared.work, prepared.inside)
        clock.lap("tiles_and_inference")
        result = Result(prepared, work_probability, self.threshold)
        clock.lap("stitch_and_threshold")
        fov = prepared.fov
        result.stats = Stats(
            vessel_fraction=result.vessel_fraction,
            tiles=tiles,
            scale=prepared.framing.scale / photo.reduction,
            fov_found=fov.found,
            fov_center=(fov.center_y, fov.center_x),
            fov_radius=fov.radius,
            ms=clock.laps,
        )
        return result

    def prepare(self, photo: Photo) -> Prepared:
        """Stage 1 (:func:`prepare`) with this segmenter's settings."""
        return prepare(photo, self.fov_diameter, self.tile, self.channel)

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


@dataclass(frozen=True)
class SegmenterSettings:
    """What builds a :class:`Segmenter` in each worker: the constructor's arguments the command
    line sets (``fov_diameter`` and ``stride`` are the model card's and the default)."""

    model: str | None = None
    threads: int = 1
    delegate: str | None = None
    threshold: float | None = None
    channel: str | None = None
    tta: str = "off"
    trusted_keys: str | None = None

    def build(self) -> "Segmenter":
        return Segmenter(
            self.model, threads=self.threads, delegate=self.delegate, threshold=self.threshold,
            channel=self.channel, tta=self.tta, trusted_keys=self.trusted_keys,
        )  # fmt: skip


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self.laps["total"] = round((now - self._start) * 1000, 2)
        self._last = now
