"""Float32 vs int8 LiteRT latency and size of one Keras model, measured in one run.

    python benchmarks/int8_vs_float.py MODEL.keras ../shared/data/retinal_vessel_dev.npz

Converts MODEL to its float32 twin and to full-integer int8 (in a temporary directory), then
times both through edge_runtime's PatchModel (the code the device runs) on the same patches,
alternating the two so that machine noise hits both alike. Prints medians and their ratio.
"""

import statistics
import tempfile
import time
from pathlib import Path

import click

from converters.tflite_export import export_tflite
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME, preprocess_patches
from edge_runtime.data.patches import TRAIN_IMAGES, load_patches
from edge_runtime.inference.patch_model import PatchModel
from edge_runtime.inference.runtime_options import RuntimeOptions
from training.model_io import load_keras_model


def _ms_per_patch(model: PatchModel, x) -> float:
    started = time.perf_counter()
    model.predict(x)
    return (time.perf_counter() - started) * 1000 / len(x)


@click.command()
@click.argument("keras_model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--images", default=TRAIN_IMAGES, show_default=True)
@click.option("--patches", type=click.IntRange(1), default=200, show_default=True)
@click.option("--repeats", type=click.IntRange(1), default=7, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True)
def main(
    keras_model: Path, data: Path, images: str, patches: int, repeats: int, threads: int
) -> None:
    """Print float and int8 ms per patch, their ratio, and the two file sizes."""
    x = preprocess_patches(load_patches(data, images)[:patches])
    model = load_keras_model(keras_model, PREPROCESSING_NAME)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, quantization in (("float32", "float"), ("int8", "int8")):
            paths[name] = Path(tmp) / f"{name}.tflite"
            paths[name].write_bytes(export_tflite(model, x, quantization))
        models = {name: PatchModel(RuntimeOptions(path, threads)) for name, path in paths.items()}
        for m in models.values():
            m.predict(x[:8])  # warm-up
        times = {name: [] for name in models}
        for _ in range(repeats):
            for name, m in models.items():
                times[name].append(_ms_per_patch(m, x))
        sizes = {name: path.stat().st_size for name, path in paths.items()}
    ratios = [f / q for f, q in zip(times["float32"], times["int8"], strict=True)]
    click.echo(
        f"model: {keras_model} ({model.count_params():,} parameters), {len(x)} patches, "
        f"{threads} thread(s), {repeats} alternating repeats"
    )
    for name in models:
        median = statistics.median(times[name])
        click.echo(f"{name:>8}: {median:.3f} ms/patch, {sizes[name] / 1024:.1f} KiB")
    size_ratio = sizes["int8"] / sizes["float32"]
    click.echo(
        f"   ratio: int8 is {statistics.median(ratios):.2f}x as fast as float32 (median of "
        f"per-repeat ratios), {size_ratio:.2f} of its size"
    )


if __name__ == "__main__":
    main()
