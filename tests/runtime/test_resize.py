import numpy as np
import pytest
from PIL import Image

from edge_runtime.pipeline.blocks import ROWS_PER_BLOCK, row_blocks
from edge_runtime.pipeline.resize import resize, upsample_bilinear


@pytest.mark.parametrize(
    ("src_shape", "out_shape"),
    [((50, 70), (300, 333)), ((64, 64), (64, 64)), ((9, 400), (2 * ROWS_PER_BLOCK + 5, 401))],
)
def test_matches_pillow_bilinear_when_enlarging(src_shape, out_shape):
    src = np.random.default_rng(0).random(src_shape, dtype=np.float32)
    out = np.empty(out_shape, dtype=np.float32)
    upsample_bilinear(src, out)
    pillow = np.asarray(
        Image.fromarray(src, mode="F").resize(out_shape[::-1], Image.Resampling.BILINEAR)
    )
    np.testing.assert_allclose(out, pillow, atol=1e-4)


def test_constant_stays_constant_and_writes_into_a_view():
    canvas = np.zeros((40, 50), dtype=np.float32)
    upsample_bilinear(np.full((5, 7), 0.25, dtype=np.float32), canvas[5:35, 10:40])
    assert (canvas[5:35, 10:40] == 0.25).all()
    assert canvas[:5].sum() == 0 and canvas[:, :10].sum() == 0


def test_resize_antialiases_when_shrinking_so_a_thin_vessel_survives():
    image = np.zeros((90, 90), dtype=np.float32)
    image[:, 45] = 1.0  # a one-pixel vessel that plain interpolation at 1/3 would step over
    sampled = np.empty((30, 30), dtype=np.float32)
    upsample_bilinear(image, sampled)
    assert sampled.max() == 0.0  # the aliasing the direction check exists for
    shrunk = resize(image, (30, 30))
    assert shrunk.sum(axis=1) == pytest.approx(np.full(30, 1 / 3), abs=1e-5)  # mass kept


def test_resize_enlarges_into_a_given_view_block_by_block():
    src = np.random.default_rng(1).random((20, 30), dtype=np.float32)
    canvas = np.zeros((300, 400), dtype=np.float32)
    out = resize(src, (200, 300), out=canvas[50:250, 60:360])
    expected = np.empty((200, 300), dtype=np.float32)
    upsample_bilinear(src, expected)
    np.testing.assert_array_equal(out, expected)
    assert canvas[:50].sum() == 0 and np.shares_memory(out, canvas)


def test_enlarging_computes_the_bilinear_formula_exactly_across_blocks():
    """Each output pixel: the two source rows' values across, then between the rows, in
    float32, whatever the blocks (pixel centres aligned, edges clamped)."""
    src = np.random.default_rng(2).random((37, 23), dtype=np.float32)
    shape = (2 * ROWS_PER_BLOCK + 9, 61)

    def positions(size_out, size_in):
        at = (np.arange(size_out, dtype=np.float32) + 0.5) * (size_in / size_out) - 0.5
        at = np.clip(at, 0, size_in - 1)
        low = np.floor(at).astype(int)
        return low, np.minimum(low + 1, size_in - 1), (at - low).astype(np.float32)

    (yl, yh, yw), (xl, xh, xw) = positions(shape[0], 37), positions(shape[1], 23)
    across = src[:, xl] * (1 - xw) + src[:, xh] * xw
    expected = across[yl] * (1 - yw[:, None]) + across[yh] * yw[:, None]
    out = np.empty(shape, dtype=np.float32)
    upsample_bilinear(src, out)
    np.testing.assert_array_equal(out, expected)


def test_row_blocks_bound_the_pixels_of_a_block_however_wide_the_image():
    """A strip 64 rows high and 390,000 wide was one block of the whole photograph."""
    assert [b.stop - b.start for b in row_blocks(300, 565)] == [128, 128, 44]
    assert {b.stop - b.start for b in row_blocks(64, 390_000)} == {1}
    assert [b.stop - b.start for b in row_blocks(10, 100_000, multiple=4)] == [8, 2]
    assert [b.start for b in row_blocks(1000, 8192)][:3] == [0, 64, 128]


def test_a_side_that_shrinks_is_antialiased_even_when_the_other_grows():
    image = np.zeros((90, 40), dtype=np.float32)
    image[45, :] = 1.0  # a one-pixel vessel across, which sampling every third row steps over
    out = resize(image, (30, 80))
    assert out.sum(axis=0) == pytest.approx(np.full(80, 1 / 3), abs=1e-5)
