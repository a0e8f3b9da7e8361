"""The Python API's segmenter and result: the pipeline's, with the verdict on the photograph,
its arteries and veins when an artery/vein model is chained, and the measurements of its
vessel map read from what segmentation made.

    from edge_runtime import ArteryVeinModel, CameraScale, Segmenter
    result = Segmenter().segment("photo.jpg")
    result.verdict.summary()              # "ok", "retake: blurred (...)", "not a fundus ..."
    result.measurements.vessels.d0        # computed when first asked for
    result.measure(CameraScale(field_degrees=45)).vessels.length_mm   # and in millimetres
    Segmenter(artery_vein=ArteryVeinModel()).segment("photo.jpg").artery_vein  # ArteryVein codes

All only read the segmentation (mask and probabilities stay those of the pipeline), and all
are computed when first asked for: the verdict from the decoded photograph, its field of view
at the working scale and the working-scale probabilities (a few per cent of the segmentation's
time, benchmarks/verdict_cost.py), never from photograph-sized arrays; the arteries and veins
by the second model at the working scale; the measurements from the mask (and the arteries and
veins, when there are) inside the detected field of view, in pixels (seconds on a large
photograph, benchmarks/measure_cost.py).
"""

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_runtime.contract.artery_vein_classes import ArteryVein, classes_from_probability
from edge_runtime.contract.measurement_record import MapMeasurements
from edge_runtime.contract.segmenter_config import DEFAULT_CONFIG, SegmenterConfig
from edge_runtime.inference.patch_model import PatchPredictor
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.measure.field import field_from_mask
from edge_runtime.measure.maps import VesselMap
from edge_runtime.measure.measurements import analyse_map
from edge_runtime.measure.scale import PIXELS_ONLY, CameraScale
from edge_runtime.pipeline import segmenter
from edge_runtime.pipeline.artery_vein import ArteryVeinModel
from edge_runtime.verdict import Verdict, assess


class Result(segmenter.Result):
    """A segmentation (:class:`edge_runtime.pipeline.segmenter.Result`) with its
    :attr:`verdict`, :attr:`artery_vein` and :attr:`measurements`."""

    artery_vein_model: ArteryVeinModel | None = None
    """The artery/vein model its segmenter chains after the vessel model, if any."""

    @functools.cached_property
    def work_artery_probability(self) -> np.ndarray | None:
        """Each working-scale pixel's probability of being an artery (the shape of
        ``prepared.work``), or ``None`` without an artery/vein model."""
        if self.artery_vein_model is None:
            return None
        return self.artery_vein_model.artery_probability(
            self.photo, self.prepared, self.work_probability
        )

    @functools.cached_property
    def artery_vein(self) -> np.ndarray | None:
        """The arteries and veins (H, W) int8 :class:`ArteryVein` codes: each vessel pixel of
        :attr:`mask` an artery or a vein, the rest background; ``None`` without an artery/vein
        model."""
        artery = self.work_artery_probability
        if artery is None:
            return None
        out = np.empty(self.prepared.shape, dtype=np.int8)
        for rows, _, probability in self.working_rows(artery):
            out[rows] = classes_from_probability(self.mask[rows], probability)
        return out

    @functools.cached_property
    def verdict(self) -> Verdict:
        """The verdict on the photograph, its vessel map counted
        (:func:`edge_runtime.verdict.assess`)."""
        return assess(self.photo, self.prepared, self.work_probability, self.threshold)

    @functools.cached_property
    def measurements(self) -> MapMeasurements:
        """The vascular measurements of the mask inside the detected field of view, in pixels
        (firmware_notes/MEASUREMENTS.md): :meth:`measure` without a scale."""
        return self.measure()

    def measure(self, camera: CameraScale = PIXELS_ONLY) -> MapMeasurements:
        """The vascular measurements of the mask (and of its arteries and veins, with an
        artery/vein model) inside the detected field of view, in pixels and, when the
        ``camera``'s scale is known (its field of view in degrees, across the detected one, or
        its pixel size), in millimetres."""
        field = field_from_mask(self.fov)
        classes = self.artery_vein
        vessels = VesselMap(self.mask.astype(bool))
        if classes is not None:
            arteries, veins = classes == ArteryVein.ARTERY, classes == ArteryVein.VEIN
            vessels = VesselMap(vessels.vessels, arteries, veins)
        return analyse_map(vessels, field, camera.scale(field.diameter_px)).measurements


class Segmenter(segmenter.Segmenter):
    """The pipeline's segmenter (:class:`edge_runtime.pipeline.segmenter.Segmenter`, the same
    arguments), whose results have a verdict and measurements, and arteries and veins when
    ``artery_vein`` (an :class:`ArteryVeinModel`, or what builds one: a file, its options) is
    given."""

    result_type = Result

    def __init__(
        self,
        model: "str | Path | RuntimeOptions | PatchPredictor | None" = None,
        config: SegmenterConfig = DEFAULT_CONFIG,
        artery_vein: "ArteryVeinModel | str | Path | RuntimeOptions | None" = None,
    ):
        super().__init__(model, config)
        if artery_vein is not None and not isinstance(artery_vein, ArteryVeinModel):
            artery_vein = ArteryVeinModel(artery_vein)
        self.artery_vein = artery_vein

    def segment(self, image) -> Result:
        """The pipeline's :meth:`~edge_runtime.pipeline.segmenter.Segmenter.segment`, its
        result chained to this segmenter's artery/vein model."""
        result = super().segment(image)
        result.artery_vein_model = self.artery_vein
        return result

    def recipe(self) -> Callable[[], "Segmenter"] | None:
        """The pipeline's :meth:`~edge_runtime.pipeline.segmenter.Segmenter.recipe`, with the
        artery/vein model's options; ``None`` when either runs no model file."""
        vessels = super().recipe()
        if vessels is None or self.artery_vein is None:
            return vessels
        if self.artery_vein.runtime is None:
            return None
        return functools.partial(vessels, artery_vein=self.artery_vein.runtime)
