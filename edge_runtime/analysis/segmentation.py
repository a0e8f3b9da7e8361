"""The Python API's segmenter and result: the pipeline's, with the verdict on the photograph
and the measurements of its vessel map read from what segmentation made.

    from edge_runtime import CameraScale, Segmenter
    result = Segmenter().segment("photo.jpg")
    result.verdict.summary()              # "ok", "retake: blurred (...)", "not a fundus ..."
    result.measurements.vessels.d0        # computed when first asked for
    result.measure(CameraScale(field_degrees=45)).vessels.length_mm   # and in millimetres

Both only read the segmentation (mask and probabilities stay those of the pipeline), and
both are computed when first asked for: the verdict from the decoded photograph, its field of
view at the working scale and the working-scale probabilities (a few per cent of the
segmentation's time, benchmarks/verdict_cost.py), never from photograph-sized arrays; the
measurements from the mask inside the detected field of view, in pixels (seconds on a large
photograph, benchmarks/measure_cost.py).
"""

import functools

from edge_runtime.contract.measurement_record import MapMeasurements
from edge_runtime.measure.field import field_from_mask
from edge_runtime.measure.maps import VesselMap
from edge_runtime.measure.measurements import analyse_map
from edge_runtime.measure.scale import PIXELS_ONLY, CameraScale
from edge_runtime.pipeline import segmenter
from edge_runtime.verdict import Verdict, assess


class Result(segmenter.Result):
    """A segmentation (:class:`edge_runtime.pipeline.segmenter.Result`) with its
    :attr:`verdict` and :attr:`measurements`."""

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
        """The vascular measurements of the mask inside the detected field of view, in pixels
        and, when the ``camera``'s scale is known (its field of view in degrees, across the
        detected one, or its pixel size), in millimetres."""
        field = field_from_mask(self.fov)
        vessels = VesselMap(self.mask.astype(bool))
        return analyse_map(vessels, field, camera.scale(field.diameter_px)).measurements


class Segmenter(segmenter.Segmenter):
    """The pipeline's segmenter (:class:`edge_runtime.pipeline.segmenter.Segmenter`, the same
    arguments), whose results have a verdict and measurements."""

    result_type = Result
