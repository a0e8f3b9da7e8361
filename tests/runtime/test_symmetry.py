import numpy as np
import pytest

from edge_runtime.contract.symmetry import TTA_MODES, dihedral, undo_dihedral


def test_the_eight_transforms_are_distinct_symmetries():
    patch = np.arange(9).reshape(3, 3)
    outs = {dihedral(patch, t).tobytes() for t in range(8)}
    assert len(outs) == 8
    np.testing.assert_array_equal(dihedral(patch, 0), patch)
    np.testing.assert_array_equal(dihedral(patch, 1), patch[:, ::-1])
    np.testing.assert_array_equal(dihedral(patch, 2), np.rot90(patch))


@pytest.mark.parametrize("transform", range(8))
def test_undo_inverts_each_transform_on_batches(transform):
    batch = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1)
    moved = dihedral(batch, transform, axes=(1, 2))
    assert moved.shape == batch.shape
    np.testing.assert_array_equal(undo_dihedral(moved, transform, axes=(1, 2)), batch)
    # the batch axis and the channel axis are untouched
    np.testing.assert_array_equal(moved[1], dihedral(batch[1], transform))


def test_modes_average_over_nested_sets_of_symmetries():
    assert TTA_MODES["off"] == (0,)
    assert set(TTA_MODES["off"]) < set(TTA_MODES["flip"]) < set(TTA_MODES["dihedral"])
    assert sorted(TTA_MODES["dihedral"]) == list(range(8))
