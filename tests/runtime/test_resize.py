import numpy as np
import pytest
from PIL import Image

from edge_runtime.pipeline.blocks import ROWS_PER_BLOCK
from edge_runtime.pipeline.resize import upsample_bilinear


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
