"""Score a model on labelled photographs: the field's whole-photograph protocol, run through the
device's own pipeline, with pictures of where it is right and wrong."""

import csv
import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.app.outputs import save_png
from edge_runtime.app.parallel import run_jobs
from edge_runtime.atomic import atomic_path
from edge_runtime.contract.metrics import PhotoScores, mean_scores, photo_scores
from edge_runtime.data.photos import LabelledPhoto, PhotoDataset, load_labelled
from edge_runtime.pipeline.decode import to_uint8
from edge_runtime.pipeline.segmenter import Segmenter, SegmenterSettings

METRICS = tuple(f.name for f in dataclasses.fields(PhotoScores))

TRUE_POSITIVE = (0, 200, 0)
FALSE_POSITIVE = (255, 40, 40)
FALSE_NEGATIVE = (40, 110, 255)
"""Colours of the report pictures: vessels found, vessels invented, vessels missed."""


@dataclass(frozen=True)
class PhotoResult:
    """One photograph's scores."""

    name: str
    scores: PhotoScores


@dataclass(frozen=True)
class DatasetEvaluation:
    """A model's scores on every photograph of a dataset, and their mean."""

    model: str
    threshold: float
    photos: tuple[PhotoResult, ...]

    @property
    def mean(self) -> PhotoScores:
        return mean_scores([p.scores for p in self.photos])

    def to_json(self) -> dict:
        """``{"n", "threshold", "model", "mean": {metrics}, "photos": [{"name", metrics}]}``."""
        return {
            "n": len(self.photos),
            "threshold": self.threshold,
            "model": self.model,
            "mean": dataclasses.asdict(self.mean),
            "photos": [{"name": p.name, **dataclasses.asdict(p.scores)} for p in self.photos],
        }


def comparison_picture(
    pixels: np.ndarray, mask: np.ndarray, label: np.ndarray, fov: np.ndarray
) -> np.ndarray:
    """The photograph, dimmed, with true positives, false positives and false negatives in
    their colours (RGB uint8, the photograph's size); outside the field of view dimmer still."""
    picture = to_uint8(pixels) // 2
    picture[~fov] //= 2
    predicted, truth = mask.astype(bool) & fov, label & fov
    picture[predicted & truth] = TRUE_POSITIVE
    picture[predicted & ~truth] = FALSE_POSITIVE
    picture[~predicted & truth] = FALSE_NEGATIVE
    return picture


def score_photo(segmenter: Segmenter, job: tuple[LabelledPhoto, Path | None]) -> PhotoResult:
    """One photograph segmented and scored (and drawn into the report folder, if any)."""
    labelled, report = job
    loaded = load_labelled(labelled)
    result = segmenter.segment(loaded.photo)
    fov = result.fov if loaded.fov is None else loaded.fov
    scores = photo_scores(result.probability, loaded.label, fov, segmenter.threshold)
    if report is not None:
        picture = comparison_picture(
            np.asarray(loaded.photo.picture()), result.mask, loaded.label, fov
        )
        save_png(report / f"{labelled.name}_comparison.png", picture)
    return PhotoResult(labelled.name, scores)


def evaluate_photos(
    segmenter: Segmenter,
    dataset: PhotoDataset,
    report: Path | None = None,
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
    settings: SegmenterSettings | None = None,
) -> DatasetEvaluation:
    """Segment every photograph of ``dataset`` as the device does and score it inside its field
    of view (the dataset's mask, else the one the runtime detects). With ``report``, write a
    comparison picture per photograph there (``<name>_comparison.png``, see
    :func:`comparison_picture`). With ``jobs`` above 1 and ``settings``, on that many processes
    (the same scores).

    Raises:
        InputError: a photograph or its label cannot be read.
    """
    results = []
    work = [(photo, report) for photo in dataset.photos]
    for done, result in enumerate(run_jobs(score_photo, work, segmenter, jobs, settings)):
        results.append(result)
        if progress:
            progress(f"{result.name} ({done + 1}/{len(work)})")
    return DatasetEvaluation(str(segmenter.model.path), segmenter.threshold, tuple(results))


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def write_summary(report: Path, evaluation: DatasetEvaluation) -> None:
    """``summary.csv`` and ``summary.md``: every photograph's metrics and the mean."""
    rows = [(p.name, p.scores) for p in evaluation.photos] + [("mean", evaluation.mean)]
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["photograph", *METRICS])
    for name, scores in rows:
        writer.writerow([name, *(_cell(getattr(scores, m)) for m in METRICS)])
    with atomic_path(report / "summary.csv") as tmp:
        tmp.write_text(table.getvalue())
    lines = [
        f"# {evaluation.model} on {len(evaluation.photos)} photographs",
        "",
        f"Threshold {evaluation.threshold}; metrics inside the field of view.",
        "",
        "| photograph | " + " | ".join(METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
        *(
            f"| {name} | " + " | ".join(_cell(getattr(s, m)) for m in METRICS) + " |"
            for name, s in rows
        ),
    ]
    with atomic_path(report / "summary.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
