import numpy as np
import pytest

from edge_runtime.contract.metrics import (
    THRESHOLD_CANDIDATES,
    binarize,
    dice_per_patch,
    dice_score,
    f1_by_threshold,
    mean_dice,
    photo_scores,
    tune_threshold,
)


def test_reproduces_notebook_threshold(sample_data):
    hard = binarize(sample_data["sample_pred_soft"], 0.5)
    np.testing.assert_array_equal(hard, sample_data["sample_pred_hard"])


def test_reproduces_notebook_dice(sample_data):
    dice = dice_score(sample_data["sample_label"], sample_data["sample_pred_hard"])
    assert round(dice, 4) == 0.7689


def test_threshold_is_inclusive():
    np.testing.assert_array_equal(binarize(np.array([0.49, 0.5, 0.51]), 0.5), [0, 1, 1])


@pytest.mark.parametrize(
    ("truth", "pred", "expected"),
    [
        ([[0, 0], [0, 0]], [[0, 0], [0, 0]], 1.0),  # both empty: agreement on "no vessel"
        ([[0, 0], [0, 0]], [[1, 0], [0, 0]], 0.0),  # truth empty
        ([[1, 0], [0, 0]], [[0, 0], [0, 0]], 0.0),  # prediction empty
        ([[1, 1], [0, 0]], [[1, 0], [1, 0]], 0.5),  # 2*1 / (2+2)
        ([[1, 1], [1, 0]], [[1, 1], [1, 0]], 1.0),
    ],
)
def test_dice_hand_cases(truth, pred, expected):
    assert dice_score(np.array(truth), np.array(pred)) == pytest.approx(expected)


def test_mean_dice_is_the_mean_of_per_patch_scores():
    truth = np.array([[[1, 1], [0, 0]], [[0, 0], [0, 0]]])
    pred = np.array([[[1, 0], [1, 0]], [[0, 0], [0, 0]]])
    np.testing.assert_allclose(dice_per_patch(truth, pred), [0.5, 1.0])
    assert mean_dice(truth, pred) == pytest.approx(0.75)


def test_dice_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        dice_per_patch(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))


def test_tune_threshold_finds_the_separating_value():
    truth = np.array([[[1, 1, 0, 0]]])
    prob = np.array([[[0.9, 0.3, 0.2, 0.1]]])
    threshold, dice = tune_threshold(truth, prob)
    assert 0.2 < threshold <= 0.3 and dice == 1.0
    # at 0.5 the second vessel pixel is lost
    assert mean_dice(truth, binarize(prob)) == pytest.approx(2 / 3)


def test_tune_threshold_prefers_the_candidate_closest_to_one_half_on_ties():
    truth = np.array([[[1, 0]]])
    prob = np.array([[[0.99, 0.01]]])
    assert tune_threshold(truth, prob)[0] == 0.5


def test_f1_by_threshold_agrees_with_photo_scores_at_every_threshold():
    rng = np.random.default_rng(3)
    label = rng.random((90, 80)) < 0.12
    probability = np.clip(label * 0.35 + rng.random((90, 80)) * 0.7, 0, 1).astype(np.float32)
    probability[:5] = 0.47  # ties exactly at a candidate
    fov = np.zeros((90, 80), bool)
    fov[5:85, 8:75] = True
    sweep = f1_by_threshold(probability, label, fov)
    expected = [photo_scores(probability, label, fov, t).f1 for t in THRESHOLD_CANDIDATES]
    np.testing.assert_allclose(sweep, expected, rtol=0, atol=1e-12)
    assert sweep.std() > 0.05  # the thresholds make a difference on this photograph
