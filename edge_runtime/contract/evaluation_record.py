"""What ``eval`` reports: a model's scores on labelled photographs or patches, the documents
``--json`` prints, encoded by :func:`~edge_runtime.contract.schema.encode`."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from edge_runtime.contract.artery_vein_metrics import ArteryVeinScores
from edge_runtime.contract.artery_vein_metrics import mean_scores as mean_artery_vein
from edge_runtime.contract.metrics import PhotoScores, defined_counts, mean_scores
from edge_runtime.contract.provenance import Provenance

MEAN_OVER_ROW = "(mean over)"
"""The summary's row that says over how many photographs each column's mean is taken."""

SUMMARY_ROWS = re.compile(r"\(mean (of \d+|over)\)")
"""The names of the summary's rows that are no photograph's: ``(mean of N)`` and
:data:`MEAN_OVER_ROW` (a photograph named so is refused: which row is which could not be
told)."""


def mean_row(n: int) -> str:
    """The name of the summary's row of the mean over ``n`` photographs."""
    return f"(mean of {n})"


@dataclass(frozen=True)
class ScoredPhoto(PhotoScores):
    """One photograph's whole-photograph metrics, under its name (its file's stem) and
    ``photograph``, its file name, as segment's records give it
    (:func:`~edge_runtime.contract.provenance.photograph_name`), and its artery/vein metrics.

    They are there when an artery/vein model classed its vessels and it has an artery/vein
    label; when they could not be made (a damaged label, a grayscale photograph),
    ``artery_vein_error`` is the one line that says why, and the vessel metrics still count.
    ``report_error`` says why its picture could not be written in the report folder (a full
    disk): its metrics still count.
    """

    name: str
    artery_vein: ArteryVeinScores | None = None
    artery_vein_error: str | None = None
    report_error: str | None = None
    photograph: str = field(kw_only=True)  # required, and last in the record as added in 1.2


@dataclass(frozen=True)
class FailedPhoto:
    """A photograph (``image``, its file; ``photograph``, its file name) that could not be
    scored, and the one line that says why."""

    name: str
    image: str
    error: str
    photograph: str  # last in the record as added in 1.2


@dataclass(frozen=True)
class DatasetEvaluation:
    """A model's scores on the photographs of a dataset: ``n`` scored, each metric's ``mean``
    over the photographs where it is defined and ``counts`` of them, every scored photograph,
    and those that could not be scored; the mean artery/vein metrics over the
    ``artery_vein_n`` photographs that have them (each metric over the
    ``artery_vein_counts`` of them where it is defined; a photograph whose arteries and veins
    could not be scored is left out of it); and what made the maps scored
    (:class:`Provenance`)."""

    n: int
    threshold: float
    model: str
    mean: PhotoScores
    counts: dict[str, int]
    photos: tuple[ScoredPhoto, ...]
    failed: tuple[FailedPhoto, ...]
    artery_vein_n: int = 0
    artery_vein: ArteryVeinScores | None = None
    artery_vein_counts: dict[str, int] | None = None
    provenance: Provenance | None = None

    @property
    def ungraded(self) -> tuple[ScoredPhoto, ...]:
        """The scored photographs whose arteries and veins could not be scored."""
        return tuple(p for p in self.photos if p.artery_vein_error)

    @property
    def undrawn(self) -> tuple[ScoredPhoto, ...]:
        """The scored photographs whose report picture could not be written."""
        return tuple(p for p in self.photos if p.report_error)

    @classmethod
    def of(
        cls,
        model: str,
        threshold: float,
        results: Sequence[ScoredPhoto | FailedPhoto],
        provenance: Provenance | None = None,
    ) -> "DatasetEvaluation":
        """The evaluation of ``results``, in their order, made as ``provenance`` says."""
        scored = tuple(r for r in results if isinstance(r, ScoredPhoto))
        failed = tuple(r for r in results if isinstance(r, FailedPhoto))
        graded = [r.artery_vein for r in scored if r.artery_vein is not None]
        return cls(
            len(scored),
            threshold,
            model,
            mean_scores(list(scored)),
            defined_counts(list(scored)),
            scored,
            failed,
            len(graded),
            mean_artery_vein(graded) if graded else None,
            defined_counts(graded, ArteryVeinScores) if graded else None,
            provenance,
        )


@dataclass(frozen=True)
class PatchEvaluation:
    """A model's per-patch Dice on ``n`` labelled patches of ``data``: mean, minimum and median,
    and how many have no vessel in label or mask (``both_empty``: Dice counts as 1 there, by the
    reference notebook's convention); and what made the masks (:class:`Provenance`)."""

    model: str
    data: str
    n: int
    threshold: float
    tta: str
    dice_mean: float
    dice_min: float
    dice_median: float
    both_empty: int
    provenance: Provenance | None = None
