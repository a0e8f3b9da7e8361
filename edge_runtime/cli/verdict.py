"""``edge-seg verdict``: is each photograph a fundus photograph, and good enough to keep? Fast,
without the model, for the camera's capture loop."""

import time

import click

from edge_runtime.app.inputs import collect_inputs, no_photographs
from edge_runtime.cli.options import (
    SEGMENTER_OPTIONS,
    NonBlankPath,
    json_option,
    refuse_given,
    segmenter_options,
)
from edge_runtime.cli.results import ResultLines
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.contract.segment_record import SegmentFailure
from edge_runtime.errors import InputError, describe_failure, one_line
from edge_runtime.pipeline.decode import load_photo
from edge_runtime.pipeline.segmenter import Segmenter
from edge_runtime.verdict import Verdict, assess_capture
from edge_runtime.verdict.assess import assess_with_model

EXIT_RETAKE = 3
"""Exit status when every photograph was judged, all fundus photographs, some to retake."""

EXIT_NOT_FUNDUS = 4
"""Exit status when every photograph was judged and some are not fundus photographs."""


def _judge(path, segmenter: Segmenter | None) -> Verdict:
    photo = load_photo(path)
    return assess_capture(photo) if segmenter is None else assess_with_model(segmenter, photo)


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=NonBlankPath(readable=False, path_type=str))
@click.option(
    "--with-vessels",
    is_flag=True,
    help="Also run the model (slower): its vessel map counts in the quality score, and a map "
    "it is unsure of is a reason to retake (unsure-vessels).",
)
@segmenter_options
@json_option
def verdict(inputs, with_vessels, runtime, config, as_json):
    """Judge photographs: files, folders or glob patterns (no model unless --with-vessels).

    A folder gives its image files, less what segment writes (as segment's folders do).
    Prints a line per photograph: "ok", "retake: " and the reasons with what was measured
    (e.g. "blurred (sharpness 1.13 < 1.28)"), or "not a fundus photograph" (also a warning on
    stderr); with --json a record per photograph ("path", "ok", "verdict": {"fundus",
    "usable", "quality", "reasons", ...}, "ms", "provenance", "photograph": the file name, as
    segment's maps carry it and measure reports it; or "error" in place of the verdict, with
    "photograph" still, null for an input that is no photograph). A bad file is reported on one
    line and skipped. Exit status: 0 every photograph usable, 3 some to retake, 4 some not
    fundus photographs, 1 some could not be read or none was found, 2 a bad model or option
    (the model's options without --with-vessels too: they would change nothing).
    The reasons and their limits: firmware_notes/VERDICT.md.
    """
    if not with_vessels:
        refuse_given(
            click.get_current_context(),
            SEGMENTER_OPTIONS,
            "of the model, which runs only with --with-vessels",
        )
    segmenter = Segmenter(runtime, config) if with_vessels else None  # a bad model stops here
    listed = collect_inputs(list(inputs))
    if not listed:
        click.echo(f"warning: {no_photographs(list(inputs))}", err=True)
        raise click.exceptions.Exit(1)
    failed = retake = not_fundus = 0
    out = ResultLines()
    for done, item in enumerate(listed):
        if out.closed:
            out.check(f"{done} of {len(listed)} photographs")
        started = time.perf_counter()
        try:
            if item.problem:
                raise InputError(item.problem)
            judged = _judge(item.path, segmenter)
        except Exception as exc:  # one input's failure, whatever it is, ends only that input
            failed += 1
            error = describe_failure(exc, item.path)
            click.echo(f"error: {error}", err=True)
            if as_json:
                out.echo(json_text(encode(SegmentFailure(str(item.path), error, item.photograph))))
            continue
        ms = round((time.perf_counter() - started) * 1000, 1)
        retake += judged.fundus and not judged.usable
        not_fundus += not judged.fundus
        if not judged.fundus:
            click.echo(f"warning: {one_line(f'{item.path}: {judged.summary()}')}", err=True)
        if as_json:
            record = {"path": str(item.path), "ok": True, "verdict": judged.to_json(), "ms": ms}
            record["provenance"] = None if segmenter is None else encode(segmenter.provenance)
            record["photograph"] = item.photograph
            out.echo(json_text(record))
        else:
            out.echo(
                f"{one_line(str(item.path))}: {judged.summary()} (quality {judged.quality:.2f})"
            )
    out.check(f"{len(listed)} of {len(listed)} photographs")
    if failed:
        raise click.ClickException(f"{failed} of {len(listed)} inputs failed")
    if not_fundus or retake:
        raise click.exceptions.Exit(EXIT_NOT_FUNDUS if not_fundus else EXIT_RETAKE)
