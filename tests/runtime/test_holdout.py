import numpy as np
import pytest

from edge_runtime.contract.holdout import GUARD, holdout_indices, holdout_split


def _runs(indices):
    """Contiguous runs of a sorted index array, as (start, stop) pairs."""
    breaks = np.flatnonzero(np.diff(indices) != 1)
    starts = np.r_[indices[0], indices[breaks + 1]]
    stops = np.r_[indices[breaks], indices[-1]] + 1
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def test_holdout_is_contiguous_blocks_with_guard_bands():
    split = holdout_split(537, 0.2, blocks=3)
    assert len(split.holdout) == 107
    runs = _runs(split.holdout)
    assert len(runs) == 3
    assert [stop - start for start, stop in runs] == [36, 36, 35]
    # no training patch within GUARD indices of any holdout patch
    distance = np.abs(split.train[:, None] - split.holdout[None, :]).min()
    assert distance == GUARD + 1
    everything = np.concatenate([split.train, split.holdout, split.guard])
    np.testing.assert_array_equal(np.sort(everything), np.arange(537))


def test_holdout_is_deterministic():
    a, b = holdout_split(537, 0.2), holdout_split(537, 0.2)
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.holdout, b.holdout)


def test_zero_holdout_trains_on_everything():
    split = holdout_split(10, 0.0)
    np.testing.assert_array_equal(split.train, np.arange(10))
    assert len(split.holdout) == 0 and len(split.guard) == 0


@pytest.mark.parametrize("fraction", [-0.1, 1.0])
def test_fraction_out_of_range(fraction):
    with pytest.raises(ValueError, match="holdout fraction"):
        holdout_split(10, fraction)


def test_holdout_leaving_no_training_data_is_refused():
    with pytest.raises(ValueError, match="leaves nothing to train on"):
        holdout_split(20, 0.5, blocks=2, guard=8)
    with pytest.raises(ValueError, match="of 1 patch leaves"):
        holdout_split(1, 0.9)


@pytest.mark.parametrize("n", [60, 500])
def test_scoring_a_holdout_needs_nothing_left_to_train_on(n):
    """Evaluating and gating score the holdout that training keeps, even on a file too small to
    train on (60 patches: the guards of three blocks cover them all)."""
    kept = holdout_indices(n, 0.2)
    assert len(kept) == round(n * 0.2)
    if n > 60:
        np.testing.assert_array_equal(kept, holdout_split(n, 0.2).holdout)
    else:
        with pytest.raises(ValueError, match="leaves nothing to train on"):
            holdout_split(n, 0.2)


@pytest.mark.parametrize("fraction", [1.0, 1.5, -0.1])
def test_a_fraction_outside_zero_to_one_is_refused_for_scoring_too(fraction):
    """holdout_indices and holdout_split refuse a fraction that is not in [0, 1) by its range."""
    with pytest.raises(ValueError, match=r"expected 0 <= fraction < 1"):
        holdout_indices(100, fraction)
    with pytest.raises(ValueError, match=r"expected 0 <= fraction < 1"):
        holdout_split(1000, fraction)


def test_a_holdout_smaller_than_its_blocks_has_one_block_per_patch():
    """With fewer held-out patches than blocks, each is its own block with its guard bands only."""
    split = holdout_split(100, 0.02, blocks=3)
    np.testing.assert_array_equal(split.holdout, [24, 74])
    assert len(split.guard) == 2 * 2 * GUARD
    assert len(split.train) == 100 - 2 - 4 * GUARD
