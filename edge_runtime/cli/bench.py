"""``edge-seg bench``: latency per patch and per photograph, peak memory, on this device."""

import json
import resource
import statistics
import time
from pathlib import Path

import click
import numpy as np

from edge_runtime.cli.options import (
    delegate_option,
    json_option,
    model_option,
    threads_option,
    trusted_keys_option,
    tta_option,
)
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.interpreter import backend_name
from edge_runtime.pipeline.decode import MAX_PIXELS, MIN_SIDE
from edge_runtime.pipeline.segmenter import Segmenter

PATCHES = 64
"""Patches per run when timing the per-patch cost (run in the model's batches, as a photograph's
tiles are)."""


def _size(_ctx, _param, value: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"got {value!r}, expected HEIGHTxWIDTH, e.g. 584x565") from None
    if min(height, width) < MIN_SIDE:
        raise click.BadParameter(f"got {value!r}, each side needs at least {MIN_SIDE} pixels")
    if height * width > MAX_PIXELS:
        raise click.BadParameter(
            f"got {value!r}, photographs above {MAX_PIXELS // 1_000_000} megapixels are refused"
        )
    return height, width


def _median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


@click.command()
@model_option
@threads_option
@delegate_option
@tta_option
@trusted_keys_option
@click.option("--image", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A photograph to time end to end (decoding included).")  # fmt: skip
@click.option("--size", default="584x565", show_default=True, callback=_size,
              help="HEIGHTxWIDTH of a synthetic photograph, when no --image is given "
                   "(default: a DRIVE-sized photograph).")  # fmt: skip
@click.option("--runs", type=click.IntRange(1, 10_000), default=10, show_default=True)
@json_option
def bench(model, threads, delegate, tta, trusted_keys, image, size, runs, as_json):
    """Median milliseconds per 64x64 patch (in batches) and per whole photograph end to end,
    tiles per photograph and peak memory, with the interpreter backend in use."""
    segmenter = Segmenter(
        model, threads=threads, delegate=delegate, tta=tta, trusted_keys=trusted_keys
    )
    target = image if image is not None else synthetic_fundus(*size)
    side = segmenter.tile
    patches = np.random.default_rng(0).random((PATCHES, side, side, 1), dtype=np.float32)
    segmenter.model.predict(patches)  # warm-up
    patch_ms = _median_ms(lambda: segmenter.model.predict(patches), runs)
    result = segmenter.segment(target)  # warm-up, and the tile count
    photo_ms = _median_ms(lambda: segmenter.segment(target), runs)
    report = {
        "model": str(segmenter.model.path),
        "backend": backend_name(),
        "threads": threads,
        "tta": tta,
        "photo": str(image) if image is not None else f"synthetic {size[0]}x{size[1]}",
        "height": int(result.mask.shape[0]),
        "width": int(result.mask.shape[1]),
        "patch_ms": round(patch_ms / PATCHES, 3),
        "batch_size": segmenter.model.batch_size,
        "photo_ms": round(photo_ms, 1),
        "tiles": result.stats.tiles,
        "runs": runs,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if as_json:
        click.echo(json.dumps(report, allow_nan=False))
    else:
        for key, value in report.items():
            click.echo(f"{key + ':':<13}{value}")
