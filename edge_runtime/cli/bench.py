"""``edge-seg bench``: latency per patch and per photograph, peak memory, on this device."""

from pathlib import Path

import click

from edge_runtime.cli.options import (
    NonBlankPath,
    artery_vein_options,
    json_option,
    refuse_given,
    segmenter_options,
)
from edge_runtime.contract.schema import encode, json_text
from edge_runtime.evaluation.bench import benchmark
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.pipeline.decode import MAX_PIXELS, MIN_SIDE


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


@click.command()
@segmenter_options
@artery_vein_options("times both outputs (photo_ms), as segment --av makes them.")
@click.option(
    "--image",
    type=NonBlankPath(dir_okay=False, path_type=Path),
    default=None,
    help="A photograph to time end to end (decoding included).",
)
@click.option(
    "--size",
    default="584x565",
    show_default=True,
    callback=_size,
    help="HEIGHTxWIDTH of a synthetic photograph, when no --image is given (default: a "
    "DRIVE-sized photograph).",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 10_000),
    default=10,
    show_default=True,
    help="Timed repetitions of each measurement (the median is reported).",
)
@json_option
def bench(runtime, config, artery_vein, image, size, runs, as_json):
    """Time a model per patch and per whole photograph, with peak memory.

    Median milliseconds per 64x64 patch (in batches) and per whole photograph end to end, tiles
    per photograph, peak memory, the interpreter backend in use, and whether each photograph's
    freed memory was kept for the next (glibc's malloc)."""
    if image is not None:
        refuse_given(
            click.get_current_context(),
            ("size",),
            "of the synthetic photograph, timed only without --image",
        )
    if image is None:
        photo, name = synthetic_fundus(*size), f"synthetic {size[0]}x{size[1]}"
    else:
        photo, name = image, str(image)
    record = encode(benchmark(runtime, config, photo, name, runs, artery_vein))
    if as_json:
        click.echo(json_text(record))
    else:
        width = max(map(len, record)) + 2
        for key, value in record.items():
            click.echo(f"{key + ':':<{width}}{'none' if value is None else value}")
