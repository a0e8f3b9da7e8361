"""The device runtime against the float Keras model on the same photograph, measured in one run.

    python benchmarks/runtime_vs_keras.py MODEL.keras MODEL_int8.tflite PHOTO

Warm: the runtime's whole-photograph segmentation (decode to mask, int8 LiteRT) against Keras
`predict` on exactly the tiles that segmentation ran (preprocessed beforehand, so Keras is
charged for inference only). Cold: a fresh `edge-seg segment PHOTO` process against a fresh
Python process that imports Keras, loads the model and predicts those tiles. Medians of
alternating repeats; prints the ratios.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from edge_runtime.image_io import load_image
from edge_runtime.segmenter import Segmenter

KERAS_COLD = """
import sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1], compile=False)
model.predict(np.load(sys.argv[2]), batch_size=32, verbose=0)
"""


def _tiles(segmenter: Segmenter, photo: np.ndarray) -> np.ndarray:
    """The preprocessed tiles the segmenter runs for this photograph (same geometry)."""
    captured = []
    original = segmenter.model.predict

    def spy(patches):
        captured.append(patches)
        return original(patches)

    segmenter.model.predict = spy
    try:
        segmenter.segment(photo)
    finally:
        segmenter.model.predict = original
    return np.concatenate(captured)


def _seconds(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@click.command()
@click.argument("keras_model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("tflite_model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("photo", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--repeats", type=click.IntRange(1), default=5, show_default=True)
def main(keras_model: Path, tflite_model: Path, photo: Path, repeats: int) -> None:
    """Print warm and cold milliseconds of both, and the runtime's speed-up."""
    import keras

    segmenter = Segmenter(tflite_model)
    tiles = _tiles(segmenter, load_image(photo))
    model = keras.models.load_model(keras_model, compile=False)
    model.predict(tiles[:32], verbose=0)  # warm-up
    warm = {"runtime": [], "keras": []}
    for _ in range(repeats):
        warm["runtime"].append(_seconds(lambda: segmenter.segment(photo)))
        warm["keras"].append(_seconds(lambda: model.predict(tiles, batch_size=32, verbose=0)))
    cold = {"runtime": [], "keras": []}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "tiles.npy", tiles)
        commands = {
            "runtime": [sys.executable, "-m", "edge_runtime.cli.main", "segment", str(photo),
                        "--model", str(tflite_model), "-o", tmp],
            "keras": [sys.executable, "-c", KERAS_COLD, str(keras_model), f"{tmp}/tiles.npy"],
        }  # fmt: skip
        for _ in range(max(1, repeats // 2)):
            for name, command in commands.items():
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                cold[name].append(time.perf_counter() - started)
    click.echo(
        f"{photo}: {len(tiles)} tiles; runtime {tflite_model.name}, Keras {keras_model.name}"
    )
    for kind, times in (("warm", warm), ("cold", cold)):
        runtime, keras_ms = (statistics.median(times[n]) * 1000 for n in ("runtime", "keras"))
        click.echo(
            f"{kind}: runtime {runtime:.0f} ms, Keras {keras_ms:.0f} ms, "
            f"runtime {keras_ms / runtime:.1f}x faster"
        )


if __name__ == "__main__":
    main()
