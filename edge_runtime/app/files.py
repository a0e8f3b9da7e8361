"""Segment photograph files into an output folder: what ``segment``, ``watch`` and ``demo`` do
for each input."""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.app.outputs import Extras, OutputPaths, drawn_by_this_package, write_outputs
from edge_runtime.atomic import check_writable
from edge_runtime.contract.provenance import photograph_name
from edge_runtime.contract.segment_record import SegmentRecord
from edge_runtime.errors import InputError, OutputError
from edge_runtime.measure.measurements import NotVessels
from edge_runtime.measure.scale import PIXELS_ONLY, CameraScale, NoScale
from edge_runtime.memory import give_back_freed_memory
from edge_runtime.pipeline.decode import Photo, load_photo


def prepare_outdir(outdir: Path, files: tuple[str, ...] = ()) -> None:
    """Create the output directory and check it is writable, and that each of ``files`` can be
    written there (before the work that makes them, which a failure to write would lose).

    Raises:
        OutputError: it cannot be created, is not a directory, or is not writable, or a file's
            name is taken by a folder or a link (:func:`~edge_runtime.atomic.check_writable`).
    """
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{outdir}: cannot create the output directory ({exc.strerror})"
        ) from None
    if not outdir.is_dir():
        raise OutputError(f"{outdir}: is not a directory")
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise OutputError(f"{outdir}: the output directory is not writable")
    for name in files:
        check_writable(outdir / name)


def prepare_report(folder: Path, files: tuple[str, ...], pictures: str = "") -> None:
    """:func:`prepare_outdir` for a report of ``files`` (and, given ``pictures``, of a picture
    per photograph named ``*<pictures>``), then remove an earlier report there: its ``files``,
    and its pictures of whatever photographs, those this package drew
    (:func:`~edge_runtime.app.outputs.drawn_by_this_package`). The folder then holds this run's
    report alone once it is written, and none when the run fails, never an earlier one to be
    taken for its own; other files in it stay. Called as the run starts, once its inputs and
    model are checked: a run refused before leaves an earlier report as it was.

    Raises:
        OutputError: as :func:`prepare_outdir`, or the folder cannot be listed or a file of the
            earlier report removed.
    """
    prepare_outdir(folder, files)
    earlier = [folder / name for name in files]
    try:
        if pictures:
            drawn = (p for p in folder.iterdir() if p.name.endswith(pictures))
            earlier += filter(drawn_by_this_package, drawn)
        for path in earlier:
            path.unlink(missing_ok=True)
    except OSError as exc:
        where = exc.filename or folder
        raise OutputError(f"{where}: cannot remove the earlier report ({exc.strerror})") from None


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


@dataclass(frozen=True)
class Findings:
    """What each record reads from the segmentation besides its files: the verdict (on unless
    turned off) and the vascular measurements (on request), in millimetres too when the
    ``camera``'s scale is known."""

    verdict: bool = True
    measurements: bool = False
    camera: CameraScale = PIXELS_ONLY


def segment_file(
    segmenter: Segmenter,
    path: Path,
    outputs: OutputPaths,
    extras: Extras,
    findings: Findings = Findings(),
) -> SegmentRecord:
    """Segment one file, read its ``findings`` and write its outputs: :func:`segment_photo` of
    the file decoded, its decoding timed in its record.

    Raises:
        InputError: the file cannot be segmented.
        OutputError: an output cannot be written.
    """
    started = time.perf_counter()
    return segment_photo(segmenter, load_photo(path), str(path), outputs, extras, findings, started)


def segment_photo(
    segmenter: Segmenter,
    photo: Photo,
    source: str,
    outputs: OutputPaths,
    extras: Extras,
    findings: Findings = Findings(),
    started: float | None = None,
) -> SegmentRecord:
    """Segment a decoded photograph (``source``: where it came from, as its record and errors
    name it; its maps and record name the photograph by its file name,
    :func:`~edge_runtime.contract.provenance.photograph_name`), read its ``findings`` and
    write its outputs; returns its record, with ``segment_ms`` (decoding included, from
    ``started``, a :func:`time.perf_counter`; none when not given) and ``write_ms`` apart,
    ``stages_ms`` per stage (``verdict``, ``artery_vein`` and ``measure`` when made), ``ms``
    in all.

    Raises:
        InputError: the photograph cannot be measured in millimetres (``findings``).
        OutputError: an output cannot be written.
    """
    decoded = time.perf_counter()
    started = decoded if started is None else started
    result = segmenter.segment(photo)
    segmented = time.perf_counter()
    stages = {k: v for k, v in result.stats.ms.items() if k not in ("decode", "total")}
    verdict = measurements = not_measured = None
    if findings.verdict:
        verdict = result.verdict.record()
        stages["verdict"] = _ms(time.perf_counter() - segmented)
    if segmenter.artery_vein is not None:
        classing = time.perf_counter()
        # the model's part, timed apart; the photograph-sized map is made when written, after
        # the vessel files (write_outputs), so that it and the overlay's picture are never held
        # at once
        result.work_artery_probability  # noqa: B018
        stages["artery_vein"] = _ms(time.perf_counter() - classing)
    if findings.measurements:
        measuring = time.perf_counter()
        try:
            measurements = result.measure(findings.camera)
        except NotVessels as exc:  # a map the model made of something else: its files stand
            not_measured = f"its vessel map is no vessel map to measure: {exc}"
        except NoScale as exc:  # its field of view too small for the camera's degrees
            raise InputError(f"{source}: {exc}") from None
        finally:
            give_back_freed_memory(photo.shape[0] * photo.shape[1])
        stages["measure"] = _ms(time.perf_counter() - measuring)
    writing = time.perf_counter()
    photograph = photograph_name(source)
    written = write_outputs(
        outputs, photo, result, extras, segmenter.provenance, verdict, photograph
    )
    done = time.perf_counter()
    return SegmentRecord(
        path=source,
        photograph=photograph,
        outputs=written,
        width=photo.shape[1],
        height=photo.shape[0],
        vessel_fraction=round(result.stats.vessel_fraction, 6),
        tiles=result.stats.tiles,
        fov_found=result.stats.fov_found,
        ms=_ms(done - started),
        segment_ms=_ms(segmented - started),
        write_ms=_ms(done - writing),
        stages_ms={"decode": _ms(decoded - started), **stages, "write": _ms(done - writing)},
        verdict=verdict,
        measurements=measurements,
        not_measured=not_measured,
        provenance=segmenter.provenance,
    )
