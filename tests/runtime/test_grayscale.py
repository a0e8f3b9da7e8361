import numpy as np
import pytest
from PIL import Image

from edge_runtime.pipeline.grayscale import to_grayscale


def test_luma_matches_pillow_l_conversion():
    rgb = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    pillow = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)
    assert np.abs(to_grayscale(rgb) - pillow).max() <= 1.0


def test_green_channel_and_alpha_and_gray_passthrough():
    rgba = np.random.default_rng(1).integers(0, 65536, (8, 8, 4), dtype=np.uint16)
    np.testing.assert_array_equal(to_grayscale(rgba, "green"), rgba[..., 1].astype(np.float32))
    np.testing.assert_allclose(to_grayscale(rgba), to_grayscale(rgba[..., :3]))
    gray = rgba[..., 0]
    assert to_grayscale(gray).dtype == np.float32
    np.testing.assert_array_equal(to_grayscale(gray), gray)


def test_bad_arguments():
    with pytest.raises(ValueError, match="channel 'red'"):
        to_grayscale(np.zeros((4, 4)), "red")
    with pytest.raises(ValueError, match=r"shape \(4, 4, 2\)"):
        to_grayscale(np.zeros((4, 4, 2)))
