"""``edge-seg measure``: vascular measurements of vessel masks or artery/vein label images."""

import dataclasses
import os
import time
from pathlib import Path

import click

from edge_runtime.app.files import prepare_outdir
from edge_runtime.app.inputs import Input, collect_inputs
from edge_runtime.app.measurement_csv import (
    check_csv_target,
    measurement_row,
    write_measurement_csv,
)
from edge_runtime.app.outputs import (
    PICTURE_KIND,
    WRITTEN_KINDS,
    WrittenRecords,
    file_state,
    identity,
    is_written_output,
    written_records,
)
from edge_runtime.atomic import save_png
from edge_runtime.cli.options import NonBlankPath, camera_scale_options, json_option
from edge_runtime.cli.results import ResultLines
from edge_runtime.contract.provenance import SOFTWARE
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.errors import InputError, counted, describe_failure, one_line
from edge_runtime.file_names import fitted_name, unique_name
from edge_runtime.measure.files import MeasureOptions, measure_file
from edge_runtime.measure.maps import read_field_mask
from edge_runtime.measure.measurements import MapMeasurements
from edge_runtime.measure.picture import draw_picture
from edge_runtime.measure.scale import CameraScale
from edge_runtime.pipeline.decode import IMAGE_SUFFIXES


def _options(artery_vein, fov, fov_auto, camera: CameraScale) -> MeasureOptions:
    """The run's options, checked together; a field-of-view mask is read here, once.

    Raises:
        click.UsageError: options that contradict each other or lack what they need.
        InputError: the field-of-view mask cannot be used.
    """
    if fov is not None and fov_auto:
        raise click.UsageError("--fov and --fov-auto exclude each other: give one")
    if camera.field_degrees is not None and fov is None and not fov_auto:
        raise click.UsageError(
            "--fov-degrees needs the field of view it spans: give --fov MASK or --fov-auto"
        )
    mask = None if fov is None else read_field_mask(fov)
    return MeasureOptions(artery_vein, fov, mask, fov_auto, camera)


MAP_SUFFIXES = (*IMAGE_SUFFIXES, ".gif")
"""A folder's maps: its image files, GIFs too (DRIVE's manual labels are GIFs)."""


def _measured_kind(artery_vein: bool) -> str:
    """The kind of segment's output that is measured: its ``av`` maps with --av, else ``mask``."""
    return "av" if artery_vein else "mask"


@dataclasses.dataclass
class _FolderMaps:
    """Whether a file in a folder is a map to measure: not another output of ``segment`` or of
    ``measure --picture`` beside its maps (an overlay, probabilities, a picture), of the kind
    asked for (``segment``'s ``_av.png`` with ``--av``, its ``_mask.png`` without), and not the
    photograph that ``segment`` made such a map of beside it (``photo.jpg`` by
    ``photo_mask.png``, when segment wrote into the photographs' folder), which it collects in
    ``beside`` (they are named, never dropped in silence: a file is told by its name alone)."""

    artery_vein: bool
    beside: list[Path] = dataclasses.field(default_factory=list)

    def __call__(self, path: Path) -> bool:
        measured = _measured_kind(self.artery_vein)
        if is_written_output(path, tuple(kind for kind in WRITTEN_KINDS if kind != measured)):
            return False
        own_map = path.with_name(f"{fitted_name(path.stem)}_{measured}.png")
        if is_written_output(path, (measured,)) or not os.path.lexists(own_map):
            return True
        self.beside.append(path)
        return False


def _left_out(beside: list[Path], artery_vein: bool) -> str:
    """The note naming the photographs a folder gave that were left out beside their maps."""
    kind = _measured_kind(artery_vein)
    named = ", ".join(one_line(str(path)) for path in sorted(beside)[:3])
    more = f" and {len(beside) - 3} more" if len(beside) > 3 else ""
    return (
        f"note: left out {len(beside)} file(s) with a <stem>_{kind}.png beside them, taken for "
        f"the photographs segment made those maps of: {named}{more} (name one to measure it)"
    )


def _maps_read(artery_vein: bool) -> str:
    """Which of segment's outputs are maps, as the warning says when there are none."""
    measured, other = _measured_kind(artery_vein), _measured_kind(not artery_vein)
    option = "without --av" if artery_vein else "with --av"
    return (
        f"a folder gives its image files; of segment's outputs, <stem>_{measured}.png, and "
        f"<stem>_{other}.png {option}"
    )


def _picture_paths(paths: list[Path], outdir: Path) -> list[Path]:
    """``OUTDIR/<stem>_measure.png`` for each map; maps sharing a stem get ``-2``, ``-3``...,
    and no picture may be one of the maps under any path."""
    taken = {identity(p) for p in paths} - {None}
    used: set[str] = set()

    def picture(name: str) -> Path:
        return outdir / f"{name}_{PICTURE_KIND}.png"

    def clashes(name: str) -> bool:
        return identity(picture(name)) in taken

    return [picture(unique_name(path.stem, used, clashes)) for path in paths]


def _measure_one(
    item: Input, options: MeasureOptions, picture: Path | None
) -> tuple[dict, MapMeasurements | None, WrittenRecords]:
    """The JSON record of one map, its measurements (``None`` when it failed, whatever the
    reason: the record says why, and the other maps go on) and what the map says of itself,
    as ``segment`` recorded it in the file: what made it, its photograph's verdict and name
    (none for a map without: a manual label, an older package's map; of a map that failed, its
    photograph's name alone, none for one that cannot be read). A picture that cannot be drawn
    or written is the record's ``picture_error``: the measurements stand."""
    path = str(item.path)
    before, written, analysis = file_state(item.path), WrittenRecords(), None
    try:
        if item.problem:
            raise InputError(item.problem)
        written = written_records(item.path)
        analysis = measure_file(item.path, options)
    except Exception as exc:
        error = describe_failure(exc, item.path)
    if file_state(item.path) != before:  # replaced meanwhile: which was measured is unknown
        written = WrittenRecords()
    if analysis is None:  # of a map that names it, the photograph whose map failed
        named = WrittenRecords(photograph=written.photograph)
        failed = {"path": path, "ok": False, "error": error, "photograph": named.photograph}
        return failed, None, named
    record = {"path": path, "ok": True}
    if picture is not None:
        try:
            save_png(picture, draw_picture(analysis), written.text())
            record["picture"] = str(picture)
        except Exception as exc:
            record["picture_error"] = describe_failure(exc, picture)
    measured = {"measured_by": SOFTWARE, **dataclasses.asdict(analysis.measurements)}
    said = {
        "provenance": encode(written.provenance),
        "verdict": encode(written.verdict),
        "photograph": written.photograph,
    }
    return {**record, **measured, **said}, analysis.measurements, written


def _text(path: Path, m: MapMeasurements) -> str:
    """One line of the main measurements."""
    v = m.vessels
    parts = [f"vessels {v.density:.1%} of the field ({m.field})"]
    length = f"length {v.length_px:.0f} px"
    parts.append(length + ("" if v.length_mm is None else f" ({v.length_mm:.1f} mm)"))
    if v.mean_width_px is not None:
        parts.append(f"mean width {v.mean_width_px:.2f} px")
    if v.d0 is not None:
        parts.append(f"D0 {v.d0:.3f}")
    if v.tortuosity_median is not None:
        parts.append(
            f"tortuosity {v.tortuosity_median:.3f}, tortuosity density {v.tortuosity_density:.6f} "
            f"({counted(v.segments, 'segment')})"
        )
    parts.append(f"{v.end_points} end and {v.branch_points} branch points")
    if m.disc:
        parts.append(
            f"disc at ({m.disc.center_x:.0f}, {m.disc.center_y:.0f}) "
            f"confidence {m.disc.confidence:.2f}"
        )
    if m.calibers:
        c = m.calibers
        parts.append(
            f"CRAE {c.crae_px:.2f} px, CRVE {c.crve_px:.2f} px, AVR {c.avr:.3f}{c.doubts()}"
        )
    return f"{one_line(str(path))}: " + ", ".join(parts)


@click.command()
@click.argument("maps", nargs=-1, required=True, type=NonBlankPath(readable=False, path_type=str))
@click.option(
    "--av",
    "artery_vein",
    is_flag=True,
    help="Read the maps as artery/vein labels (RGB: red artery, blue vein, green crossing) and "
    "measure each class, the disc's zone B and CRAE/CRVE/AVR.",
)
@click.option(
    "--fov",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    default=None,
    help="Field-of-view mask (non-zero = inside) of the maps' size: densities are per its "
    "area [default: the whole frame].",
)
@click.option(
    "--fov-auto",
    is_flag=True,
    help="Estimate each map's field of view from its vessels (a disc reaching the outermost).",
)
@camera_scale_options
@json_option
@click.option(
    "--csv",
    "csv_file",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    default=None,
    help="Also write one CSV row per map to this file.",
)
@click.option(
    "--picture",
    type=NonBlankPath(file_okay=False, path_type=Path),
    default=None,
    help="Write DIRECTORY/<stem>_measure.png per map: skeleton, end and branch points, disc, "
    "zone B and the vessels of CRAE/CRVE.",
)
def measure(maps, artery_vein, fov, fov_auto, camera, as_json, csv_file, picture):
    """Vascular measurements of vessel maps: files, folders or glob patterns.

    A map is a vessel mask (non-zero = vessel, as segment writes; in a map or --fov mask of
    several colours and no zero, its near-black colour, each channel at most 8 of 255, is the
    background) or, with --av, an artery/vein label. Prints a line per map (or a JSON record
    with --json): vessel density, skeleton length, mean width, fractal dimension, tortuosity,
    end and branch points, the optic disc (a heuristic, not validated) and, with --av, each
    class's and CRAE, CRVE and AVR. A folder gives its image files (GIFs too), less what segment
    and --picture write beside the maps (_overlay, _prob, _measure, and _av without --av or
    _mask with it) and the photographs of the maps beside them (photo.jpg by photo_mask.png; a
    note names them). A bad map is reported on one line on stderr and skipped; the exit status
    is 2 when the only map failed, 1 when some of several did or a picture could not be written
    (its map's measurements stand). Definitions, units and limits:
    firmware_notes/MEASUREMENTS.md.
    """
    started = time.perf_counter()
    options = _options(artery_vein, fov, fov_auto, camera)
    folder_maps = _FolderMaps(artery_vein)
    listed = collect_inputs(list(maps), MAP_SUFFIXES, folder_maps, "maps")
    if folder_maps.beside:
        click.echo(_left_out(folder_maps.beside, artery_vein), err=True)
    if not listed:
        named = one_line(" ".join(maps))
        click.echo(f"warning: no maps in {named} ({_maps_read(artery_vein)})", err=True)
        click.get_current_context().exit(1)
    if csv_file is not None:
        check_csv_target(csv_file, [item.path for item in listed] + ([fov] if fov else []))
    pictures = [None] * len(listed)
    if picture is not None:
        prepare_outdir(picture)
        pictures = _picture_paths([item.path for item in listed], picture)
    rows, failed, undrawn = [], 0, 0
    out = ResultLines()
    for item, target in zip(listed, pictures, strict=True):
        if out.closed:
            failed += 1
            rows.append(measurement_row(str(item.path), None, f"{item.path}: {out.stop.reason}"))
            continue
        record, measured, written = _measure_one(item, options, target)
        rows.append(
            measurement_row(
                record["path"],
                measured,
                record.get("error"),
                written.provenance,
                written.verdict,
                written.photograph,
            )
        )
        if measured is None:
            failed += 1
            click.echo(f"error: {record['error']}", err=True)
        if "picture_error" in record:
            undrawn += 1
            click.echo(f"error: {record['picture_error']}", err=True)
        if as_json:
            out.echo(json_text(record))
        elif measured is not None:
            out.echo(_text(item.path, measured))
    done = len(listed) - failed
    if not as_json:
        out.echo(
            f"measured {done} of {len(listed)} maps in "
            f"{time.perf_counter() - started:.1f} s" + (f", {failed} failed" if failed else "")
        )
    if csv_file is not None:
        write_measurement_csv(csv_file, rows)
    out.check(f"{done} of {len(listed)} maps")
    if failed or undrawn:
        said = [f"{failed} of {len(listed)} maps failed"] * bool(failed)
        said += [f"{undrawn} of {len(listed)} pictures could not be written"] * bool(undrawn)
        exception = click.ClickException("; ".join(said))
        exception.exit_code = 2 if len(listed) == 1 and failed else 1
        raise exception
