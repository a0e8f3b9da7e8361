"""The device runtime against the float Keras model on the same photograph, measured in one run.

    python benchmarks/runtime_vs_keras.py MODEL.keras MODEL_int8.tflite PHOTO

Each side runs in processes of its own (TensorFlow in the same process slows LiteRT down), on
one thread (TensorFlow's intra- and inter-op pools are set to 1, like the interpreter's), and
the two alternate so that machine noise hits both alike.
Warm: `edge-seg bench --image PHOTO` (decode to mask, median per photograph) against Keras
`predict` on exactly the tiles that segmentation runs, preprocessed beforehand, so Keras is
charged for inference only (median per photograph). Cold: a fresh `edge-seg segment PHOTO`
process against a fresh Python that imports Keras, loads the model and predicts those tiles.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from edge_runtime.pipeline.decode import Photo, load_photo
from edge_runtime.pipeline.segmenter import Segmenter

ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}

KERAS_WARM = """
import json, statistics, sys, time, numpy as np, keras
model = keras.models.load_model(sys.argv[1], compile=False)
tiles = np.load(sys.argv[2])
model.predict(tiles, batch_size=32, verbose=0)
times = []
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    model.predict(tiles, batch_size=32, verbose=0)
    times.append((time.perf_counter() - started) * 1000)
print(json.dumps({"photo_ms": statistics.median(times)}))
"""
KERAS_COLD = """
import sys, numpy as np, keras
keras.models.load_model(sys.argv[1], compile=False).predict(np.load(sys.argv[2]), verbose=0)
"""


def _tiles(segmenter: Segmenter, photo: Photo) -> np.ndarray:
    """The preprocessed tiles the segmenter runs for this photograph (its own stages 1-2)."""
    prepared = segmenter.prepare(photo)
    return segmenter.tile_inputs(prepared.work, segmenter.tile_corners(prepared.inside))


def _run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, **ONE_THREAD}
    )
    return (time.perf_counter() - started) * 1000, done.stdout


@click.command()
@click.argument("keras_model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("tflite_model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("photo", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True)
@click.option(
    "--runs",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="Photographs per warm measurement.",
)
def main(keras_model: Path, tflite_model: Path, photo: Path, repeats: int, runs: int) -> None:
    """Print warm and cold milliseconds of both, and the runtime's speed-up."""
    tiles = _tiles(Segmenter(tflite_model), load_photo(photo))
    edge_seg = [sys.executable, "-m", "edge_runtime.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/tiles.npy", tiles)
        model, keras_tiles = ["--model", str(tflite_model)], [str(keras_model), f"{tmp}/tiles.npy"]
        photo_runs = ["--image", str(photo), "--runs", str(runs)]
        commands = {
            "warm runtime": [*edge_seg, "bench", *model, *photo_runs, "--json"],
            "warm keras": [sys.executable, "-c", KERAS_WARM, *keras_tiles, str(runs)],
            "cold runtime": [*edge_seg, "segment", str(photo), *model, "-o", tmp],
            "cold keras": [sys.executable, "-c", KERAS_COLD, *keras_tiles],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, command in commands.items():
                elapsed, out = _run(command)
                times[name].append(
                    json.loads(out)["photo_ms"] if name.startswith("warm") else elapsed
                )
    median = {name: statistics.median(values) for name, values in times.items()}
    click.echo(
        f"{photo}: {len(tiles)} tiles; runtime {tflite_model.name}, Keras {keras_model.name}"
    )
    for kind in ("warm", "cold"):
        runtime, keras_ms = median[f"{kind} runtime"], median[f"{kind} keras"]
        click.echo(
            f"{kind}: runtime {runtime:.0f} ms, Keras {keras_ms:.0f} ms, "
            f"runtime {keras_ms / runtime:.1f}x faster"
        )


if __name__ == "__main__":
    main()
