"""What ``verdict``, ``segment`` and ``watch`` report of a photograph's verdict: the typed record
under ``"verdict"``, encoded by :func:`~edge_runtime.contract.schema.encode`, its words, and the
text chunk in which ``segment``'s maps carry it (:data:`PNG_KEY`), for ``measure`` to read back."""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from edge_runtime.contract.schema import bounded, decode, encode

PNG_KEY = "edge-seg-verdict"
"""The keyword of the text chunk in which a map written by ``segment`` carries its photograph's
:class:`VerdictRecord` (none with ``--no-verdict``)."""

RED_BLUE_SWAPPED = "red-blue-swapped"
"""The reason beside ``not-fundus`` of a photograph whose colour is a fundus's with its red and
blue swapped: a picture handed over as BGR (OpenCV's order) rather than RGB."""


@dataclass(frozen=True)
class Reason:
    """Why a photograph is refused: a reason ``code`` (firmware_notes/VERDICT.md), the
    ``measure`` that triggered it, the ``value`` measured and the ``limit`` it passed."""

    code: str
    measure: str
    value: float
    limit: float

    def detail(self) -> str:
        """What was measured against which limit: ``sharpness 1.13 < 1.28``."""
        sign = "<" if self.value < self.limit else ">"
        return f"{self.measure} {self.value:.3g} {sign} {self.limit:.3g}"

    def __str__(self) -> str:
        return f"{self.code} ({self.detail()})"


@dataclass(frozen=True)
class VerdictRecord:
    """A fundus photograph or not, usable or not, its quality in [0, 1], the reasons (worst
    first), and what was measured on the photograph (``measurements``) and, when the model
    ran, on its vessel map (``vessels``); a measurement that does not apply is ``None``."""

    fundus: bool
    usable: bool
    quality: float = bounded(low=0.0, high=1.0)
    reasons: tuple[Reason, ...]
    measurements: dict[str, float | bool | None]
    vessels: dict[str, float] | None

    def summary(self) -> str:
        """One short line: ``ok``, ``retake: blurred (sharpness 1.13 < 1.28), ...`` or ``not a
        fundus photograph (redness 0.33 < 0.45)``, and for a picture whose red and blue are
        swapped, ``: red and blue swapped? (stored as BGR: swapped_redness 0.62 > 0.45)``."""
        if not self.fundus:
            said = f"not a fundus photograph ({self.reasons[0].detail()})"
            swapped = [r for r in self.reasons if r.code == RED_BLUE_SWAPPED]
            if swapped:
                said += f": red and blue swapped? (stored as BGR: {swapped[0].detail()})"
            return said
        if self.usable:
            return "ok"
        return "retake: " + ", ".join(str(reason) for reason in self.reasons)

    def word(self) -> str:
        """The verdict in a word or two (:func:`verdict_word`)."""
        return verdict_word(self.fundus, self.usable, [reason.code for reason in self.reasons])

    def text(self) -> str:
        """One line of JSON, as written in a map's text chunk (:data:`PNG_KEY`)."""
        return json.dumps(encode(self), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_text(cls, text: str) -> "VerdictRecord":
        """A verdict read back from :meth:`text`: one that a verdict can be, usable when it is
        a fundus photograph with no reason to retake it, and no fundus photograph for a reason.

        Raises:
            ValueError: the text is not one (not JSON, or a field missing, mistyped or out of
                range, the message naming the field; or its words disagree).
        """
        record = decode(cls, json.loads(text))
        if record.usable != (record.fundus and not record.reasons) or not (
            record.fundus or record.reasons
        ):
            raise ValueError(
                f"a verdict whose words disagree: fundus {record.fundus}, usable "
                f"{record.usable}, {len(record.reasons)} reasons"
            )
        return record

    def columns(self) -> dict[str, object]:
        """Its values as a CSV row's :data:`COLUMNS`: the reasons worst first, each with what
        was measured against which limit (``blurred (sharpness 1.13 < 1.28), too-dark (...)``)."""
        reasons = ", ".join(str(reason) for reason in self.reasons)
        values = (self.fundus, self.usable, self.quality, reasons)
        return dict(zip(COLUMNS, values, strict=True))


COLUMNS = ("verdict_fundus", "verdict_usable", "verdict_quality", "verdict_reasons")
"""A CSV row's columns of a :class:`VerdictRecord` (empty where a row has none)."""


def verdict_word(fundus: bool, usable: bool, codes: Sequence[str]) -> str:
    """A verdict in a word or two, for a line per photograph: ``ok``, ``retake: blurred,
    too-dark`` (the reasons' ``codes``), ``not fundus``."""
    if not fundus:
        return "not fundus"
    return "ok" if usable else "retake: " + ", ".join(codes)
