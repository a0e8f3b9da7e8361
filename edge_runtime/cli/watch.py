"""``edge-seg watch``: the camera's drop folder."""

import json
import signal
import threading
from pathlib import Path

import click

from edge_runtime.app.files import prepare_outdir, segment_file
from edge_runtime.app.outputs import Extras
from edge_runtime.app.watch import FolderWatcher
from edge_runtime.cli.options import finite_range, json_option, segmenter_options
from edge_runtime.errors import one_line


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), required=True)
@segmenter_options
@click.option("--overlay", is_flag=True, help="Also write <stem>_overlay.png.")
@click.option("--prob", is_flag=True, help="Also write <stem>_prob.png.")
@click.option("--interval", type=finite_range(0.05, 3600), default=0.5, show_default=True,
              help="Seconds between looks at the folder.")  # fmt: skip
@click.option("--settle", type=finite_range(0, 3600), default=1.0, show_default=True,
              help="Seconds a file must stay unchanged before it is taken (complete).")  # fmt: skip
@click.option("--once", is_flag=True, help="Process what has settled now, then exit.")
@json_option
def watch(directory, outdir, settings, overlay, prob,
          interval, settle, once, as_json):  # fmt: skip
    """Segment each new photograph dropped into DIRECTORY, once, when completely written.

    Progress is remembered in OUTDIR/.edge-seg-watch.json across restarts; a bad file is
    reported and skipped (until it changes); a failure that is not the file's (a full disk, a
    model that fails) is retried with growing pauses; SIGINT or SIGTERM stops after the current
    photograph. With --once, the exit status is 1 if any photograph failed.
    """
    segmenter = settings.build()
    prepare_outdir(outdir)
    try:
        watcher = FolderWatcher(
            directory,
            outdir,
            lambda path, outputs: segment_file(segmenter, path, outputs, Extras(overlay, prob)),
            settle,
            warn=lambda message: click.echo(f"warning: {message}", err=True),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    def report(record: dict) -> None:
        if as_json:
            click.echo(json.dumps(record, allow_nan=False))
        elif record["ok"]:
            path, mask = one_line(record["path"]), one_line(record["outputs"]["mask"])
            click.echo(f"{path} -> {mask} ({record['ms']:.0f} ms)")
        else:
            retry = (
                f" (trying again in {record['retry_in_s']:g} s)" if "retry_in_s" in record else ""
            )
            click.echo(f"error: {record['error']}{retry}", err=True)

    if once:
        failed = 0
        for record in watcher.poll():
            report(record)
            failed += not record["ok"]
        if failed:
            raise click.ClickException(f"{failed} photographs failed")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if not as_json:
        click.echo(f"watching {directory} -> {outdir} (SIGINT or SIGTERM to stop)")
    watcher.run(stop, interval, report)
    if not as_json:
        click.echo("stopped")
