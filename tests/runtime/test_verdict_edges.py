"""The sharpness measurement's gradients and per-orientation edge strengths: the four corners'
gradients of a block turned or mirrored are its own, turned or mirrored; the strengths, sought
among a sample's strongest gradients for speed, are exactly each orientation's nearest-rank
quantile, a flat gradient counted as a quarter of one in each orientation."""

import numpy as np
import pytest

from edge_runtime.verdict.sharpness import FLAT, corner_gradients, edge_strengths, sharpness


def _reference(squared, bins, share):
    """Each orientation's nearest-rank ``share`` quantile, by sorting its gradients, four times
    each, with the flat ones once (a quarter of a gradient in each orientation)."""
    squared, bins = squared.ravel(), bins.ravel()
    flat = squared[bins == FLAT]
    strengths = np.zeros(4)
    for k in range(4):
        values = np.sort(np.concatenate([flat, np.repeat(squared[bins == k], 4)]))
        if values.size:
            strengths[k] = values[min(values.size - 1, int(share * values.size))]
    return np.sqrt(strengths)


def _gradients(seed: int, flat: float) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of random blocks, strong steps along the rows only (the other orientations
    have few or no strong gradients, so their quantile must be sought among all of theirs),
    ``flat`` of the blocks flat."""
    rng = np.random.default_rng(seed)
    blocks = rng.normal(100, 1 + seed, (2, 2, 4000)).astype(np.float32)
    blocks[:, 1, ::7] += rng.uniform(50, 150, 572).astype(np.float32)
    blocks[:, :, rng.random(4000) < flat] = 100
    return corner_gradients(blocks)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("flat", [0.0, 0.5, 0.995])
@pytest.mark.parametrize("share", [0.5, 0.9, 0.99])
def test_edge_strengths_are_each_orientations_quantile(seed, flat, share):
    squared, bins = _gradients(seed, flat)
    expected = _reference(squared, bins, share)
    assert edge_strengths(squared, bins, share) == pytest.approx(expected, rel=1e-6)


def test_an_orientation_reached_by_its_flat_gradients_has_no_edges():
    squared, bins = _gradients(0, 0.995)
    assert np.count_nonzero(bins == FLAT) > 0.99 * bins.size
    assert not edge_strengths(squared, bins, 0.99).any()


def test_the_corner_gradients_of_a_block_are_those_of_its_four_corners():
    """a b / c d = 0 1 / 3 7: (x, y) steps from a (1, 3) and b (1, 6), within 22.5 degrees of
    the y axis (90 degrees), and from c (4, 3) and d (4, 6), diagonal, rising (45 degrees)."""
    squared, bins = corner_gradients(np.array([[[0], [1]], [[3], [7]]], dtype=np.float32))
    assert squared.ravel().tolist() == [10, 37, 25, 52]
    assert bins.ravel().tolist() == [2, 2, 1, 1]


@pytest.mark.parametrize("mirrored", [False, True])
@pytest.mark.parametrize("turns", range(4))
def test_the_gradients_of_blocks_turned_or_mirrored_are_theirs_turned(mirrored, turns):
    """The same magnitudes, each orientation's in the orientation it turns into: 0 and 90
    degrees swap with a quarter turn, 45 and 135 with a quarter turn or a mirror."""
    blocks = np.random.default_rng(1).normal(0, 10, (2, 2, 500)).astype(np.float32)
    squared, bins = corner_gradients(blocks)
    moved = np.rot90(blocks[:, ::-1] if mirrored else blocks, turns, axes=(0, 1))
    moved_squared, moved_bins = corner_gradients(np.ascontiguousarray(moved))
    into = np.array([2, 3, 0, 1] if turns % 2 else [0, 1, 2, 3])
    into = into[[0, 3, 2, 1]] if mirrored else into
    assert sorted(moved_squared.ravel()) == pytest.approx(sorted(squared.ravel()))
    counts = np.bincount(bins.ravel(), minlength=5)[:4]
    assert np.bincount(moved_bins.ravel(), minlength=5)[:4][into].tolist() == counts.tolist()


def test_a_field_too_small_for_a_site_has_no_sharpness():
    assert sharpness(np.ones((7, 40), np.float32), np.ones((7, 40), bool)) == 0.0


def test_a_field_turned_or_mirrored_is_as_sharp():
    """Sides that are no multiple of a site (odd, and even but not by eight), a disc off
    centre, a dark band cut straight across it, clipped highlights: the eight ways up of the
    picture and its field read the same sharpness, to rounding."""
    rng = np.random.default_rng(0)
    height, width = 203, 170
    ys, xs = np.mgrid[:height, :width]
    picture = 100 + 30 * np.sin(xs / 3.0 + ys / 7.0) * np.cos(ys / 5.0)
    picture += rng.normal(0, 3, picture.shape)
    picture[:25] *= 0.2  # an aperture's straight cut
    picture[120:130, 40:60] = 400  # a reflection, clipped
    field = (ys - 110.3) ** 2 + (xs - 80.6) ** 2 < 85**2
    read = []
    for mirrored in (False, True):
        for turns in range(4):
            pair = [np.rot90(a[:, ::-1] if mirrored else a, turns) for a in (picture, field)]
            read.append(sharpness(*(np.ascontiguousarray(a) for a in pair)))
    assert read[0] > 1 and read == pytest.approx([read[0]] * 8, rel=1e-6)
