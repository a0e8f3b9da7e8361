"""Whole-photograph vessel segmentation: the device's Python API.

    from edge_runtime import RuntimeOptions, Segmenter, SegmenterConfig
    result = Segmenter().segment("photo.jpg")   # bundled model; or Segmenter("model.tflite")
    result.mask        # (H, W) uint8, 1 = vessel, 0 outside the field of view
    result.stats       # vessel fraction, tiles, milliseconds per stage
    Segmenter(RuntimeOptions("model.tflite", threads=2), SegmenterConfig(tta="flip"))
    Segmenter(artery_vein=ArteryVeinModel()).segment("photo.jpg").artery_vein  # a second output

The pipeline, stage by stage (each a public method, so evaluation and benchmarks can stop or
look in between):

1. :meth:`Segmenter.prepare`: decode, grayscale, find the field-of-view disc, cut it out and
   resize it so that its diameter matches the training photographs;
2. :meth:`Segmenter.tile_corners` and :meth:`Segmenter.tile_inputs`: overlapping tiles inside
   the disc, each contrast-stretched on its own as the training patches were;
3. :meth:`Segmenter.tile_probabilities`: inference in batches and weighted, seam-free stitching;
4. :class:`Result`: resize back to the photograph, threshold, zero outside the disc, a block of
   rows at a time (the photograph-sized probabilities are made only when asked for);
5. with an artery/vein model chained (:mod:`edge_runtime.pipeline.artery_vein`), the class of
   each vessel pixel, when first asked for (:attr:`Result.artery_vein`).
"""

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.cached import cached_property
from edge_runtime.contract.artery_vein_classes import classes_from_probability
from edge_runtime.contract.metrics import binarize
from edge_runtime.contract.preprocessing import preprocess_patches
from edge_runtime.contract.provenance import SOFTWARE, Provenance
from edge_runtime.contract.segmenter_config import DEFAULT_CONFIG, SegmenterConfig
from edge_runtime.contract.symmetry import TTA_MODES, symmetry_average
from edge_runtime.errors import ModelError
from edge_runtime.inference.patch_model import PatchModel, PatchPredictor, as_predictor
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.inference.signatures import UNCHECKED
from edge_runtime.memory import keep_freed_memory
from edge_runtime.pipeline.artery_vein import ArteryVeinModel
from edge_runtime.pipeline.blocks import row_blocks
from edge_runtime.pipeline.decode import (
    Photo,
    check_sides,
    load_photo,
    photo_from_array,
    photo_from_picture,
)
from edge_runtime.pipeline.fov import FieldOfView, Framing, detect_fov
from edge_runtime.pipeline.grayscale import to_grayscale
from edge_runtime.pipeline.resize import resize, upsample_rows
from edge_runtime.pipeline.tiling import corners_inside, extract_tiles, stitch_tiles


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
    :class:`~edge_runtime.pipeline.decode.Photo`). ``fov_diameter`` and ``channel`` are what
    it was prepared with.
    """

    shape: tuple[int, int]
    fov: FieldOfView
    box: tuple[int, int, int, int]
    framing: Framing
    work: np.ndarray
    inside: np.ndarray
    fov_diameter: float
    channel: str


class Result:
    """A segmentation at the size of the input photograph (H, W).

    ``mask`` (uint8, 1 = vessel, 0 outside the field of view) and ``stats`` are made with the
    result. ``probability`` (float32) and ``fov`` (bool), each as large as the photograph, are
    made when first asked for, so a caller that needs only the mask never pays their memory;
    :meth:`probability_rows` gives the probabilities a block of rows at a time. What they were
    made from stays: the decoded ``photo`` (its pixels as decoded, reduced where it is large,
    and no copy of an array at its own size: :meth:`Photo.without_original`), what
    :func:`prepare` made of it (``prepared``) and the probabilities at the working scale
    (``work_probability``, the shape of ``prepared.work``). With an ``artery_vein_model``
    chained, :attr:`artery_vein` classes each vessel pixel, when first asked for.
    """

    def __init__(
        self,
        photo: Photo,
        prepared: Prepared,
        work_probability: np.ndarray,
        threshold: float,
        artery_vein_model: ArteryVeinModel | None = None,
    ):
        self.photo = photo.without_original()  # no full-size copy of an array
        self.prepared, self.work_probability = prepared, work_probability
        self.threshold, self.artery_vein_model = threshold, artery_vein_model
        self.mask = np.zeros(prepared.shape, dtype=np.uint8)
        self.vessel_pixels = self.fov_pixels = 0
        for rows, fov, probability in self.working_rows(work_probability):
            self.mask[rows] = binarize(probability, threshold)
            self.vessel_pixels += int(np.count_nonzero(self.mask[rows]))
            self.fov_pixels += int(np.count_nonzero(fov))
        self.stats: Stats | None = None

    @property
    def vessel_fraction(self) -> float:
        """Share of the field of view marked as vessel."""
        return self.vessel_pixels / self.fov_pixels if self.fov_pixels else 0.0

    def _fov_rows(self) -> Iterator[tuple[slice, np.ndarray]]:
        prepared = self.prepared
        height, width = prepared.shape
        for rows in row_blocks(height, width):
            yield rows, prepared.fov.mask(prepared.shape, (rows.start, 0, rows.stop, width))

    def probability_rows(self) -> Iterator[tuple[slice, np.ndarray]]:
        """(rows, float32 (rows, W) probabilities) down the photograph, a block at a time; 0
        outside the field of view."""
        for rows, _, probability in self.working_rows(self.work_probability):
            yield rows, probability

    def box_rows(self, work: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """(rows, values) down the photograph, a block at a time: a float map of the framing's
        box at any scale (the working scale's: the shape of ``prepared.work``) brought to the
        photograph's size, 0 outside the box (:meth:`working_rows` also zeroes what lies
        outside the field of view)."""
        prepared = self.prepared
        top, left, bottom, right = prepared.box
        crop_shape = (bottom - top, right - left)
        shrunk = None
        if crop_shape[0] < work.shape[0] or crop_shape[1] < work.shape[1]:
            shrunk = resize(work, crop_shape)  # a photograph smaller than the working scale
        for rows in row_blocks(*prepared.shape):
            block = np.zeros((rows.stop - rows.start, prepared.shape[1]), dtype=np.float32)
            first, last = max(rows.start, top), min(rows.stop, bottom)
            if first < last:
                inside = block[first - rows.start : last - rows.start, left:right]
                if shrunk is not None:
                    inside[...] = shrunk[first - top : last - top]
                else:
                    upsample_rows(work, crop_shape, first - top, last - top, out=inside)
            yield rows, block

    def working_rows(self, work: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """(rows, field of view, values) down the photograph, a block at a time: :meth:`box_rows`
        of ``work``, 0 outside the field of view."""
        for (rows, block), (_, fov) in zip(self.box_rows(work), self._fov_rows(), strict=True):
            block *= fov
            yield rows, fov, block

    @cached_property
    def probability(self) -> np.ndarray:
        """Vessel probabilities (H, W) float32, 0 outside the field of view."""
        out = np.empty(self.prepared.shape, dtype=np.float32)
        for rows, block in self.probability_rows():
            out[rows] = block
        return out

    @cached_property
    def work_artery_probability(self) -> np.ndarray | None:
        """Each pixel's probability of being an artery, at the artery/vein model's working scale
        (:meth:`~edge_runtime.pipeline.artery_vein.ArteryVeinModel.artery_probability`), or
        ``None`` without an artery/vein model or for a photograph without colour."""
        if self.artery_vein_model is None:
            return None
        return self.artery_vein_model.artery_probability(
            self.photo, self.prepared, self.work_probability
        )

    @cached_property
    def artery_vein(self) -> np.ndarray | None:
        """The arteries and veins (H, W) int8
        :class:`~edge_runtime.contract.artery_vein_classes.ArteryVein` codes: each vessel pixel
        of :attr:`mask` an artery or a vein, the rest background; ``None`` without an
        artery/vein model or for a photograph without colour (a red-free or monochrome
        camera's, or one tinted: arteries and veins are told apart by colour)."""
        return self.make_artery_vein()

    def make_artery_vein(self) -> np.ndarray | None:
        """A new :attr:`artery_vein` map, not kept (for a caller that needs it only once)."""
        artery = self.work_artery_probability
        if artery is None:
            return None
        out = np.empty(self.prepared.shape, dtype=np.int8)
        for rows, probability in self.box_rows(artery):  # the mask is 0 outside the field
            out[rows] = classes_from_probability(self.mask[rows], probability)
        return out

    @cached_property
    def fov(self) -> np.ndarray:
        """The field of view (H, W) bool."""
        return self.make_fov()

    def make_fov(self) -> np.ndarray:
        """A new :attr:`fov` map, not kept (for a caller that needs it only once)."""
        out = np.empty(self.prepared.shape, dtype=bool)
        for rows, block in self._fov_rows():
            out[rows] = block
        return out


def as_photo(image: "np.ndarray | str | os.PathLike | Image.Image | Photo") -> Photo:
    """A photograph to segment: a :class:`Photo`, decoded from a path (``str`` or any
    ``os.PathLike``), a Pillow image (its mode read as a file's), or a checked (H, W[, 3|4])
    uint8/uint16 array (a picture's or array's pixels as decoded, reduced where large: never
    copied whole then, :func:`~edge_runtime.pipeline.decode.photo_from_array`).

    Raises:
        InputError: the file or picture cannot be used, or the array has the wrong shape or
            dtype.
        TypeError: ``image`` is none of these.
    """
    if isinstance(image, Photo):
        return check_sides(image)
    if isinstance(image, (str, os.PathLike)):  # os.DirEntry, PurePath... (bytes: a file's?)
        return load_photo(os.fsdecode(image))
    if isinstance(image, Image.Image):
        return photo_from_picture(image, keep_original=False)
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"got a {type(image).__name__} to segment, expected a path, a Pillow image, a "
            "Photo or a numpy array"
        )
    return photo_from_array(image, keep_original=False)


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
    box = (
        top * reduction,
        left * reduction,
        min(bottom * reduction, height),
        min(right * reduction, width),
    )
    inside = framing.work_fov.mask(framing.work_shape)
    return Prepared(
        photo.shape, fov.enlarged(reduction), box, framing, work, inside, fov_diameter, channel
    )


def _chained(
    artery_vein: "ArteryVeinModel | str | os.PathLike | RuntimeOptions", keys: object
) -> ArteryVeinModel:
    """The artery/vein model to chain, checked against the vessel model's trusted ``keys``
    (its :class:`RuntimeOptions`' setting) where its own options name none: keys given for the
    vessel model once left the second unchecked.

    Raises:
        ModelError: an :class:`ArteryVeinModel` built unchecked, beside keys given.
    """
    if isinstance(artery_vein, ArteryVeinModel):
        model = artery_vein.model
        checked = keys is not None and keys is not UNCHECKED
        if checked and isinstance(model, PatchModel) and model.signature is None:
            raise ModelError(
                f"{model.path}: the artery/vein model was made without trusted keys, which the "
                "vessel model is checked against: make it with RuntimeOptions(..., "
                "trusted_keys=...) or pass its file"
            )
        return artery_vein
    if isinstance(artery_vein, (str, os.PathLike)):
        artery_vein = RuntimeOptions(artery_vein)
    if isinstance(artery_vein, RuntimeOptions) and artery_vein.trusted_keys is None:
        artery_vein = dataclasses.replace(artery_vein, trusted_keys=keys)
    return ArteryVeinModel(artery_vein)


class Segmenter:
    """Segments vessels in whole fundus photographs with a patch model.

    Args:
        model: a .tflite file, or :class:`~edge_runtime.inference.runtime_options.RuntimeOptions`
            to say also how its interpreter runs (threads, delegate, trusted keys); ``None`` for
            the model bundled with the package; or any
            :class:`~edge_runtime.inference.patch_model.PatchPredictor` (training and the gate
            run Keras models through the device's pipeline this way).
        config: how it decides (:class:`~edge_runtime.contract.segmenter_config.SegmenterConfig`:
            threshold, channel, working size, stride, test-time averaging); what it leaves to
            the model is taken from the model's card.
        artery_vein: an artery/vein model to chain after the vessel model
            (:class:`~edge_runtime.pipeline.artery_vein.ArteryVeinModel`, or what builds one: a
            file, its :class:`RuntimeOptions`), or ``None`` for vessels only. Trusted keys
            given for the vessel model hold for it too, unless its options name their own; one
            already built unchecked, beside a vessel model checked so, is refused.

    :attr:`config` is the configuration in effect, every value filled. A segmenter built from a
    model file also has :attr:`runtime`, the options that built its model, the checked bytes
    included: :meth:`recipe` builds the same segmenter in another process without opening the
    files again. One built on another predictor has ``None``. :attr:`provenance` is what its
    outputs record of what made them: the package, the models' versions and SHA-256, and
    :attr:`config`.

    The first segmenter of a process has glibc's ``malloc`` keep a photograph's freed memory for
    the next (:func:`~edge_runtime.memory.keep_freed_memory`), unless the environment tunes
    ``malloc`` itself.

    Raises:
        ModelError: the model file is not a usable vessel model, or the artery/vein model is
            unchecked beside a vessel model checked against trusted keys.
        ValueError: ``config`` does not fit the model (a stride larger than its tile).
    """

    result_type: type[Result] = Result
    """What :meth:`segment` returns (a subclass may read more from it)."""

    def __init__(
        self,
        model: "str | Path | RuntimeOptions | PatchPredictor | None" = None,
        config: SegmenterConfig = DEFAULT_CONFIG,
        artery_vein: "ArteryVeinModel | str | Path | RuntimeOptions | None" = None,
    ):
        keep_freed_memory()
        if not isinstance(config, SegmenterConfig):
            raise TypeError(f"got config {config!r}, expected a SegmenterConfig")
        keys = model.trusted_keys if isinstance(model, RuntimeOptions) else None
        if artery_vein is not None:
            artery_vein = _chained(artery_vein, keys)
        self.artery_vein = artery_vein
        model = as_predictor(model)
        self.model: PatchPredictor = model
        self.runtime = model.options if isinstance(model, PatchModel) else None
        self.config = config.resolved(model.card)
        self.tile = model.side

    @property
    def threshold(self) -> float:
        """The decision threshold in effect (that of :attr:`config`)."""
        return self.config.threshold

    @property
    def provenance(self) -> Provenance:
        """What its results are made by: the package, the models' versions and SHA-256, and
        :attr:`config`."""
        model, chained = self.model, self.artery_vein
        return Provenance(
            SOFTWARE,
            model.identity if isinstance(model, PatchModel) else None,
            self.config,
            None if chained is None else chained.identity,
        )

    @property
    def model_name(self) -> str:
        """What reports call the model: its file, or the kind of another predictor."""
        return str(self.runtime.model) if self.runtime else type(self.model).__name__

    def segment(self, image: "np.ndarray | str | Path | Image.Image | Photo") -> Result:
        """Segment one photograph: a path, a decoded :class:`Photo`, a Pillow image, or an
        (H, W) / (H, W, 3|4) uint8 or uint16 array (copied: the caller may reuse its buffer)."""
        clock = _Clock()
        photo = as_photo(image)
        clock.lap("decode")
        prepared = self.prepare(photo)
        clock.lap("fov_and_resize")
        work_probability, tiles = self.tile_probabilities(prepared.work, prepared.inside)
        clock.lap("tiles_and_inference")
        result = self.result_type(
            photo, prepared, work_probability, self.config.threshold, self.artery_vein
        )
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

    def recipe(self) -> Callable[[], "Segmenter"] | None:
        """What builds this segmenter again in another process (picklable, from the checked
        model bytes, never the files again), or ``None`` when it runs a model that is no file."""
        chained = self.artery_vein
        if self.runtime is None or (chained is not None and chained.runtime is None):
            return None
        return functools.partial(type(self), self.runtime, self.config, chained and chained.runtime)

    def prepare(self, photo: Photo) -> Prepared:
        """Stage 1 (:func:`prepare`) with this segmenter's configuration."""
        return prepare(photo, self.config.fov_diameter, self.tile, self.config.channel)

    def tile_corners(self, inside: np.ndarray) -> np.ndarray:
        """Stage 2: (N, 2) top-left corners of the tiles, every ``config.stride`` pixels, that
        touch ``inside`` (a boolean working-scale mask); tiles wholly outside are skipped."""
        return corners_inside(inside, self.tile, self.config.stride)

    def tile_inputs(self, work: np.ndarray, corners: np.ndarray) -> np.ndarray:
        """Stage 2: model inputs (N, tile, tile, 1) of the tiles at ``corners``, each
        contrast-stretched on its own as the training patches were."""
        return preprocess_patches(extract_tiles(work, corners, self.tile))

    def tile_probabilities(self, work: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, int]:
        """Stage 3: vessel probabilities (H, W) of a grayscale image already at the working
        scale (0 where no tile reached), and the tile count."""
        corners = self.tile_corners(inside)

        def predict(batch: np.ndarray) -> np.ndarray:
            return self.patch_probabilities(self.tile_inputs(work, batch))

        return stitch_tiles(work.shape, self.tile, corners, predict), len(corners)

    def patch_probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """Vessel probabilities (N, tile, tile) of model inputs (N, tile, tile, 1), averaged
        over the symmetries of ``config.tta`` (each one more model run)."""
        return symmetry_average(self.model.predict, inputs, TTA_MODES[self.config.tta])

    def patch_masks(self, patches: np.ndarray) -> np.ndarray:
        """Binary uint8 vessel masks (N, tile, tile) of raw grayscale patches, each
        preprocessed on its own as in training, at the decision threshold."""
        probabilities = self.patch_probabilities(preprocess_patches(patches))
        return binarize(probabilities, self.config.threshold)


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 2)
        self.laps["total"] = round((now - self._start) * 1000, 2)
        self._last = now
