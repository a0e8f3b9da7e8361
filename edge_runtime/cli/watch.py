"""``edge-seg watch``: the camera's drop folder."""

import contextlib
import functools
import signal
from pathlib import Path

import click

from edge_runtime.analysis.segmentation import Segmenter
from edge_runtime.app.files import prepare_outdir, segment_file
from edge_runtime.app.outputs import Extras
from edge_runtime.app.watcher import FolderWatcher, settings_digest
from edge_runtime.cli.options import (
    ARTERY_VEIN_MAP_HELP,
    NonBlankPath,
    artery_vein_options,
    findings_options,
    finite_range,
    json_option,
    refuse_given,
    segmenter_options,
)
from edge_runtime.cli.results import ResultLines
from edge_runtime.cli.segment import warned
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.contract.verdict_record import verdict_word
from edge_runtime.errors import counted, one_line
from edge_runtime.pipeline.parallel import stopping_on_signals


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--outdir",
    type=NonBlankPath(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the masks (and overlays, probabilities) and the watcher's state; never "
    "the watched folder.",
)
@segmenter_options
@artery_vein_options(ARTERY_VEIN_MAP_HELP)
@click.option("--overlay", is_flag=True, help="Also write <stem>_overlay.png.")
@click.option("--prob", is_flag=True, help="Also write <stem>_prob.png.")
@findings_options
@click.option(
    "--interval",
    type=finite_range(0.05, 3600),
    default=0.5,
    show_default=True,
    help="Seconds between looks at the folder.",
)
@click.option(
    "--settle",
    type=finite_range(0, 3600),
    default=1.0,
    show_default=True,
    help="Seconds a file must stay unchanged before it is taken (complete).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Process what has settled now, then exit (status 1 if a photograph failed or was left "
    "unprocessed, or a signal stopped it).",
)
@json_option
def watch(
    directory,
    outdir,
    runtime,
    config,
    artery_vein,
    overlay,
    prob,
    findings,
    interval,
    settle,
    once,
    as_json,
):
    """Segment each photograph dropped into DIRECTORY once, when it is fully written.

    Progress is remembered in OUTDIR/.edge-seg-watch.json across restarts (restarted with
    another model or other settings, the photographs done are not done again, and a warning
    counts those still in DIRECTORY and unchanged, once a change of settings: remove that file
    to have them redone); a bad
    file is reported and skipped (until it changes); a file not named as a photograph it reads
    (a .dcm, a .heic; hidden files aside) is not taken: the first of its suffix to stay
    unchanged for --settle seconds (a temporary name renamed in time does not) gets one warning
    a run for all of that suffix, naming the suffixes read; a failure that is not the file's (a
    full disk, a model that fails) is retried with growing pauses, and so is a file that cannot
    be read (a lock, a network share's error: said once); SIGINT, SIGTERM or SIGHUP
    (unless ignored when it started: nohup) stops after the current photograph, and so does
    standard output closing (exit status 1). A photograph that changed is done again, its earlier
    outputs written over once it is decoded (those not written again removed; all removed if it
    fails, kept while it cannot be read). Each photograph gets a verdict ("ok", "retake: blurred",
    "not fundus": also a warning on stderr). With --once, each photograph left unprocessed (not
    settled yet, not examinable, failed in an earlier run and unchanged since, or done and
    changed but unreadable to compare it or do it again: kept as done, its outputs too) gets a
    warning, and the exit status is 1 if any photograph failed or was left, or a signal stopped
    it (the rest are left for the next run); a file not taken is no photograph left, and its
    warning keeps the status 0. Either way the exit status is 1 if the state could not be saved
    at the end. --measure needs --json: the records are where the measurements go.
    """
    if once:
        why = "of the time between looks, but --once looks once"
        refuse_given(click.get_current_context(), ("interval",), why)
    if findings.measurements and not as_json:
        raise click.UsageError("--measure needs --json: the JSON records carry the measurements")
    segmenter = Segmenter(runtime, config, artery_vein)
    prepare_outdir(outdir)

    def warn(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    extras = Extras(overlay, prob)

    def process(path: Path, outputs) -> dict:
        record = segment_file(segmenter, path, outputs, extras, findings)
        return encode(warned(record, findings.camera, artery_vein is not None))

    # not --delegate: a model compiled for the Edge TPU runs only there and any other only on
    # the CPU (make_interpreter refuses either elsewhere), so the model's SHA-256 says which
    settings = settings_digest(segmenter.provenance, extras, findings)
    watcher = FolderWatcher(directory, outdir, process, settle, warn=warn, settings=settings)

    def report(out: ResultLines, record: dict) -> None:
        if record["ok"] or as_json:
            out.echo(_shown(record, as_json))
            if out.closed and record["ok"]:  # its record was lost: the next run does it again
                watcher.forget(Path(record["path"]))
        else:  # --once does not try again: the next run does
            again = "retry_in_s" in record and not once
            retry = f" (trying again in {record['retry_in_s']:g} s)" if again else ""
            click.echo(f"error: {record['error']}{retry}", err=True)

    with contextlib.closing(watcher):  # lets another watcher write there after it
        if once:
            failed = 0
            with stopping_on_signals() as stop:
                out = ResultLines(stop)  # closing, it stops the look as a signal does
                for record in watcher.poll(stop):
                    report(out, record)
                    failed += not record["ok"]
            for unprocessed in watcher.unprocessed:
                warn(one_line(f"{unprocessed.path}: left unprocessed, {unprocessed.reason}"))
            left = len(watcher.unprocessed)
            said = f"{counted(failed, 'photograph')} failed, {left} left unprocessed"
            if stop.is_set():
                said += f"; stopped{stop.by}: those not looked at are left for the next run"
            saved = watcher.save()
            if not saved:
                said += f"; {UNSAVED}"
            if failed or watcher.unprocessed or stop.is_set() or not saved:
                raise click.ClickException(said)
            return
        with stopping_on_signals() as stop:
            out = ResultLines(stop)
            if not as_json:
                said = f"{directory} -> {outdir} ({_either(stop.signals)} to stop)"
                out.echo(one_line(f"watching {said}"))
            watcher.run(stop, interval, functools.partial(report, out))
        if not watcher.save():
            raise click.ClickException(f"stopped; {UNSAVED}")
        out.check("the photograph in progress")  # exit 1: a service manager starts it again
        if not as_json:
            out.echo("stopped")


def _either(signals: tuple[signal.Signals, ...]) -> str:
    """The signals that stop the watcher, in words (said when it starts): "SIGINT, SIGTERM or
    SIGHUP", "SIGINT or SIGTERM" under ``nohup``."""
    names = [s.name for s in signals] or ["no signal"]
    return " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))


UNSAVED = "the watch state could not be saved: a restart does again what it does not hold"


def _shown(record: dict, as_json: bool) -> str:
    """A photograph's line on stdout: its JSON record, or its mask and verdict."""
    if as_json:
        return json_text(record)
    path, mask = one_line(record["path"]), one_line(record["outputs"]["mask"])
    verdict = record.get("verdict")
    word = "" if verdict is None else f": {_word(verdict)}"
    return f"{path} -> {mask}{word} ({record['ms']:.0f} ms)"


def _word(verdict: dict) -> str:
    codes = [reason["code"] for reason in verdict["reasons"]]
    return verdict_word(verdict["fundus"], verdict["usable"], codes)
