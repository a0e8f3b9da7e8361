"""The verdict on one photograph: is it a fundus photograph, is it good enough to keep, how
good, and if not, why (reasons from :data:`~edge_runtime.verdict.checks.REASONS`)."""

import dataclasses
import math
from dataclasses import dataclass

from edge_runtime.contract.schema import encode
from edge_runtime.contract.verdict_record import RED_BLUE_SWAPPED, Reason, VerdictRecord
from edge_runtime.verdict.checks import (
    CHECKS,
    FUNDUS_CHECKS,
    VESSEL_QUALITY,
    VESSEL_RETAKE,
    Check,
)
from edge_runtime.verdict.measures import Measurements
from edge_runtime.verdict.vessels import VesselMeasurements

QUALITY_AT_LIMIT = 0.5
"""The quality score of a photograph exactly at one check's limit: 1 is a clean photograph's;
the score falls with the root of the sum of the squared excesses over the checks
(:meth:`~edge_runtime.verdict.checks.Check.excess`), to 0 at twice a limit's distance from
clean; 0 for a picture that is not a fundus photograph."""


@dataclass(frozen=True)
class Verdict:
    """``fundus``: a retinal photograph at all; ``usable``: good enough to keep (a fundus
    photograph with no reason to retake it); ``quality`` in [0, 1], lower as the vessel map
    suffers more (:data:`QUALITY_AT_LIMIT` at a limit); ``reasons``, worst first; and what
    was measured (``vessels`` only when the model ran)."""

    fundus: bool
    usable: bool
    quality: float
    reasons: tuple[Reason, ...]
    measurements: Measurements
    vessels: VesselMeasurements | None = None

    def summary(self) -> str:
        """One short line: ``ok``, ``retake: blurred (sharpness 1.13 < 1.28), ...`` or ``not a
        fundus photograph (redness 0.33 < 0.45)`` (:meth:`VerdictRecord.summary`)."""
        return self.record().summary()

    def record(self) -> VerdictRecord:
        """What the commands print of it (values rounded to 4 decimals)."""
        return VerdictRecord(
            fundus=self.fundus,
            usable=self.usable,
            quality=round(self.quality, 4),
            reasons=tuple(dataclasses.replace(r, value=_rounded(r.value)) for r in self.reasons),
            measurements=_rounded_fields(self.measurements),
            vessels=None if self.vessels is None else _rounded_fields(self.vessels),
        )

    def to_json(self) -> dict:
        """``{"fundus", "usable", "quality", "reasons": [{"code", "measure", "value",
        "limit"}], "measurements": {...}, "vessels": {...} or null}`` (a measurement that does
        not apply is null): :meth:`record`, encoded."""
        return encode(self.record())


def _rounded(value):
    return round(value, 4) if isinstance(value, float) else value


def _rounded_fields(measured) -> dict:
    return {name: _rounded(value) for name, value in dataclasses.asdict(measured).items()}


def _failed(checks: tuple[Check, ...], measured: object) -> list[tuple[float, Reason]]:
    """(excess, reason) of each check that ``measured`` fails."""
    failed = []
    for check in checks:
        value = getattr(measured, check.measure)
        if check.fails(value):
            reason = Reason(check.code, check.measure, float(value), check.limit)
            failed.append((check.excess(value), reason))
    return failed


def _red_blue_swapped(
    fundus_checks: tuple[Check, ...], measured: Measurements
) -> tuple[Reason, ...]:
    """The :data:`RED_BLUE_SWAPPED` reason (the swapped redness against redness's limit) of a
    photograph that fails ``fundus_checks`` but passes them all with its red and blue swapped;
    none otherwise."""
    swapped = dataclasses.replace(
        measured, redness=measured.swapped_redness, blueness=measured.swapped_blueness
    )
    redness = next((c for c in fundus_checks if c.measure == "redness"), None)
    if measured.swapped_redness is None or redness is None or _failed(fundus_checks, swapped):
        return ()
    return (Reason(RED_BLUE_SWAPPED, "swapped_redness", measured.swapped_redness, redness.limit),)


def judge(
    measurements: Measurements,
    vessels: VesselMeasurements | None = None,
    fundus_checks: tuple[Check, ...] = FUNDUS_CHECKS,
    checks: tuple[Check, ...] = CHECKS,
    vessel_quality: Check = VESSEL_QUALITY,
    vessel_retake: Check = VESSEL_RETAKE,
) -> Verdict:
    """The verdict on what was measured (``vessels`` when the model ran), by the shipped
    limits or others (calibration tries them): not a fundus photograph when it fails a check of
    ``fundus_checks``; to retake when it fails one of ``checks`` or, with the model run,
    ``vessel_retake``."""
    not_fundus = _failed(fundus_checks, measurements)
    if not_fundus:
        reasons = tuple(reason for _, reason in not_fundus) + _red_blue_swapped(
            fundus_checks, measurements
        )
        return Verdict(False, False, 0.0, reasons, measurements, vessels)
    failed = _failed(checks, measurements)
    if vessels is not None:
        failed += _failed((vessel_retake,), vessels)
    failed.sort(key=lambda pair: -pair[0])
    excess = [check.excess(getattr(measurements, check.measure)) for check in checks]
    if vessels is not None:
        excess.append(vessel_quality.excess(getattr(vessels, vessel_quality.measure)))
    distance = math.sqrt(sum(e * e for e in excess))
    quality = min(1.0, max(0.0, 1 - (1 - QUALITY_AT_LIMIT) * distance))
    reasons = tuple(reason for _, reason in failed)
    return Verdict(True, not reasons, quality, reasons, measurements, vessels)
