"""``edge-seg segment``: segment vessels in photographs, writing one mask PNG per input."""

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from edge_runtime.app.files import prepare_outdir, segment_file
from edge_runtime.app.outputs import Extras, Input, OutputPaths, collect_inputs, plan_outputs
from edge_runtime.app.parallel import job_count, run_jobs
from edge_runtime.cli.options import jobs_option, json_option, segmenter_options
from edge_runtime.errors import InputError, describe_failure, one_line
from edge_runtime.pipeline.segmenter import Segmenter


@dataclass(frozen=True)
class Job:
    """One input and where its outputs go."""

    item: Input
    outputs: OutputPaths
    extras: Extras


def run_job(segmenter: Segmenter, job: Job) -> dict:
    """The record of one input, a failure included (one input's failure, whatever it is, ends
    only that input)."""
    try:
        if job.item.problem:
            raise InputError(job.item.problem)
        return segment_file(segmenter, job.item.path, job.outputs, job.extras)
    except Exception as exc:
        return {
            "path": str(job.item.path),
            "ok": False,
            "error": describe_failure(exc, job.item.path),
        }


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory for <stem>_mask.png (and overlays).")  # fmt: skip
@segmenter_options
@click.option(
    "--overlay", is_flag=True, help="Also write <stem>_overlay.png (vessels over the photo)."
)
@click.option("--prob", is_flag=True, help="Also write <stem>_prob.png (probability x 255).")
@jobs_option
@json_option
def segment(inputs, outdir, settings, overlay, prob, jobs, as_json):
    """Segment vessels in photographs: files, directories or glob patterns.

    Writes OUTDIR/<stem>_mask.png (8-bit, 255 = vessel, the size of the input). Prints a line
    per photograph (or a JSON record with --json) and a closing summary on stdout; a bad file is
    reported on one line on stderr and skipped, and the exit status is 1 if any input failed.
    Outputs are written under a temporary name and renamed, and never replace an input.
    """
    started = time.perf_counter()
    segmenter = settings.build()  # a bad model or option stops here, before any work
    listed = collect_inputs(list(inputs))
    prepare_outdir(outdir)
    plans = plan_outputs([item.path for item in listed], outdir)
    extras = Extras(overlay, prob)
    work = [Job(item, outputs, extras) for item, outputs in zip(listed, plans, strict=True)]
    jobs = job_count(jobs, len(work), settings)
    stdout, stderr = sys.stdout, sys.stderr
    bar = len(work) > 1 and stderr.isatty() and not (stdout.isatty() or as_json)
    failed = 0
    records = run_jobs(run_job, work, segmenter, jobs, settings)
    with click.progressbar(records, length=len(work), label="segmenting", file=stderr,
                           hidden=not bar) as progress:  # fmt: skip
        for record in progress:
            failed += not record["ok"]
            _report(record, as_json)
    if not as_json:
        done = len(work) - failed
        click.echo(
            f"segmented {done} of {len(work)} photographs in "
            f"{time.perf_counter() - started:.1f} s ({jobs} process{'es' * (jobs > 1)})"
            + (f", {failed} failed" if failed else "")
        )
    if failed:
        raise click.ClickException(f"{failed} of {len(work)} inputs failed")


def _report(record: dict, as_json: bool) -> None:
    if not record["ok"]:
        click.echo(f"error: {record['error']}", err=True)
    if as_json:
        click.echo(json.dumps(record, allow_nan=False))
    elif record["ok"]:
        click.echo(
            f"{one_line(record['path'])} -> {one_line(record['outputs']['mask'])}: vessels "
            f"{record['vessel_fraction']:.1%} of the field of view; "
            f"{record['segment_ms']:.0f} ms segmenting, {record['write_ms']:.0f} ms writing"
        )
