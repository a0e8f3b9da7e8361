"""Score a model on labelled photographs: the field's whole-photograph protocol, run through the
device's own pipeline, with pictures of where it is right and wrong. A photograph that cannot be
scored is recorded with its error; the others are still scored."""

import contextlib
import csv
import dataclasses
import io
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_runtime.atomic import remove_partials_of, save_png, write_texts
from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.contract.artery_vein_metrics import ArteryVeinScores, artery_vein_scores
from edge_runtime.contract.evaluation_record import (
    MEAN_OVER_ROW,
    DatasetEvaluation,
    FailedPhoto,
    ScoredPhoto,
    mean_row,
)
from edge_runtime.contract.metrics import PhotoScores, photo_scores
from edge_runtime.contract.provenance import COLUMNS as PROVENANCE_COLUMNS
from edge_runtime.contract.provenance import Provenance, photograph_name, png_text
from edge_runtime.data.artery_vein import check_on_vessels, read_artery_vein
from edge_runtime.data.photos import LabelledPhoto, PhotoDataset, load_labelled
from edge_runtime.data.vessel_share import MIN_INSIDE_SHARE, check_share, share_inside
from edge_runtime.errors import InputError, counted, describe_failure, one_line
from edge_runtime.file_names import unique_name
from edge_runtime.measure.skeleton import skeletonize
from edge_runtime.pipeline.blocks import row_blocks
from edge_runtime.pipeline.decode import to_uint8
from edge_runtime.pipeline.grayscale import NO_COLOUR
from edge_runtime.pipeline.parallel import Stop, run_jobs
from edge_runtime.pipeline.segmenter import Segmenter
from edge_runtime.spreadsheet import spreadsheet_cell

METRICS = tuple(f.name for f in dataclasses.fields(PhotoScores))
ARTERY_VEIN_METRICS = tuple(f.name for f in dataclasses.fields(ArteryVeinScores))

TRUE_POSITIVE = (0, 200, 0)
FALSE_POSITIVE = (255, 40, 40)
FALSE_NEGATIVE = (40, 110, 255)
"""Colours of the report pictures: vessels found, vessels invented, vessels missed."""

PICTURE_SUFFIX = "_comparison.png"
"""How a photograph's report picture is named: ``<name>_comparison.png``."""

PhotoResult = ScoredPhoto | FailedPhoto
"""One photograph's scores, or the one-line error that kept it from being scored."""


def comparison_picture(
    pixels: np.ndarray, mask: np.ndarray, label: np.ndarray, fov: np.ndarray
) -> np.ndarray:
    """The photograph, dimmed, with true positives, false positives and false negatives in
    their colours (RGB uint8, the photograph's size); outside the field of view dimmer still.
    Drawn a block of rows at a time: at 25 megapixels, whole-picture steps took 348 MiB more
    than the picture."""
    photo = to_uint8(pixels)
    picture = np.empty_like(photo)
    for rows in row_blocks(*photo.shape[:2]):
        block, inside = photo[rows] // 2, fov[rows]
        block[~inside] //= 2
        predicted, truth = mask[rows].astype(bool) & inside, label[rows] & inside
        block[predicted & truth] = TRUE_POSITIVE
        block[predicted & ~truth] = FALSE_POSITIVE
        block[~predicted & truth] = FALSE_NEGATIVE
        picture[rows] = block
    return picture


def grade_artery_vein(
    label: Path, classes: np.ndarray, fov: np.ndarray, vessels: np.ndarray
) -> ArteryVeinScores:
    """The artery/vein metrics of a photograph's classes (:class:`ArteryVein` codes) against its
    artery/vein label file, inside ``fov``, at the photograph's size; centre lines: the
    label's skeleton (crossings included, so that lines run through them). ``vessels`` is the
    photograph's vessel label, which the artery/vein label must follow.

    Raises:
        InputError: the label is unreadable, not the photograph's size, not an artery/vein
            label, covers too much of ``fov`` to be one (a white background), has no artery or
            vein pixel inside it (its metrics would be undefined), or has most of them outside
            it or off the photograph's vessels (another photograph's label).
    """
    truth = read_artery_vein(label, classes.shape)
    graded = (truth == ArteryVein.ARTERY) | (truth == ArteryVein.VEIN)
    if not (graded & fov).any():
        raise InputError(
            f"{label}: no artery or vein pixel inside the field of view, expected some to score"
        )
    inside = share_inside(graded, fov)
    if inside < MIN_INSIDE_SHARE:
        raise InputError(
            f"{label}: {inside:.0%} of its artery and vein pixels lie inside the field of view, "
            f"expected at least {MIN_INSIDE_SHARE:.0%} (another photograph's label?)"
        )
    check_share(label, truth != ArteryVein.BACKGROUND, fov)
    centreline = skeletonize(truth != ArteryVein.BACKGROUND)
    check_on_vessels(label, centreline, vessels)
    return artery_vein_scores(truth, classes, fov, centreline)


def score_photo(segmenter: Segmenter, job: tuple[LabelledPhoto, Path | None]) -> PhotoResult:
    """One photograph segmented and scored (and drawn into its comparison picture, the job's
    path, if any).

    Its arteries and veins are scored too when the segmenter chains an artery/vein model and
    the photograph has an artery/vein label. What goes wrong with the photograph, whatever it
    is, is its result's error and ends nothing else; what goes wrong with its arteries and
    veins only, or with writing its picture, is that error, and its vessel scores stand.
    """
    labelled, target = job
    try:
        loaded = load_labelled(labelled)
        result = segmenter.segment(loaded.photo)
        fov = result.fov if loaded.fov is None else loaded.fov
        scores = photo_scores(result.probability, loaded.label, fov, result.threshold)
    except Exception as exc:
        return _failed(labelled, describe_failure(exc, labelled.image))
    report_error = None
    if target is not None:
        try:
            picture = comparison_picture(
                np.asarray(loaded.photo.picture()), result.mask, loaded.label, fov
            )
            save_png(target, picture, png_text(segmenter.provenance))
        except Exception as exc:  # the scores stand; the report lacks this picture
            report_error = describe_failure(exc, target)
    graded = error = None
    if segmenter.artery_vein is not None and labelled.has_artery_vein:
        try:
            graded = _grade_result(labelled, result.artery_vein, fov, loaded.label)
        except Exception as exc:
            error = describe_failure(exc, labelled.artery_vein or labelled.image)
    return ScoredPhoto(
        **dataclasses.asdict(scores),
        name=labelled.name,
        artery_vein=graded,
        artery_vein_error=error,
        report_error=report_error,
        photograph=photograph_name(str(labelled.image)),
    )


def _failed(labelled: LabelledPhoto, error: str) -> FailedPhoto:
    """The result of a photograph that could not be scored, for ``error``."""
    image = str(labelled.image)
    return FailedPhoto(labelled.name, image, error, photograph_name(image))


def _grade_result(
    labelled: LabelledPhoto, classes: np.ndarray | None, fov: np.ndarray, vessels: np.ndarray
) -> ArteryVeinScores:
    """:func:`grade_artery_vein` of a segmentation's classes against the photograph's label.

    Raises:
        InputError: the photograph has no usable artery/vein label, or no classes (a grayscale
            photograph's), or the label cannot be scored against.
    """
    label = labelled.artery_vein_label()
    if classes is None:
        raise InputError(
            f"{labelled.image}: {NO_COLOUR}, so no arteries and veins to score against "
            f"{labelled.artery_vein}"
        )
    return grade_artery_vein(label, classes, fov, vessels)


def lost_photo(
    job: tuple[LabelledPhoto, Path | None], reason: str, writer: int | None
) -> FailedPhoto:
    """The result of a photograph that was not scored because its worker process (``writer``)
    died or a stop came before it was started (see
    :func:`~edge_runtime.pipeline.parallel.run_jobs`); a dead worker's temporary files in the
    report folder are removed."""
    labelled, picture = job
    if picture is not None and writer is not None:
        remove_partials_of(picture.parent, writer)
    return _failed(labelled, one_line(f"{labelled.image}: {reason}"))


def _warn_redone(job: tuple[LabelledPhoto, Path | None], why: str) -> None:
    """A warning naming a photograph done again after its worker was killed."""
    warnings.warn(one_line(f"{job[0].image}: {why}"), stacklevel=2)


def _pictures(photos: tuple[LabelledPhoto, ...], report: Path | None) -> list[Path | None]:
    """Each photograph's comparison picture in ``report`` (none without one):
    ``<name>_comparison.png`` (:data:`PICTURE_SUFFIX`), names that are one once cut to fit a
    file name given ``-2``, ``-3``..."""
    used: set[str] = set()
    return [
        None if report is None else report / f"{unique_name(photo.name, used)}{PICTURE_SUFFIX}"
        for photo in photos
    ]


def evaluate_photos(
    segmenter: Segmenter,
    dataset: PhotoDataset,
    report: Path | None = None,
    progress: Callable[[PhotoResult, int], None] | None = None,
    jobs: int = 1,
    stop: Stop | None = None,
) -> DatasetEvaluation:
    """Segment every photograph of ``dataset`` as the device does and score it inside its field
    of view (the dataset's mask, else the one the runtime detects). With ``report``, write a
    comparison picture per photograph there (:func:`_pictures`, :func:`comparison_picture`).
    ``progress(result, done)`` is told of each photograph as it is scored or fails. With
    ``jobs`` above 1, on that many processes (the same scores). A photograph that cannot be
    scored is recorded with its error (see :func:`score_photo`), and so is each one not
    started once ``stop`` is set."""
    results = []
    work = list(zip(dataset.photos, _pictures(dataset.photos, report), strict=True))
    run = run_jobs(score_photo, work, segmenter, jobs, lost_photo, stop, _warn_redone)
    with contextlib.closing(run):
        for result in run:  # the workers go, whatever happens
            results.append(result)
            if progress:
                progress(result, len(results))
    return DatasetEvaluation.of(
        segmenter.model_name, segmenter.threshold, results, segmenter.provenance
    )


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _markdown(text: str) -> str:
    """``text`` on one line, with no ``|`` to split a table's cell (a photograph's name)."""
    return one_line(text).replace("|", "\\|")


SUMMARY_FILES = ("summary.csv", "summary.md")
"""What :func:`write_summary` writes in the report folder."""


def _made_by(provenance: Provenance | None) -> list[str]:
    """The report's paragraph on what made the maps it scores."""
    if provenance is None:
        return []
    models = {"vessel model": provenance.model, "artery/vein model": provenance.artery_vein_model}
    said = [
        f"{kind} {model.version or '(no card)'} (SHA-256 {model.sha256})"
        for kind, model in models.items()
        if model is not None
    ]
    config = provenance.config
    settings = (
        f"channel {config.channel}, field of view {config.fov_diameter:g} pixels across, "
        f"stride {config.stride}, test-time averaging {config.tta}"
    )
    return [_markdown(f"Made by {provenance.software}: {', '.join([*said, settings])}."), ""]


def write_summary(report: Path, evaluation: DatasetEvaluation) -> None:
    """``summary.csv`` and ``summary.md``: every scored photograph's metrics and the mean (an
    undefined metric is an empty cell), with its artery/vein metrics (``av_...``) when some
    were scored; ``summary.md`` also says over how many photographs each mean is taken, and
    lists the photographs that could not be scored with their errors; ``summary.csv`` gives
    them rows of their own, before the mean's, their metrics empty and their ``error`` said
    (a scored photograph's ``error`` says why its arteries and veins were not). Each row is
    named by ``name``, a photograph's stem; in ``summary.csv`` ``photograph`` gives its file
    name too (empty in the mean's rows), as segment's records do. The mean's row is named
    ``(mean of N)``, which no photograph of a dataset is named
    (:data:`~edge_runtime.contract.evaluation_record.SUMMARY_ROWS`); in ``summary.csv`` the
    row after it, ``(mean over)``, says over how many photographs each
    column's mean is taken (the artery/vein means are over those with an artery/vein label),
    and the last columns of the other rows say what made the maps
    (:data:`~edge_runtime.contract.provenance.COLUMNS`, empty without a provenance), each
    cell as :func:`~edge_runtime.spreadsheet.spreadsheet_cell` makes it. Both are written, or
    neither."""
    graded = evaluation.artery_vein is not None
    av_columns = [f"av_{m}" for m in ARTERY_VEIN_METRICS] if graded else []

    def cells(vessels: PhotoScores, artery_vein: ArteryVeinScores | None) -> list[str]:
        av = [_cell(getattr(artery_vein, m, None)) for m in ARTERY_VEIN_METRICS]
        return [_cell(getattr(vessels, m)) for m in METRICS] + (av if graded else [])

    columns = [*METRICS, *av_columns]
    scored = [
        (p.name, p.photograph, p.artery_vein_error, cells(p, p.artery_vein))
        for p in evaluation.photos
    ]
    unscored = [(p.name, p.photograph, p.error, [None] * len(columns)) for p in evaluation.failed]
    mean = (mean_row(evaluation.n), None, None, cells(evaluation.mean, evaluation.artery_vein))
    made = {} if evaluation.provenance is None else evaluation.provenance.columns()
    made_cells = [made.get(c) for c in PROVENANCE_COLUMNS]  # None: an empty cell
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["name", "photograph", "error", *columns, *PROVENANCE_COLUMNS])
    writer.writerows(
        [spreadsheet_cell(c) for c in [name, photograph, error, *row, *made_cells]]
        for name, photograph, error, row in [*scored, *unscored, mean]
    )
    counts = [evaluation.counts[m] for m in METRICS]
    if graded:
        counts += [evaluation.artery_vein_counts[m] for m in ARTERY_VEIN_METRICS]
    writer.writerow([MEAN_OVER_ROW, None, None, *counts, *[None] * len(PROVENANCE_COLUMNS)])
    lines = [
        f"# {evaluation.model} on {counted(evaluation.n, 'photograph')}",
        "",
        f"Threshold {evaluation.threshold}; metrics inside the field of view; an empty cell is "
        "undefined (an empty denominator) and left out of the mean.",
        "",
        *_made_by(evaluation.provenance),
        "| photograph | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *(
            f"| {_markdown(name)} | " + " | ".join(row) + " |"
            for name, _, _, row in [*scored, mean]
        ),
        "| mean over | " + " | ".join(map(str, counts)) + " |",
    ]
    for title, photos, error in (
        ("Not scored", evaluation.failed, "error"),
        ("Arteries and veins not scored", evaluation.ungraded, "artery_vein_error"),
        ("Pictures not written", evaluation.undrawn, "report_error"),
    ):
        if photos:
            lines += ["", f"{title} ({len(photos)}):", ""]
            lines += [f"- {_markdown(p.name)}: {getattr(p, error)}" for p in photos]
    table_name, summary_name = SUMMARY_FILES
    write_texts(report, {table_name: table.getvalue(), summary_name: "\n".join(lines) + "\n"})
