"""``edge-seg segment``: segment vessels in photographs, writing one mask PNG per input."""

import contextlib
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.app.files import Findings, prepare_outdir, segment_file
from edge_runtime.app.inputs import Input, collect_inputs, no_photographs
from edge_runtime.app.measurement_csv import (
    check_csv_target,
    measurement_row,
    write_measurement_csv,
)
from edge_runtime.app.outputs import Extras, OutputPaths, plan_outputs
from edge_runtime.atomic import remove_partials_of
from edge_runtime.cli.options import (
    ARTERY_VEIN_MAP_HELP,
    NonBlankPath,
    artery_vein_options,
    check_jobs,
    findings_options,
    jobs_option,
    json_option,
    segmenter_options,
)
from edge_runtime.cli.results import ResultLines
from edge_runtime.cli.verdict import EXIT_NOT_FUNDUS
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.contract.segment_record import SegmentFailure, SegmentRecord
from edge_runtime.errors import InputError, counted, describe_failure, one_line
from edge_runtime.measure.scale import CameraScale
from edge_runtime.pipeline.grayscale import NO_COLOUR
from edge_runtime.pipeline.parallel import (
    SEGMENT_MEMORY,
    job_count,
    run_jobs,
    stopping_on_signals,
)

MEASUREMENTS_CSV = "measurements.csv"
"""The file in OUTDIR that ``--measure`` writes: one row per input of the run."""


@dataclass(frozen=True)
class Job:
    """One input and where its outputs go."""

    item: Input
    outputs: OutputPaths
    extras: Extras
    findings: Findings
    before: tuple[tuple[int, int, int] | None, ...]
    """What was at the outputs' paths when the run began (:meth:`OutputPaths.states`)."""


Record = SegmentRecord | SegmentFailure


def run_job(segmenter: Segmenter, job: Job) -> Record:
    """The record of one input, a failure included (one input's failure, whatever it is, ends
    only that input)."""
    try:
        if job.item.problem:
            raise InputError(job.item.problem)
        return segment_file(segmenter, job.item.path, job.outputs, job.extras, job.findings)
    except Exception as exc:
        return _failure(job, describe_failure(exc, job.item.path))


def _failure(job: Job, error: str) -> SegmentFailure:
    """The record of an input that failed, and the one line that says why."""
    return SegmentFailure(str(job.item.path), error, job.item.photograph)


def lost_job(job: Job, reason: str, writer: int | None) -> SegmentFailure:
    """The record of an input without a result of its own: its worker (process ``writer``)
    died, or a stop came before it was started (``None``). What a worker that died wrote of it
    in this run, files and temporaries, is removed (a photograph reported failed leaves no
    files)."""
    if writer is not None:
        job.outputs.remove_changed(job.before)
        remove_partials_of(job.outputs.mask.parent, writer)
    return _failure(job, one_line(f"{job.item.path}: {reason}"))


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=NonBlankPath(readable=False, path_type=str))
@click.option(
    "-o",
    "--outdir",
    type=NonBlankPath(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for <stem>_mask.png (and overlays).",
)
@segmenter_options
@artery_vein_options(ARTERY_VEIN_MAP_HELP)
@click.option(
    "--overlay", is_flag=True, help="Also write <stem>_overlay.png (vessels over the photo)."
)
@click.option("--prob", is_flag=True, help="Also write <stem>_prob.png (probability x 255).")
@findings_options
@jobs_option(SEGMENT_MEMORY)
@json_option
def segment(inputs, outdir, runtime, config, artery_vein, overlay, prob, findings, jobs, as_json):
    """Segment vessels in photographs: files, folders or glob patterns.

    A folder (also one a pattern matches) gives its image files, less hidden ones and what
    segment and measure --picture write (<stem>_mask.png, _overlay, _prob, _av, _measure), so
    OUTDIR may be the photographs' folder.
    Writes OUTDIR/<stem>_mask.png (8-bit, 255 = vessel, the size of the input). Prints a line
    per photograph (or a JSON record with --json) and a closing summary on stdout; a bad file is
    reported on one line on stderr and skipped, and the exit status is 1 if any input failed or
    none was found (a warning says so, naming the suffixes read, how many files are named as
    the maps it writes, never taken, and the suffixes of the folder's other files: an empty
    folder is usually a camera that wrote elsewhere).
    Each photograph gets a verdict ("ok", "retake: blurred", "not fundus"); one that is not a
    fundus photograph is also a warning on stderr, and the exit status is 4 when some were not
    (and none failed). Outputs are written under a temporary name and renamed, and never
    replace an input.
    SIGINT, SIGTERM or SIGHUP (unless ignored when it started: nohup) stops it after the
    photographs in progress; the others fail as stopped. So does standard output closing
    (| head); the exit status is then 1.
    """
    started = time.perf_counter()
    check_jobs(jobs, runtime)
    segmenter = Segmenter(runtime, config, artery_vein)  # a bad model or option stops here
    listed = collect_inputs(list(inputs))
    if not listed:
        click.echo(f"warning: {no_photographs(list(inputs))}", err=True)
        click.get_current_context().exit(1)
    prepare_outdir(outdir)
    table = outdir / MEASUREMENTS_CSV if findings.measurements else None
    if table is not None:
        check_csv_target(table, [item.path for item in listed])
    plans = plan_outputs([item.path for item in listed], outdir)
    extras = Extras(overlay, prob)
    work = [
        Job(item, outputs, extras, findings, outputs.states())
        for item, outputs in zip(listed, plans, strict=True)
    ]
    jobs = job_count(jobs, [item.path for item in listed], runtime)
    stdout, stderr = sys.stdout, sys.stderr
    bar = len(work) > 1 and stderr.isatty() and not (stdout.isatty() or as_json)
    failed = not_fundus = 0
    rows = []
    redone: dict[str, str] = {}  # why an input was done again, by its path, until reported
    killed = 0  # workers killed by SIGKILL, each taking a process from the run

    def note_redone(job: Job, why: str) -> None:
        nonlocal killed
        killed += 1
        redone[str(job.item.path)] = why

    with stopping_on_signals() as stop:
        out = ResultLines(stop)
        records = run_jobs(run_job, work, segmenter, jobs, lost_job, stop, note_redone)
        with (
            contextlib.closing(records),
            click.progressbar(  # the workers go, whatever happens
                records, length=len(work), label="segmenting", file=stderr, hidden=not bar
            ) as progress,
        ):
            for record in progress:
                failed += not record.ok
                not_fundus += _not_fundus(record)
                rows.append(_row(record))
                again = redone.pop(record.path, None)
                _report(record, out, as_json, findings.camera, artery_vein is not None, again)
    done = len(work) - failed
    if not as_json:
        out.echo(
            f"segmented {done} of {len(work)} photographs in "
            f"{time.perf_counter() - started:.1f} s ({counted(jobs, 'process', 'processes')}"
            + (f", {max(1, jobs - killed)} after {killed} killed" if killed else "")
            + ")"
            + (f", {failed} failed" if failed else "")
            + (f", {not_fundus} not fundus" if not_fundus else "")
        )
    if table is not None:
        write_measurement_csv(table, rows)
    out.check(f"{done} of {len(work)} photographs")
    if failed:
        raise click.ClickException(f"{failed} of {len(work)} inputs failed")
    if not_fundus:
        raise click.exceptions.Exit(EXIT_NOT_FUNDUS)


def _not_fundus(record: Record) -> bool:
    return isinstance(record, SegmentRecord) and bool(record.verdict) and not record.verdict.fundus


def _row(record: Record) -> dict[str, object]:
    if isinstance(record, SegmentFailure):
        return measurement_row(record.path, None, record.error, photograph=record.photograph)
    return measurement_row(
        record.path,
        record.measurements,
        record.not_measured,
        record.provenance,
        record.verdict,
        record.photograph,
    )


def warned(
    record: SegmentRecord, camera: CameraScale, artery_vein: bool, redone: str | None = None
) -> SegmentRecord:
    """The record with its warnings, each also printed on stderr naming the file: why it was
    done again (``redone``: its worker was killed); a picture that is not a fundus photograph
    (and what failed); millimetres asked for by the ``camera``'s field of view in degrees where
    no field of view was found (its measurements are in pixels only); arteries and veins asked
    for (``artery_vein``) of a photograph without colour (no map is written); a vessel map that
    was no vessel map to measure."""
    found = [] if redone is None else [redone]
    if artery_vein and "artery_vein" not in record.outputs:
        found.append(f"{NO_COLOUR}, so no artery/vein map: they differ in colour")
    if _not_fundus(record):
        found.append(record.verdict.summary())
    if camera.field_degrees is not None and record.measurements and not record.fov_found:
        found.append(
            "no field of view found, so --fov-degrees gives no millimetres (--pixel-mm does)"
        )
    if record.not_measured:
        found.append(record.not_measured)
    lines = tuple(one_line(f"{record.path}: {warning}") for warning in found)
    for line in lines:
        click.echo(f"warning: {line}", err=True)
    return dataclasses.replace(record, warnings=lines)


def _report(
    record: Record,
    out: ResultLines,
    as_json: bool,
    camera: CameraScale,
    artery_vein: bool,
    redone: str | None,
) -> None:
    if isinstance(record, SegmentFailure):
        if redone is not None:  # and failed again
            click.echo(f"warning: {one_line(f'{record.path}: {redone}')}", err=True)
        click.echo(f"error: {record.error}", err=True)
    else:
        record = warned(record, camera, artery_vein, redone)
    if as_json:
        out.echo(json_text(encode(record)))
    elif isinstance(record, SegmentRecord):
        verdict = "" if record.verdict is None else f"{record.verdict.word()}; "
        out.echo(
            f"{one_line(record.path)} -> {one_line(record.outputs['mask'])}: {verdict}vessels "
            f"{record.vessel_fraction:.1%} of the field of view; "
            f"{record.segment_ms:.0f} ms segmenting, {record.write_ms:.0f} ms writing"
        )
