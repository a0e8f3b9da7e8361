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

from collections.abc import Callable
from typing import TypeVar

from edge_runtime.cached import cached_property
from edge_runtime.contract.measurement_record import MapMeasurements
from edge_runtime.measure.field import field_from_mask, whole_frame
from edge_runtime.measure.maps import VesselMap
from edge_runtime.measure.measurements import analyse_map, refuse_too_much_of_the_field
from edge_runtime.measure.scale import PIXELS_ONLY, CameraScale
from edge_runtime.pipeline import segmenter
from edge_runtime.verdict import Verdict, assess

_T = TypeVar("_T")


class Result(segmenter.Result):
    """A segmentation (:class:`edge_runtime.pipeline.segmenter.Result`, its arteries and veins
    included) with its :attr:`verdict` and :attr:`measurements`."""

    @cached_property
    def verdict(self) -> Verdict:
        """The verdict on the photograph, its vessel map counted
        (:func:`edge_runtime.verdict.assess`)."""
        return assess(self.photo, self.prepared, self.work_probability, self.threshold)

    @cached_property
    def measurements(self) -> MapMeasurements:
        """The vascular measurements of the mask inside the detected field of view (the whole
        frame where none was), in pixels (firmware_notes/MEASUREMENTS.md): :meth:`measure`
        without a scale."""
        return self.measure()

    def measure(self, camera: CameraScale = PIXELS_ONLY) -> MapMeasurements:
        """The vascular measurements of the mask (and of its arteries and veins, with an
        artery/vein model) inside the detected field of view (the whole frame where none was),
        in pixels and, when the ``camera``'s scale is known (its pixel size, or its field of
        view in degrees across the detected one: none where none was detected), in millimetres.

        Raises:
            TypeError: ``camera`` is not a :class:`CameraScale`.
            NoScale: its field of view in degrees over the field detected makes no pixel size
                a camera has (:meth:`CameraScale.scale`).
            NotVessels: the mask is no vessel map to measure (the model marked more than half
                the field: :func:`~edge_runtime.measure.measurements.analyse_map`).
        """
        if not isinstance(camera, CameraScale):
            raise TypeError(f"got camera {camera!r}, expected a CameraScale")
        if self.stats.fov_found:
            field = field_from_mask(_kept_or_made(self, "fov", self.make_fov))
        else:  # the whole frame, as measure calls it (its disc the short side's)
            field = whole_frame(self.mask.shape)
        vessels = self.mask.view(bool)  # the mask is 0/1: no copy
        refuse_too_much_of_the_field(vessels, field)  # before the scale and the second model
        scale = camera.scale(field.spanned_px)
        classes = _kept_or_made(self, "artery_vein", self.make_artery_vein)
        return analyse_map(VesselMap(vessels, classes), field, scale).measurements


def _kept_or_made(result: Result, name: str, make: Callable[[], _T]) -> _T:
    r"""The result's photograph-sized map ``name`` when it keeps one, else one ``make``\ s for a
    single use: measuring leaves no field or artery/vein map the photograph's size behind while
    the outputs are written."""
    return vars(result)[name] if name in vars(result) else make()


class Segmenter(segmenter.Segmenter):
    """The pipeline's segmenter (:class:`edge_runtime.pipeline.segmenter.Segmenter`, the same
    arguments, an artery/vein model among them), whose results have a verdict and
    measurements."""

    result_type = Result
