"""A verdict on every photograph: is it a fundus photograph, is it good enough to keep, a
quality score, and the reasons to retake it (numpy and Pillow only; no model needed for
:func:`assess_capture`).

    from edge_runtime.verdict import assess_capture
    verdict = assess_capture("photo.jpg")
    verdict.usable, verdict.quality, verdict.summary()   # True, 0.93, "ok"

- :mod:`~edge_runtime.verdict.measures`: what is measured on the photograph;
- :mod:`~edge_runtime.verdict.sharpness`: its sharpness, the same whichever way up it is and
  wherever the frame cuts it;
- :mod:`~edge_runtime.verdict.vessels`: what is measured on the vessel map;
- :mod:`~edge_runtime.verdict.checks`: the reasons, their meaning and limits (defined once);
- :mod:`~edge_runtime.verdict.verdict`: :class:`Verdict` and :class:`Reason`, and the judgement;
- :mod:`~edge_runtime.verdict.assess`: from a photograph (and a segmentation) to a verdict.
"""

from edge_runtime.verdict.assess import assess, assess_capture
from edge_runtime.verdict.checks import CHECKS, FUNDUS_CHECKS, REASONS
from edge_runtime.verdict.verdict import Reason, Verdict, judge

__all__ = [
    "CHECKS",
    "FUNDUS_CHECKS",
    "REASONS",
    "Reason",
    "Verdict",
    "assess",
    "assess_capture",
    "judge",
]
