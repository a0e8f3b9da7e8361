"""The sharpness measurement's per-orientation edge strengths: sought among a sample's strongest
gradients for speed, they are exactly each orientation's nearest-rank quantile."""

import math

import numpy as np
import pytest

from edge_runtime.verdict.measures import _edge_strengths


def _reference(top, below, inside, bright, share):
    """Each orientation's nearest-rank ``share`` quantile of the gradient, by sorting it all."""
    top, below = np.minimum(top, bright), np.minimum(below, bright)
    gx = (top[:, 1:] - top[:, :-1])[inside[:, :-1]]
    gy = (below[:, :-1] - top[:, :-1])[inside[:, :-1]]
    ax, ay = np.abs(gx), np.abs(gy)
    tan = np.float32(math.tan(math.pi / 8))
    diagonal = (ay > tan * ax) & (ax > tan * ay)
    bins = np.where(diagonal, np.where((gx > 0) == (gy > 0), 1, 3), np.where(ay > ax, 2, 0))
    strengths = np.zeros(4)
    for k in range(4):
        values = np.sort(gx[bins == k] ** 2 + gy[bins == k] ** 2)
        if values.size:
            strengths[k] = values[min(values.size - 1, int(share * values.size))]
    return np.sqrt(strengths)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("share", [0.5, 0.9, 0.99])
def test_edge_strengths_are_each_orientations_quantile(seed, share):
    rng = np.random.default_rng(seed)
    rows, width = 40, 120
    top = rng.normal(100, 2, (rows, width)).astype(np.float32)
    # strong steps along the rows only: the other orientations have few or no strong
    # gradients, so their quantile must be sought among all their gradients
    top[:, ::7] += rng.uniform(50, 150, (rows, 1 + (width - 1) // 7)).astype(np.float32)
    below = top + rng.normal(0, 1 + seed, (rows, width)).astype(np.float32)
    inside = rng.random((rows, width)) < 0.8
    bright = np.float32(190)
    expected = _reference(top, below, inside, bright, share)
    assert _edge_strengths(top, below, inside, bright, share) == pytest.approx(expected, rel=1e-6)


def test_an_empty_field_has_no_edges():
    plane = np.ones((5, 5), dtype=np.float32)
    strengths = _edge_strengths(plane, plane, np.zeros((5, 5), bool), np.float32(2), 0.99)
    assert not strengths.any()
