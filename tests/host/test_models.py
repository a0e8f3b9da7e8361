import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from training.models import build_model, build_unet, multiply_accumulates  # noqa: E402


def _layer_types(model):
    return {type(layer).__name__ for layer in model.layers}


def _interpolations(model, layer_type):
    return [layer.interpolation for layer in model.layers if type(layer).__name__ == layer_type]


def test_seed_matches_the_notebook_parameter_count():
    model = build_model("seed")
    assert model.count_params() == 90_589
    # 55 M multiply-accumulates, as measured for the notebook's model
    assert multiply_accumulates(model) == 55_017_472
    interpolations = _interpolations(model, "UpSampling2D")
    assert interpolations == ["bicubic", "nearest"]


def test_seed_edge_has_the_same_topology_without_upsampling_layers():
    model = build_model("seed-edge")
    assert model.count_params() == 90_589
    assert "UpSampling2D" not in _layer_types(model)
    assert _interpolations(model, "Resizing") == ["bilinear", "nearest"]


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


@pytest.mark.parametrize("arch", ["seed", "seed-edge", "unet", "unet-lite"])
def test_static_batch_one_export_shape_and_output_range(arch):
    model = build_model(arch, batch_size=1, width=4)
    assert tuple(model.input.shape) == (1, 64, 64, 1)
    out = model(np.random.default_rng(0).random((1, 64, 64, 1), dtype=np.float32))
    assert tuple(out.shape) == (1, 64, 64, 1)
    assert float(np.min(out)) >= 0.0 and float(np.max(out)) <= 1.0


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
