"""The registered architectures: each builds, has its size and converts as it claims."""

import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from converters.tflite_export import export_tflite  # noqa: E402
from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_PREPROCESSING  # noqa: E402
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME  # noqa: E402
from edge_runtime.errors import EdgeSegError  # noqa: E402
from edge_runtime.inference.description import describe_model  # noqa: E402
from edge_runtime.inference.interpreter import make_interpreter  # noqa: E402
from edge_runtime.inference.quantization import quantize  # noqa: E402
from training.models import (  # noqa: E402
    ARCHITECTURES,
    MAX_WIDTH,
    all_layers,
    architecture,
    architecture_of,
    build_model,
    build_unet,
    build_unet_lite,
    multiply_accumulates,
    pixel_shuffled,
)

README = Path(__file__).parents[2] / "README.md"


@dataclass(frozen=True)
class Size:
    """The parameters an architecture has, built at ``width`` when its size is set by one."""

    params: int
    width: int | None = None


EXPECTED = {
    "seed": Size(90_589),
    "seed-edge": Size(90_589),
    "unet": Size(30_821, width=4),
    "unet-lite": Size(27_513, width=8),
}
"""One entry per registered architecture."""


def test_every_architecture_is_expected_here_and_described_in_the_readme():
    assert list(EXPECTED) == list(ARCHITECTURES)
    lines = README.read_text().splitlines()
    names = "\\|".join(ARCHITECTURES)
    (row,) = [line for line in lines if line.startswith(f"| `--arch {names}` |")]
    for name, entry in ARCHITECTURES.items():
        assert f"`{name}`: {entry.description}." in row


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_builds_and_converts_to_builtin_int8_ops_as_it_claims(arch, tmp_path):
    entry, size = ARCHITECTURES[arch], EXPECTED[arch]
    assert (size.width is not None) == entry.sized
    model = build_model(arch, batch_size=1, width=size.width)
    assert model.count_params() == size.params
    assert multiply_accumulates(model) > 0
    patches = np.random.default_rng(0).random((4, 64, 64, 1), dtype=np.float32)
    assert tuple(model.input.shape) == (1, 64, 64, 1)
    out = np.asarray(model(patches[:1]))
    assert out.shape == (1, 64, 64, 1) and 0.0 <= out.min() <= out.max() <= 1.0
    if not entry.int8:
        with pytest.raises(EdgeSegError, match=r"needs TensorFlow \(Flex\) ops"):
            export_tflite(model, patches)
        return
    path = tmp_path / f"{arch}.tflite"
    path.write_bytes(export_tflite(model, patches))
    report = describe_model(path).to_json()
    assert report["inputs"][0]["dtype"] == report["outputs"][0]["dtype"] == "int8"
    assert report["inputs"][0]["shape"] == [1, 64, 64, 1]
    assert not [op for op in report["ops"] if op.startswith("Flex") or op == "CUSTOM"]


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="got architecture 'unet' twice"):
        architecture("unet", "another U-Net")(build_unet)
    assert ARCHITECTURES["unet"].summary == "small U-Net with skip connections"


def _layer_types(model):
    return {type(layer).__name__ for layer in model.layers}


def _interpolations(model, layer_type):
    return [layer.interpolation for layer in model.layers if type(layer).__name__ == layer_type]


def test_seed_matches_the_notebook_model():
    model = build_model("seed")
    # 55 M multiply-accumulates, as measured for the notebook's model
    assert multiply_accumulates(model) == 55_017_472
    interpolations = _interpolations(model, "UpSampling2D")
    assert interpolations == ["bicubic", "nearest"]


def test_seed_edge_has_the_same_topology_without_upsampling_layers():
    model = build_model("seed-edge")
    assert "UpSampling2D" not in _layer_types(model)
    assert _interpolations(model, "Resizing") == ["bilinear", "nearest"]


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_a_model_is_told_by_its_layers_as_the_architecture_that_built_it(arch, tmp_path):
    """convert believed the architecture a run's record named (seed and seed-edge have the
    same parameters; any width of another architecture was believed alike)."""
    width = EXPECTED[arch].width
    build_model(arch, width=width).save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert architecture_of(loaded) == (arch, width)


def test_a_model_of_no_architecture_here_is_told_as_none(monkeypatch):
    inputs = keras.Input((64, 64, 1))
    assert architecture_of(keras.Model(inputs, keras.layers.Conv2D(1, 3)(inputs))) is None
    assert architecture_of(keras.Model(inputs, keras.layers.Dense(1)(inputs))) is None  # no conv
    assert architecture_of(build_unet(width=8, depth=2)) is None  # train builds depth 3
    # the artery/vein model's kind at unet-lite's depth 2: its layers, with other weights' shapes
    assert architecture_of(build_unet_lite(width=12, channels=3, maps=2)) is None

    def narrow(build):
        def built(*args, width, **kwargs):
            assert width <= MAX_WIDTH, f"built a U-Net of width {width} to compare"
            return build(*args, width=width, **kwargs)

        return built

    for name, entry in ARCHITECTURES.items():
        if entry.sized:
            monkeypatch.setitem(ARCHITECTURES, name, replace(entry, build=narrow(entry.build)))
    wide = keras.layers.Conv2D(MAX_WIDTH + 1, 1)(inputs)  # no U-Net this wide is built to compare
    assert architecture_of(keras.Model(inputs, keras.layers.Conv2D(1, 1)(wide))) is None


@pytest.mark.parametrize(("width", "params"), [(4, 30_821), (6, 68_767), (8, 121_737)])
def test_unet_size_follows_width(width, params):
    model = build_model("unet", width=width)
    assert model.count_params() == params
    assert {"Conv2DTranspose", "Concatenate"} <= _layer_types(model)


@pytest.mark.parametrize(("width", "params"), [(8, 27_513), (12, 61_333)])
def test_unet_lite_works_at_half_resolution_without_concatenation(width, params):
    model = build_model("unet-lite", width=width)
    assert model.count_params() == params
    types = _layer_types(model)
    assert "Add" in types and "Concatenate" not in types
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert convs[0].strides == (2, 2) and convs[0].kernel_size == (2, 2)
    assert all(tuple(c.output.shape[1:3]) != (64, 64) for c in convs)  # nothing at full size


def test_unet_lite_takes_any_size_and_channels_with_the_same_weights():
    """A second output (artery/vein) reads more channels over larger crops; the weights do
    not depend on the size, so a model trained on crops runs on a whole photograph."""
    crops = build_unet_lite(None, 8, 3, size=64, channels=4, output="artery_probability")
    whole = build_unet_lite(1, 8, 3, size=128, channels=4, output="artery_probability")
    assert crops.input_shape == (None, 64, 64, 4) and whole.output_shape == (1, 128, 128, 1)
    assert crops.output_names == ["artery_probability"]
    assert [w.shape for w in whole.weights] == [w.shape for w in crops.weights]
    whole.set_weights(crops.get_weights())
    # the crop's centre, seen in the larger field, gets the crop's map there (its rim differs:
    # the field's zero padding is further away); 0.0015 here, 0.06 at the rim
    field = np.random.default_rng(0).normal(size=(1, 128, 128, 4)).astype(np.float32)
    larger = whole.predict(field, verbose=0)[0, 56:72, 56:72]
    alone = crops.predict(field[:, 32:96, 32:96], verbose=0)[0, 24:40, 24:40]
    assert np.abs(larger - alone).max() < 0.01
    with pytest.raises(ValueError, match="size 72"):
        build_unet_lite(size=72, depth=3)
    both = build_unet_lite(None, 8, 3, size=64, channels=3, output="maps", maps=2)
    assert both.output_shape == (None, 64, 64, 2)  # vessel and artery maps from one model


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_unet_lite(None, 4, 2, size=48, channels=4, output="artery_probability"),
        lambda: build_model("unet", width=4),  # padding "same", concatenated skips
        lambda: build_model("unet-lite", width=4),
    ],
    ids=["artery-vein", "unet", "unet-lite"],
)
def test_pixel_shuffle_twin_is_the_same_map_in_edge_tpu_operators_without_transposed_ones(
    tmp_path, build
):
    """The device form of any model: a batch of one runs XNNPACK's one-row kernel for a
    transposed convolution, and a batch of tiles its slower kernel; the twin has none, and
    gives the trained model's output."""
    trained = build()
    rng = np.random.default_rng(3)
    trained.set_weights(
        [
            rng.uniform(0.5, 1.5, w.shape) if "variance" in w.name else rng.normal(0, 0.5, w.shape)
            for w in trained.weights
        ]
    )
    twin = pixel_shuffled(trained)
    assert multiply_accumulates(twin) == multiply_accumulates(trained)
    assert "Conv2DTranspose" not in {type(layer).__name__ for layer in all_layers(twin)}
    assert twin.output_names == trained.output_names
    fields = rng.normal(size=(3, *trained.input_shape[1:])).astype(np.float32)
    expected = np.asarray(trained(fields))
    assert expected.std() > 0.05  # no constant map that any order of the weights would give
    np.testing.assert_allclose(np.asarray(twin(fields)), expected, atol=1e-5)
    twin.save(tmp_path / "twin.keras")  # loads in a fresh process: its layers are registered
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from training.model_io import load_keras_model; "
            "load_keras_model(sys.argv[1], sys.argv[2])",
            tmp_path / "twin.keras",
            ARTERY_VEIN_PREPROCESSING if fields.shape[-1] == 4 else PREPROCESSING_NAME,
        ],
        capture_output=True,
        text=True,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    path = tmp_path / "twin.tflite"
    path.write_bytes(export_tflite(twin, fields))
    report = describe_model(path).to_json()
    assert report["edgetpu_ready"], report["edgetpu_issues"]
    assert {"CONV_2D", "CONCATENATION", "RESHAPE"} <= set(report["ops"])
    assert "TRANSPOSE_CONV" not in report["ops"]
    batched = _int8_outputs(path, fields)  # a batch runs in one invoke
    assert batched.shape == (3, *trained.output_shape[1:])
    for field, out in zip(fields, batched, strict=True):
        # one step at most: kernels for other batch sizes may round differently on some CPUs
        single = _int8_outputs(path, field[None])[0].astype(int)
        np.testing.assert_allclose(single, out.astype(int), atol=1)


def _int8_outputs(path: Path, batch: np.ndarray) -> np.ndarray:
    """The int8 outputs of the model at ``path`` on ``batch``, in one invoke."""
    interpreter = make_interpreter(path)
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], list(batch.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], quantize(batch, detail))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="architecture 'vgg'"):
        build_model("vgg")
    with pytest.raises(ValueError, match="depth 7"):
        build_unet(depth=7)


def test_multiply_accumulates_of_a_hand_checked_model():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, padding="same")(inputs)  # 8*8 pixels * 3*3*1*2 = 1152
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2DTranspose(1, 2, strides=2)(x)  # 4*4 input pixels * 2*2*2*1 = 128
    assert multiply_accumulates(keras.Model(inputs, x)) == 1152 + 128


def test_transposed_convolutions_that_cannot_be_shuffled_are_kept_as_they_are():
    """Free sizes, or one layer called at two sizes, have no one shuffle: they once failed."""
    free = keras.Input((None, None, 3))
    ct = keras.layers.Conv2DTranspose(3, 2, strides=2)
    small, large = keras.Input((8, 8, 3)), keras.Input((16, 16, 3))
    for model, inputs in (
        (keras.Model(free, keras.layers.Conv2DTranspose(2, 2, strides=2)(free)), [(2, 8, 8, 3)]),
        (keras.Model([small, large], [ct(small), ct(large)]), [(2, 8, 8, 3), (2, 16, 16, 3)]),
    ):
        twin = pixel_shuffled(model)
        assert "Conv2DTranspose" in {type(layer).__name__ for layer in all_layers(twin)}
        x = [np.random.default_rng(0).random(shape, np.float32) for shape in inputs]
        for a, b in zip(keras.tree.flatten(model(x)), keras.tree.flatten(twin(x)), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
