import numpy as np
import pytest

from edge_runtime.pipeline.tiling import (
    Stitcher,
    blend_window,
    corners_inside,
    extract_tiles,
    tile_grid,
    tile_starts,
)


@pytest.mark.parametrize(
    ("length", "stride"), [(64, 48), (65, 48), (200, 48), (565, 64), (584, 32)]
)
def test_tiles_cover_the_length_and_end_flush(length, stride):
    starts = tile_starts(length, 64, stride)
    assert starts[0] == 0 and starts[-1] == length - 64
    assert (np.diff(starts) <= stride).all() and (np.diff(starts) > 0).all()


def test_too_short_is_refused():
    with pytest.raises(ValueError, match="at least the tile size 64"):
        tile_starts(63, 64, 48)


def test_window_is_positive_symmetric_and_peaks_in_the_centre():
    w = blend_window(64)
    assert w.min() > 0 and np.allclose(w, w.T) and np.allclose(w, w[::-1, ::-1])
    assert w[32, 32] == w.max() and w[0, 0] == w.min()


@pytest.mark.parametrize("stride", [16, 48, 64])
def test_stitching_identity_predictions_reproduces_the_image_exactly(stride):
    image = np.random.default_rng(0).random((150, 211), dtype=np.float32)
    corners = tile_grid(image.shape, 64, stride)
    stitcher = Stitcher(image.shape, 64)
    stitcher.add(extract_tiles(image, corners, 64), corners)
    np.testing.assert_allclose(stitcher.result(), image, rtol=1e-6, atol=1e-7)


def test_stitching_a_constant_is_exact_and_uncovered_pixels_are_zero():
    corners = np.array([[0, 0], [0, 40]])
    stitcher = Stitcher((64, 120), 64)
    stitcher.add(np.full((2, 64, 64), 0.7, dtype=np.float32), corners)
    out = stitcher.result()
    np.testing.assert_allclose(out[:, :104], 0.7, rtol=1e-6)
    assert (out[:, 104:] == 0).all()


@pytest.mark.parametrize("share", [0.0, 0.0005, 0.02, 1.0])
def test_the_tiles_kept_are_exactly_those_that_touch_the_mask(share):
    rng = np.random.default_rng(7)
    for _ in range(20):
        height, width = rng.integers(64, 300, size=2)
        stride = int(rng.integers(1, 65))
        inside = rng.random((height, width)) < share
        every = tile_grid(inside.shape, 64, stride)
        touching = [inside[y : y + 64, x : x + 64].any() for y, x in every]
        np.testing.assert_array_equal(corners_inside(inside, 64, stride), every[touching])


def test_overlapping_tiles_blend_linearly_across_the_overlap_not_in_a_step():
    """Two tiles overlapping by 24 columns, predicting 0 and 1: across the overlap the result
    rises with each tile's distance-to-edge weight (a uniform window gives a flat 0.5 and a
    seam at each tile edge)."""
    from edge_runtime.pipeline.tiling import Stitcher, blend_window

    window = blend_window(64)
    assert window[0, 0] == pytest.approx(0.25) and window[31, 31] == pytest.approx(31.5**2)
    stitcher = Stitcher((64, 104), 64)
    tiles = np.stack([np.zeros((64, 64), np.float32), np.ones((64, 64), np.float32)])
    stitcher.add(tiles, np.array([[0, 0], [0, 40]]))
    out = stitcher.result()
    cols = np.arange(40, 64)
    w_a = np.minimum(cols + 0.5, 63.5 - cols)
    w_b = np.minimum(cols - 40 + 0.5, 63.5 - (cols - 40))
    np.testing.assert_allclose(out[10, 40:64], w_b / (w_a + w_b), rtol=1e-6)
    assert (np.diff(out[10, 40:64]) > 0).all()
    assert (out[:, :40] == 0).all() and (out[:, 64:] == 1).all()
