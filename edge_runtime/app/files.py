"""Segment photograph files into an output folder: what ``segment``, ``watch`` and ``demo`` do
for each input."""

import os
import time
from pathlib import Path

from edge_runtime.app.outputs import Extras, OutputPaths, write_outputs
from edge_runtime.errors import OutputError
from edge_runtime.pipeline.decode import load_photo
from edge_runtime.pipeline.segmenter import Segmenter


def prepare_outdir(outdir: Path) -> None:
    """Create the output directory and check it is writable.

    Raises:
        OutputError: it cannot be created, is not a directory, or is not writable.
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


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def segment_file(segmenter: Segmenter, path: Path, outputs: OutputPaths, extras: Extras) -> dict:
    """Segment one file and write its outputs; returns its JSON-ready record: ``segment_ms``
    (decoding included) and ``write_ms`` apart, ``stages_ms`` per stage, ``ms`` in all.

    Raises:
        InputError: the file cannot be segmented.
        OutputError: an output cannot be written.
    """
    started = time.perf_counter()
    photo = load_photo(path)
    decoded = time.perf_counter()
    result = segmenter.segment(photo)
    segmented = time.perf_counter()
    written = write_outputs(outputs, photo, result, extras)
    done = time.perf_counter()
    stages = {k: v for k, v in result.stats.ms.items() if k not in ("decode", "total")}
    return {
        "path": str(path),
        "ok": True,
        "outputs": written,
        "width": photo.shape[1],
        "height": photo.shape[0],
        "vessel_fraction": round(result.stats.vessel_fraction, 6),
        "tiles": result.stats.tiles,
        "fov_found": result.stats.fov_found,
        "ms": _ms(done - started),
        "segment_ms": _ms(segmented - started),
        "write_ms": _ms(done - segmented),
        "stages_ms": {"decode": _ms(decoded - started), **stages, "write": _ms(done - segmented)},
    }
