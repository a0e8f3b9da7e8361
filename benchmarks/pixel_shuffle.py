"""What the pixel-shuffled device form buys the vessel model, measured in one run.

    python benchmarks/pixel_shuffle.py ../shared/data/drive [--keras training/release/model.keras]
        [--image ../shared/data/drive/images/05_test.tif]

Converts the release vessel model's Keras twin to int8 twice, with the same calibration (crops
of the folder's photographs, as ``edge-seg convert --calibration FOLDER`` draws them): as
trained, each 2x2 stride-2 transposed convolution a TRANSPOSE_CONV, and pixel-shuffled
(``training.models.pixel_shuffled``: the same map in CONV_2D, CONCATENATION and RESHAPE, the
form ``edge-seg convert`` and ``convert-artery-vein`` write). Prints the Keras outputs' largest
difference (the same map: 0 up to float rounding), how the int8 probabilities of the two
differ on the calibration crops (their int8 ranges are calibrated apart), the inference per
tile of each in batches of 16 (as the device runs a photograph's tiles) and of one, and a
photograph (``--image``, else a synthetic DRIVE-sized one) segmented by each, with vessels only
and with the bundled artery/vein model too, as ``edge-seg bench`` times it; all timed in turn,
with the ratios. The
bundled vessel model is release 1.1.0's transposed form, signed with the release key; converted
again it is another file, to be signed at the next release (the two files here carry its card,
for the runtime to read, and are removed after).
"""

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from converters.metadata_writer import embed_card, tensor_coding
from converters.tflite_export import export_tflite
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
from edge_runtime.evaluation.synthetic import synthetic_fundus
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.interpreter import make_interpreter
from edge_runtime.inference.model_file import read_card
from edge_runtime.inference.quantization import dequantize, quantize
from edge_runtime.pipeline.artery_vein import ArteryVeinModel
from edge_runtime.pipeline.decode import load_image
from edge_runtime.pipeline.segmenter import Segmenter
from training.model_io import load_keras_model
from training.models import pixel_shuffled
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
@click.option("--image", type=click.Path(exists=True, dir_okay=False), default=None)
def main(folder: Path, keras_path: Path, crops: int, repeats: int, image: str | None) -> None:
    """Print the two forms' agreement, their milliseconds per tile and per photograph, and the
    ratios."""
    trained = load_keras_model(keras_path, PREPROCESSING_NAME)
    shuffled = pixel_shuffled(trained)
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
        _print_ratio(
            f"batch of {batch}",
            ms["transposed", batch],
            ms["pixel-shuffled", batch],
            "a tile",
            repeats,
        )
    photo = load_image(image) if image else synthetic_fundus(584, 565)
    with tempfile.TemporaryDirectory() as folder:
        segmenters = {
            (name, both): Segmenter(
                _carded(content, Path(folder) / f"{name}.tflite"),
                artery_vein=ArteryVeinModel() if both else None,
            )
            for name, content in forms.items()
            for both in (False, True)
        }
        photo_ms = {key: [] for key in segmenters}
        for segmenter in segmenters.values():
            segmenter.segment(photo).artery_vein  # noqa: B018  (warm-up)
        for _ in range(repeats):
            for key, segmenter in segmenters.items():
                started = time.perf_counter()
                segmenter.segment(photo).artery_vein  # noqa: B018  (made when asked for)
                photo_ms[key].append((time.perf_counter() - started) * 1000)
    for both, what in ((False, "vessels"), (True, "both outputs")):
        old, new = (statistics.median(photo_ms[name, both]) for name in forms)
        _print_ratio(f"photograph {photo.shape[1]}x{photo.shape[0]}, {what}", old, new, "", repeats)


def _print_ratio(what: str, old: float, new: float, unit: str, repeats: int) -> None:
    """One line: the two forms' milliseconds and their ratio."""
    print(
        f"{what}: transposed {old:.3f} ms{' ' * bool(unit)}{unit}, pixel-shuffled {new:.3f} ms "
        f"(median of {repeats}); pixel-shuffled / transposed {new / old:.3f}"
    )


def _carded(content: bytes, path: Path) -> Path:
    """``content`` written to ``path`` with the bundled vessel model's card, its tensors' own
    coding and no gate: a file the runtime reads as a vessel model."""
    interpreter = make_interpreter(content)
    card = dataclasses.replace(
        read_card(DEFAULT_MODEL.read_bytes()),
        input=tensor_coding(interpreter.get_input_details()[0]),
        output=tensor_coding(interpreter.get_output_details()[0]),
        gate=None,
    )
    path.write_bytes(embed_card(content, card))
    return path


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
