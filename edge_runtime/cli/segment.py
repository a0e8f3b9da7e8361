"""``edge-seg segment``: segment vessels in photographs, writing one mask PNG per input."""

import json
from pathlib import Path

import click

from edge_runtime.app.files import prepare_outdir, segment_file
from edge_runtime.app.outputs import Extras, collect_inputs, plan_outputs
from edge_runtime.cli.options import json_option, segmenter_options
from edge_runtime.errors import InputError, describe_failure, one_line


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory for <stem>_mask.png (and overlays).")  # fmt: skip
@segmenter_options
@click.option(
    "--overlay", is_flag=True, help="Also write <stem>_overlay.png (vessels over the photo)."
)
@click.option("--prob", is_flag=True, help="Also write <stem>_prob.png (probability x 255).")
@json_option
def segment(inputs, outdir, segmenter, overlay, prob, as_json):
    """Segment vessels in photographs: files, directories or glob patterns.

    Writes OUTDIR/<stem>_mask.png (8-bit, 255 = vessel, the size of the input). A bad file is
    reported on one line and skipped; the exit status is 1 if any input failed. Outputs are
    written under a temporary name and renamed, and never replace an input.
    """
    listed = collect_inputs(list(inputs))
    prepare_outdir(outdir)
    plans = plan_outputs([item.path for item in listed], outdir)
    failed = 0
    progress = len(listed) > 1 and not as_json
    stderr = click.get_text_stream("stderr")
    jobs = list(zip(listed, plans, strict=True))
    with click.progressbar(jobs, label="segmenting", file=stderr, hidden=not progress) as bar:
        for item, outputs in bar:
            try:
                if item.problem:
                    raise InputError(item.problem)
                record = segment_file(segmenter, item.path, outputs, Extras(overlay, prob))
            except Exception as exc:  # one input's failure, whatever it is, ends only that input
                failed += 1
                error = describe_failure(exc, item.path)
                record = {"path": str(item.path), "ok": False, "error": error}
                newline = "\n" if progress and stderr.isatty() else ""  # end the bar's line
                click.echo(f"{newline}error: {error}", err=True)
            _report(record, as_json, progress)
    if failed:
        raise click.ClickException(f"{failed} of {len(listed)} inputs failed")


def _report(record: dict, as_json: bool, progress: bool) -> None:
    if as_json:
        click.echo(json.dumps(record, allow_nan=False))
    elif record["ok"] and not progress:
        click.echo(
            f"{one_line(record['path'])} -> {one_line(record['outputs']['mask'])} (vessels "
            f"{record['vessel_fraction']:.1%} of the field of view, {record['ms']:.0f} ms)"
        )
