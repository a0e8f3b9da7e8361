"""The verdict's vocabulary and limits, defined once: each reason a photograph can be refused
for, in plain words, and the measurement and limit that trigger it.

The limits were chosen by leave-one-camera-out calibration on degraded labelled photographs of
four cameras (benchmarks/verdict_calibration.py; results and method in
firmware_notes/VERDICT.md).
"""

import math
from dataclasses import dataclass

from edge_runtime.contract.verdict_record import RED_BLUE_SWAPPED

NOT_FUNDUS = "not-fundus"
UNSURE_VESSELS = "unsure-vessels"

REASONS: dict[str, str] = {
    NOT_FUNDUS: "not a retinal photograph: not the orange-red of a fundus, or no fundus's detail",
    RED_BLUE_SWAPPED: "with not-fundus: its colour is a fundus's with red and blue swapped, and "
    "it passes every other test of a fundus: the camera software handed over BGR (OpenCV's "
    "order), not RGB",
    "blurred": "out of focus or moved: fine vessels are smeared",
    "too-dark": "under-exposed: too little light for the vessels to show",
    "over-exposed": "over-exposed: part of the field is clipped white",
    "uneven-light": "part of the field is in shadow (an eyelid, lashes, a small pupil)",
    "field-cut-off": "part of the field of view lies outside the frame, or the frame is a "
    "narrow strip of it",
    "off-centre": "the field of view is far from the frame's centre",
    "low-contrast": "washed out (haze, a cataract, a dirty lens): vessels barely darker than "
    "the retina",
    "noisy": "grainy: sensor noise as strong as the vessels' contrast",
    "compressed": "JPEG compression artefacts (blocks) that hide fine vessels: the camera "
    "should save at a higher quality",
    UNSURE_VESSELS: "the model is unsure of most of the vessels it marks: noise or blur the "
    "other checks miss (a small photograph enlarged, noise smoothed by the camera), or no "
    "fundus at all",
}
"""Every reason code and what it means to the operator."""


@dataclass(frozen=True)
class Check:
    """A reason's trigger: ``code`` when the measurement ``measure`` (a field of
    :class:`~edge_runtime.verdict.measures.Measurements`) is below ``limit`` (``below``) or
    above it. ``clean`` is its typical value on clean photographs: the quality score counts how
    far from it towards the limit a photograph lies, on a logarithmic scale for a
    ``logarithmic`` measurement (a ratio), where halving is the same step at any level
    (``clean`` is ``None`` for the checks of :data:`FUNDUS_CHECKS`, which are pass or fail)."""

    code: str
    measure: str
    limit: float
    below: bool
    clean: float | None = None
    logarithmic: bool = False

    def fails(self, value: float | None) -> bool:
        """Whether ``value`` is beyond the limit (a measurement that does not apply never is)."""
        if value is None:
            return False
        return value < self.limit if self.below else value > self.limit

    def excess(self, value: float | None) -> float:
        """How far ``value`` lies from :attr:`clean` towards the limit: 0 at or better than
        clean, 1 at the limit, more beyond (0 for a limit that is never reached)."""
        if value is None or self.clean is None or not math.isfinite(self.limit):
            return 0.0
        scale = _log if self.logarithmic else float
        clean, limit = scale(self.clean), scale(self.limit)
        return max(0.0, (scale(value) - clean) / (limit - clean))


def _log(value: float) -> float:
    return math.log(max(value, TINY))


TINY = 1e-6
"""Logarithmic measurements are taken at least this large (a black frame's contrast is 0)."""


FUNDUS_CHECKS: tuple[Check, ...] = (
    Check(NOT_FUNDUS, "redness", 0.45, below=True),
    Check(NOT_FUNDUS, "blueness", 0.26, below=False),
    Check(NOT_FUNDUS, "contrast", 0.006, below=True),
    Check(NOT_FUNDUS, "contrast", 0.45, below=False),
    Check(NOT_FUNDUS, "structure", 0.04, below=True),
    Check(NOT_FUNDUS, "round_field", 0.5, below=True),
)
"""A photograph is a fundus photograph when it passes all of these: warm (the red share of the
field's colour high, the blue share low), with the contrast of a retina's detail (not a blank
frame, not a scene's or a document's hard edges), and with structure larger than grain (not
noise, however tinted: 0.015-0.018 for noise, 0.06 at least for real photographs in the
calibration, over-exposed four times over; 0.23 with lesions). A grayscale photograph (a
red-free or monochrome camera's, or one tinted: sepia, a grey one coloured) has no colour to
judge: it must show a fundus camera's dark round border around its field instead."""

CHECKS: tuple[Check, ...] = (
    Check("blurred", "sharpness", 1.28, below=True, clean=1.81, logarithmic=True),
    Check("too-dark", "brightness", 0.037, below=True, clean=0.31, logarithmic=True),
    Check("over-exposed", "clipped", 0.39, below=False, clean=0.0),
    Check("uneven-light", "evenness", 0.19, below=True, clean=0.72, logarithmic=True),
    Check("field-cut-off", "field_lost", 0.25, below=False, clean=0.0),
    Check("field-cut-off", "frame_aspect", 2.5, below=False, clean=2.0),
    Check("off-centre", "offset", 0.31, below=False, clean=0.01),
    Check("low-contrast", "contrast", 0.021, below=True, clean=0.16, logarithmic=True),
    Check("noisy", "signal_to_noise", 6.2, below=True, clean=30.0, logarithmic=True),
    Check("compressed", "blockiness", 1.7, below=False, clean=0.15),
)
"""What makes a fundus photograph worth retaking; it is usable when it fails none. A frame
without a field of view found is a crop inside it; one whose long side is over 2.5 times its
short side is a strip of it (cameras' frames are 1-1.78: 16:9 video; a 565x80 band of a DRIVE
photograph read as usable, quality 0.94), and up to 2 its shape costs no quality."""

VESSEL_QUALITY = Check("vessel-map", "indecision", 0.41, below=False, clean=0.31)
"""With the model run, the share of the vessel map it is unsure of lowers the quality score too
(it is not a reason at this limit: the photograph-level checks name the cause)."""

VESSEL_RETAKE = Check(UNSURE_VESSELS, "indecision", 0.7, below=False, clean=VESSEL_QUALITY.clean)
"""With the model run, a reason to retake when the model is unsure of most of what it marks,
whatever else the photograph shows: strong noise that the noise measure cannot see (a small
photograph enlarged to the working scale, noise the camera smoothed: 0.75-0.86), or no fundus
at all (red-tinted blotches whose structure and contrast pass: indecision 0.88). Set by hand
in the gap: real photographs that pass every other check stay at or below 0.49 in the
calibration (0.25-0.36 clean). Not a not-fundus reason: a real photograph, too noisy, reaches
it too."""
