"""The CSV file of a run's measurements (``measure --csv``, ``segment --measure``): one row
per input, its path, the photograph's name
(:func:`~edge_runtime.contract.provenance.photograph_name`, empty for a map that does not name
it), whether it succeeded (else the error), the photograph's verdict
(:class:`~edge_runtime.contract.verdict_record.VerdictRecord`, empty for a map without), the package
that measured it, the flat measurements and what made its map
(:class:`~edge_runtime.contract.provenance.Provenance`, empty for a map without)."""

import csv
import io
from pathlib import Path

from edge_runtime.app.outputs import identity, is_written_output
from edge_runtime.atomic import check_writable, write_text
from edge_runtime.contract.measurement_record import MapMeasurements
from edge_runtime.contract.provenance import COLUMNS as PROVENANCE_COLUMNS
from edge_runtime.contract.provenance import SOFTWARE, Provenance
from edge_runtime.contract.verdict_record import COLUMNS as VERDICT_COLUMNS
from edge_runtime.contract.verdict_record import VerdictRecord
from edge_runtime.errors import OutputError
from edge_runtime.measure.files import COLUMNS, flat_record
from edge_runtime.spreadsheet import spreadsheet_cell

HEADER = [
    "path",
    "photograph",
    "ok",
    "error",
    *VERDICT_COLUMNS,
    "measured_by",
    *COLUMNS,
    *PROVENANCE_COLUMNS,
]
"""The CSV's columns, in order."""


def measurement_row(
    path: str,
    measurements: MapMeasurements | None,
    error: str | None = None,
    provenance: Provenance | None = None,
    verdict: VerdictRecord | None = None,
    photograph: str | None = None,
) -> dict[str, object]:
    """One row: an input's measurements and the package that made them (``measured_by``:
    this one), or the error that left it without, its photograph's verdict (a photograph to
    retake, or no fundus photograph, is measured too: the row says so), what made its map and
    the name of the ``photograph`` it was made of."""
    made = {} if provenance is None else provenance.columns()
    judged = {} if verdict is None else verdict.columns()
    named = {"path": path, "photograph": photograph}
    if measurements is None:
        return {**named, "ok": False, "error": error, **judged, **made}
    measured = {"measured_by": SOFTWARE, **flat_record(measurements)}
    return {**named, "ok": True, **judged, **measured, **made}


def check_csv_target(target: Path, inputs: list[Path]) -> None:
    """Refuse, before any work, a CSV file that cannot be written where it is asked for or
    that would replace an input.

    Raises:
        OutputError: it cannot be written (:func:`~edge_runtime.atomic.check_writable`), it
            is named as a mask, map or picture is (the run could write one there), or it is one
            of the ``inputs``.
    """
    if is_written_output(Path(target.name.lower())):  # what a case-blind file system takes
        raise OutputError(
            f"{target}: named as segment's maps and measure's pictures are, expected a new "
            "file for the CSV (one of them could be written there)"
        )
    check_writable(target)
    if identity(target) is not None and identity(target) in {identity(p) for p in inputs}:
        raise OutputError(f"{target}: is one of the inputs, expected a new file for the CSV")


def write_measurement_csv(target: Path, rows: list[dict[str, object]]) -> None:
    """All rows (:func:`measurement_row`) in one CSV file, written atomically, each cell as
    :func:`~edge_runtime.spreadsheet.spreadsheet_cell` makes it (a path ``=1+1.jpg`` as
    ``'=1+1.jpg``).

    Raises:
        OutputError: it cannot be written.
    """
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, HEADER, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(
        {column: spreadsheet_cell(cell) for column, cell in row.items()} for row in rows
    )
    write_text(target, table.getvalue())
