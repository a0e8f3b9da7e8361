import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from edge_runtime.contract.preprocessing import contrast_stretch, preprocess_patches


def test_reproduces_notebook_enhancement(sample_data):
    enhanced = contrast_stretch(sample_data["sample_raw"])
    assert enhanced.dtype == np.uint8
    diff = np.abs(enhanced.astype(int) - sample_data["sample_enhanced"].astype(int))
    assert diff.max() <= 1


def test_hand_checked_patch():
    patch = np.array([[10, 20], [30, 110]])
    # (x - 10) * 255 / 100, rounded down: 0, 25.5 -> 25, 51, 255
    np.testing.assert_array_equal(contrast_stretch(patch), [[0, 25], [51, 255]])


def test_constant_patch_maps_to_zero_without_warnings():
    with np.errstate(all="raise"):
        out = contrast_stretch(np.full((2, 64, 64), 77, dtype=np.uint32))
    assert not out.any()


def test_each_patch_of_a_batch_is_stretched_on_its_own():
    batch = np.stack([np.arange(16).reshape(4, 4), 100 + 2 * np.arange(16).reshape(4, 4)])
    out = contrast_stretch(batch)
    np.testing.assert_array_equal(out[0], out[1])
    assert out.min(axis=(1, 2)).tolist() == [0, 0]
    assert out.max(axis=(1, 2)).tolist() == [255, 255]


@pytest.mark.parametrize("shape", [(3, 64, 64), (3, 64, 64, 1)])
def test_preprocess_gives_model_input(shape):
    rng = np.random.default_rng(0)
    x = preprocess_patches(rng.integers(0, 249, size=shape).astype(np.uint32))
    assert x.shape == (3, 64, 64, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(np.round(x * 255), x * np.float32(255))


def test_preprocess_rejects_bad_shape():
    with pytest.raises(ValueError, match=r"got patches of shape \(64, 64\)"):
        preprocess_patches(np.zeros((64, 64)))


@given(arrays(np.float64, (8, 8), elements=st.floats(-1e6, 1e6)))
def test_stretch_keeps_order_and_spans_full_range(patch):
    out = contrast_stretch(patch).astype(int)
    order = np.argsort(patch, axis=None, kind="stable")
    assert (np.diff(out.ravel()[order]) >= 0).all()
    if patch.max() > patch.min():
        assert out.min() == 0 and out.max() == 255
    else:
        assert not out.any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.uint16, np.int32])
def test_stretch_computes_the_notebook_formula_exactly(dtype):
    """floor((x - min) / (max - min) * 255) in float64, as the notebook did, bit for bit."""
    rng = np.random.default_rng(3)
    patches = (rng.random((40, 16, 16)) * rng.choice([1e-3, 1, 255, 60000], (40, 1, 1))).astype(
        dtype
    )
    patches[5] = patches[5, 0, 0]  # a constant patch among them
    x = patches.astype(np.float64)
    lo = x.min(axis=(1, 2), keepdims=True)
    span = x.max(axis=(1, 2), keepdims=True) - lo
    unit = np.divide(x - lo, span, out=np.zeros_like(x), where=span > 0)
    np.testing.assert_array_equal(contrast_stretch(patches), np.floor(unit * 255.0))
