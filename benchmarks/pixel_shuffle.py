"""What the pixel-shuffled device form buys the vessel model, measured in one run.

    python benchmarks/pixel_shuffle.py ../shared/data/drive [--keras training/release/model.keras]

Converts the release vessel model's Keras twin to int8 twice, with the same calibration (crops
of the folder's photographs, as ``edge-seg convert --calibration FOLDER`` draws them): as
trained, each 2x2 stride-2 transposed convolution a TRANSPOSE_CONV, and pixel-shuffled
(``training.models.pixel_shuffle_weights``: the same map in CONV_2D, CONCATENATION and RESHAPE,
the form the artery/vein model is converted in). Prints the Keras outputs' largest difference
(the same map: 0 up to float rounding), how the int8 probabilities of the two differ on the
calibration crops (their int8 ranges are calibrated apart), and the inference per tile of each
in batches of 16 (as the device runs a photograph's tiles) and of one, timed in turn, with the
ratios. The bundled vessel model is release 1.1.0's, signed with the release key; converted in
this form it is another file, to be signed at the next release.
"""

import statistics
import time
from pathlib import Path

import click
import numpy as np

from converters.tflite_export import export_tflite
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
from edge_runtime.inference.interpreter import make_interpreter
from edge_runtime.inference.quantization import dequantize, quantize
from training.model_io import load_keras_model
from training.models import build_unet_lite, pixel_shuffle_weights
from training.sources import load_photo_source

RELEASE = Path(__file__).parents[1] / "training" / "release" / "model.keras"


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--keras",
    "keras_path",
    type=click.Path(exists=True, path_type=Path),
    default=RELEASE,
    show_default=True,
)
@click.option("--crops", type=click.IntRange(16), default=512, show_default=True)
@click.option("--repeats", type=click.IntRange(1), default=15, show_default=True)
def main(folder: Path, keras_path: Path, crops: int, repeats: int) -> None:
    """Print the two forms' agreement and milliseconds per tile, and their ratios."""
    trained = load_keras_model(keras_path, PREPROCESSING_NAME)
    width = next(layer for layer in trained.layers if type(layer).__name__ == "Conv2D").filters
    depth = sum(type(layer).__name__ == "MaxPooling2D" for layer in trained.layers)
    shuffled = build_unet_lite(None, width, depth, pixel_shuffle=True)
    shuffled.set_weights(pixel_shuffle_weights(trained))
    source = load_photo_source(folder, 1.0, 0.0, "green")
    calibration = source.crops(np.random.default_rng(2211), crops)[0]
    gap = np.abs(trained.predict(calibration, verbose=0) - shuffled.predict(calibration, verbose=0))
    print(f"Keras outputs: largest difference {gap.max():.2g}")
    forms = {
        "transposed": export_tflite(trained, calibration),
        "pixel-shuffled": export_tflite(shuffled, calibration),
    }
    outputs = {name: _outputs(_allocated(content, calibration)) for name, content in forms.items()}
    old, new = outputs["transposed"], outputs["pixel-shuffled"]
    print(
        f"int8 probabilities: median difference {np.median(np.abs(old - new)):.4f}, the same "
        f"side of 0.5 on {np.mean((old >= 0.5) == (new >= 0.5)):.4%} of the crops' pixels"
    )
    times = {(name, batch): [] for name in forms for batch in (16, 1)}
    tiles = np.random.default_rng(0).random((16, *calibration.shape[1:]), dtype=np.float32)
    interpreters = {(name, batch): _allocated(forms[name], tiles[:batch]) for name, batch in times}
    for _ in range(repeats):
        for key, interpreter in interpreters.items():
            started = time.perf_counter()
            interpreter.invoke()
            times[key].append((time.perf_counter() - started) * 1000 / key[1])
    ms = {key: statistics.median(values) for key, values in times.items()}
    for batch in (16, 1):
        old, new = ms["transposed", batch], ms["pixel-shuffled", batch]
        print(
            f"batch of {batch}: transposed {old:.3f} ms a tile, pixel-shuffled {new:.3f} ms "
            f"(median of {repeats}); pixel-shuffled / transposed {new / old:.3f}"
        )


def _allocated(content: bytes, tiles: np.ndarray):
    """An interpreter of ``content`` allocated for ``tiles`` (N, P, P, 1), run once on them."""
    interpreter = make_interpreter(content)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], list(tiles.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], quantize(tiles, detail))
    interpreter.invoke()
    return interpreter


def _outputs(interpreter) -> np.ndarray:
    """The probabilities of the interpreter's last run."""
    detail = interpreter.get_output_details()[0]
    return dequantize(interpreter.get_tensor(detail["index"]), detail)


if __name__ == "__main__":
    main()
