"""The verdict on a photograph: with what segmentation already made (:func:`assess`), or alone,
fast, for a camera's capture loop (:func:`assess_capture`: no model)."""

from pathlib import Path

import numpy as np
from PIL import Image

from edge_runtime.contract.metrics import THRESHOLD_RANGE
from edge_runtime.contract.model_card import FOV_DIAMETER
from edge_runtime.contract.preprocessing import PATCH_SIZE
from edge_runtime.pipeline.decode import Photo
from edge_runtime.pipeline.segmenter import Prepared, Segmenter, as_photo, prepare
from edge_runtime.verdict.measures import measure
from edge_runtime.verdict.verdict import Verdict, judge
from edge_runtime.verdict.vessels import measure_vessels

CAPTURE_CHANNEL = "green"
"""The grayscale :func:`assess_capture` judges: the bundled model's channel, the one the
limits were calibrated in."""


_ROUNDING = 1e-5
"""How far stitched probabilities may stray outside [0, 1] by float rounding (NaN never
passes)."""


def assess(
    photo: Photo,
    prepared: Prepared,
    probability: np.ndarray | None = None,
    threshold: float | None = None,
) -> Verdict:
    """The verdict on a decoded photograph and what
    :meth:`~edge_runtime.pipeline.segmenter.Segmenter.prepare` made of it (the photograph is
    measured as the limits were calibrated: prepared again if ``prepared`` is at another
    working size or channel); with the model's working-scale vessel ``probability`` (the shape
    of ``prepared.work``) and its decision ``threshold``, the vessel map's measurements count
    too.

    Raises:
        ValueError: ``probability`` is not the working scale's shape or holds values outside
            [0, 1] (NaN among them), or the threshold is missing or outside
            :data:`~edge_runtime.contract.metrics.THRESHOLD_RANGE`.
    """
    vessels = None
    if probability is not None:
        low, high = THRESHOLD_RANGE
        if np.shape(probability) != prepared.work.shape or not (
            threshold is not None and low <= threshold <= high  # NaN fails
        ):
            raise ValueError(
                f"got probabilities of shape {np.shape(probability)} and threshold "
                f"{threshold}, expected shape {prepared.work.shape} and a threshold in "
                f"[{low}, {high}]"
            )
        if not (np.min(probability) >= -_ROUNDING and np.max(probability) <= 1 + _ROUNDING):
            raise ValueError("got probabilities outside [0, 1], expected the model's")
        vessels = measure_vessels(probability, prepared.inside, threshold)
    return judge(measure(photo, _as_calibrated(photo, prepared)), vessels)


def _as_calibrated(photo: Photo, prepared: Prepared) -> Prepared:
    """``prepared`` when it is what the limits were calibrated on (the bundled model's working
    size and :data:`CAPTURE_CHANNEL`), else the photograph prepared so: a segmenter of another
    working size or channel read its sharpness and noise at that scale (one photograph
    ``blurred`` by these limits read ``ok`` at 300 or 1000 pixels across)."""
    if prepared.fov_diameter == FOV_DIAMETER and prepared.channel == CAPTURE_CHANNEL:
        return prepared
    return prepare(photo, FOV_DIAMETER, PATCH_SIZE, CAPTURE_CHANNEL)


def assess_capture(image: "np.ndarray | str | Path | Image.Image | Photo") -> Verdict:
    """The verdict without the model, for the capture loop: a path, a decoded :class:`Photo`,
    a Pillow image or an (H, W[, 3|4]) uint8/uint16 array, prepared as the bundled model would
    see it.

    Raises:
        InputError: the file cannot be read or the array cannot be a photograph.
    """
    photo = as_photo(image)
    return assess(photo, prepare(photo, FOV_DIAMETER, PATCH_SIZE, CAPTURE_CHANNEL))


def assess_with_model(
    segmenter: Segmenter, image: "np.ndarray | str | Path | Image.Image | Photo"
) -> Verdict:
    """The verdict with the vessel map of ``segmenter``'s model counted too (it segments the
    photograph: a model's time, not the capture loop's)."""
    photo = as_photo(image)
    prepared = segmenter.prepare(photo)
    probability, _ = segmenter.tile_probabilities(prepared.work, prepared.inside)
    return assess(photo, prepared, probability, segmenter.threshold)
