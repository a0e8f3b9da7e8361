import numpy as np
import pytest

from edge_runtime.contract.metrics import (
    THRESHOLD_CANDIDATES,
    PhotoScores,
    best_mean_threshold,
    binarize,
    count_both_empty,
    defined_counts,
    dice_per_patch,
    dice_score,
    f1_by_threshold,
    mean_dice,
    mean_scores,
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


def test_count_both_empty_counts_the_patches_dice_calls_1_by_convention():
    truth = np.zeros((4, 3, 3), np.uint8)
    pred = np.zeros((4, 3, 3), np.uint8)
    truth[1, 0, 0] = 1  # truth only: Dice 0
    pred[2, 1, 1] = 1  # prediction only: Dice 0
    truth[3, 2, 2] = pred[3, 2, 2] = 1  # both: Dice 1, defined
    np.testing.assert_array_equal(dice_per_patch(truth, pred), [1.0, 0.0, 0.0, 1.0])
    assert count_both_empty(truth, pred) == 1  # only patch 0 is 1.0 by convention
    with pytest.raises(ValueError, match="shapes"):
        count_both_empty(truth, pred[:, :2])


RING = np.array([[0.9, 0.2], [0.7, 0.1]])


@pytest.mark.parametrize(
    ("label", "fov", "undefined"),
    [
        # empty field of view: no pixel to score, every metric undefined (was F1 1.0, accuracy 1.0)
        ([[1, 0], [1, 0]], np.zeros((2, 2), bool), set(vars(mean_scores([])))),
        # no vessel in the label, none predicted inside: F1 0/0 (was 1.0); no vessel to find
        ([[0, 0], [0, 0]], [[False, True], [False, True]], {"f1", "sensitivity", "auc"}),
        # every pixel inside is vessel: no background to keep
        ([[1, 1], [1, 1]], [[True, False], [True, False]], {"specificity", "auc"}),
    ],
)
def test_undefined_photo_metrics_are_none_never_a_made_up_score(label, fov, undefined):
    scores = photo_scores(RING, np.array(label), np.array(fov), 0.5)
    none = {name for name, value in vars(scores).items() if value is None}
    assert none == undefined
    assert all(0 <= value <= 1 for value in vars(scores).values() if value is not None)


def test_an_empty_label_with_vessels_predicted_scores_f1_zero():
    scores = photo_scores(RING, np.zeros((2, 2)), np.ones((2, 2), bool), 0.5)
    assert scores.f1 == 0.0 and scores.sensitivity is None and scores.specificity == 0.5


def test_f1_by_threshold_is_nan_where_f1_is_undefined():
    label = np.zeros((2, 2))  # no vessel: F1 is 0 where vessels are predicted, else undefined
    sweep = f1_by_threshold(RING, label, np.ones((2, 2), bool))
    expected = [
        photo_scores(RING, label, np.ones((2, 2), bool), t).f1 for t in THRESHOLD_CANDIDATES
    ]
    assert [None if np.isnan(v) else v for v in sweep] == expected
    assert np.isnan(sweep[-1]) and sweep[0] == 0.0


def test_photographs_choose_the_threshold_of_their_best_mean_f1():
    n = len(THRESHOLD_CANDIDATES)
    peak = np.where(THRESHOLD_CANDIDATES == 0.3, 0.9, 0.5)  # best at 0.3
    undefined = np.full(n, np.nan)  # a photograph with no F1 anywhere is left out of every mean
    assert best_mean_threshold([peak, peak, undefined]) == 0.3
    flat = np.full(n, 0.7)  # a tie everywhere goes to the candidate closest to 0.5
    assert best_mean_threshold([flat]) == 0.5


def test_means_leave_out_undefined_metrics_and_say_over_how_many():
    scores = [
        PhotoScores(0.8, 0.7, None, 0.9, None),
        PhotoScores(0.6, 0.5, 0.95, 0.92, 0.97),
        PhotoScores(None, None, 0.99, 0.94, None),
    ]
    mean = mean_scores(scores)
    assert mean.f1 == pytest.approx(0.7) and mean.specificity == pytest.approx(0.97)
    assert mean.auc == pytest.approx(0.97) and mean.accuracy == pytest.approx(0.92)
    counts = {"f1": 2, "sensitivity": 2, "specificity": 2, "accuracy": 3, "auc": 1}
    assert defined_counts(scores) == counts
    assert mean_scores([]) == PhotoScores(None, None, None, None, None)


def test_the_threshold_candidates_are_every_hundredth_from_0_05_to_0_95():
    assert THRESHOLD_CANDIDATES.tolist() == [round(0.05 + 0.01 * i, 2) for i in range(91)]
