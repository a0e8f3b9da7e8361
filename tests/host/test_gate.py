"""The gate's verdicts on hand-made probabilities (pure numpy), and on a mixed-up pair of files."""

import json

import numpy as np
import pytest

from converters.gate import MaskComparison, evaluate_gate
from edge_runtime.contract.gate_report import Gates

LABELS = np.zeros((4, 8, 8), dtype=np.uint8)
LABELS[:, 2:6, 3:5] = 1


def _mask(masks: np.ndarray) -> np.ndarray:
    return (masks > 0).astype(np.uint8)


def test_a_faithful_conversion_passes():
    report = evaluate_gate(MaskComparison.of(LABELS, _mask(LABELS), _mask(LABELS)), 0.5, Gates())
    assert report.passed and report.pixel_agreement == 1.0 and report.mean_drop == 0.0


def test_an_int8_model_far_better_than_its_twin_fails_as_not_its_conversion():
    empty = np.zeros_like(LABELS)
    report = evaluate_gate(MaskComparison.of(LABELS, _mask(LABELS), _mask(empty)), 0.5, Gates())
    assert report.keras.dice_mean == 0.0 and report.tflite.dice_mean == 1.0
    assert not report.passed
    blank, agreement, gain = report.failures
    assert blank.startswith("the Keras model's masks mark no pixel as vessel")
    assert "agree on only 87.50% of the pixels (at least 99.00% required)" in agreement
    assert "not a faithful conversion" in agreement
    assert "scores 1.0000 mean Dice above its Keras twin (at most 0.01 allowed)" in gain


def test_an_int8_model_worse_than_its_twin_fails_on_the_drop_and_the_agreement():
    worse = LABELS.copy()
    worse[0] = 0  # one image loses its vessels: Dice 0 there
    report = evaluate_gate(MaskComparison.of(LABELS, _mask(worse), _mask(LABELS)), 0.5, Gates())
    assert report.mean_drop == pytest.approx(0.25)
    failures = " | ".join(report.failures)
    assert "agree on only 96.88%" in failures
    assert "mean Dice drop 0.2500 exceeds 0.005" in failures
    assert "1 patch drops more than 0.05 Dice (worst: patch 0, 1.0000)" in failures


def test_each_limit_can_be_turned_off():
    shifted = np.roll(LABELS, 2, axis=2)  # vessels elsewhere: Dice 0, 25 % disagreeing
    off = Gates(None, None, None, None, None)
    assert evaluate_gate(MaskComparison.of(LABELS, _mask(LABELS), _mask(shifted)), 0.5, off).passed
    assert not evaluate_gate(
        MaskComparison.of(LABELS, _mask(LABELS), _mask(shifted)), 0.5, Gates()
    ).passed


@pytest.mark.parametrize("keras_too", [True, False])
@pytest.mark.parametrize(
    "masks, said",
    [(np.zeros_like(LABELS), "mark no pixel"), (1 - LABELS, "mark 88% of the pixels")],
)
def test_masks_that_mark_no_vessel_or_mostly_vessel_fail_whatever_the_limits(
    masks, said, keras_too
):
    """Empty masks (a threshold of 0.99) agree with empty masks: the gate passed at Dice 0
    against 0, 100 % agreement, and the model card said "passed"; so did an untrained model
    marking every pixel."""
    off = Gates(None, None, None, None, None)
    compared = MaskComparison.of(LABELS, _mask(masks), _mask(masks) if keras_too else None)
    report = evaluate_gate(compared, 0.99, off)
    models = ["LiteRT", "Keras"] if keras_too else ["LiteRT"]
    assert not report.passed and len(report.failures) == len(models)
    for model, failure in zip(models, report.failures, strict=True):
        assert failure.startswith(f"the {model} model's masks {said} as vessel")
        assert "the gate compared nothing" in failure
    joined = MaskComparison.joined([MaskComparison.of(LABELS[:1], _mask(masks[:1]), None)] * 2)
    assert joined.pixels == 128 and joined.tflite_vessels == 2 * np.count_nonzero(masks[0])
    assert joined.label_vessels == 2 * np.count_nonzero(LABELS[0])


def test_labels_without_vessels_fail_the_gate_naming_the_data_not_the_models():
    background = np.zeros_like(LABELS)  # empty masks are right there, and prove nothing
    compared = MaskComparison.of(background, background, background)
    report = evaluate_gate(compared, 0.5, Gates(None, None, None, None, None))
    assert not report.passed
    assert report.failures == (
        "the data's labels mark no pixel as vessel: the gate compared nothing (a holdout of "
        "background patches?)",
    )


def test_photographs_compared_one_at_a_time_are_compared_as_all_at_once():
    worse = LABELS.copy()
    worse[1, 2:4] = 0
    whole = MaskComparison.of(LABELS, _mask(worse), _mask(LABELS))
    each = [  # as the gate reads photographs: a flat list of pixels each, one at a time
        MaskComparison.of([t.ravel()], [_mask(w).ravel()], [_mask(t).ravel()])
        for t, w in zip(LABELS, worse, strict=True)
    ]
    joined = MaskComparison.joined(each)
    assert np.array_equal(joined.tflite_dice, whole.tflite_dice)
    assert np.array_equal(joined.keras_dice, whole.keras_dice)
    assert (joined.agreeing, joined.pixels) == (whole.agreeing, whole.pixels) == (252, 256)
    report = evaluate_gate(joined, 0.5, Gates())
    assert report == evaluate_gate(whole, 0.5, Gates()) and not report.passed
    halves = [
        MaskComparison.of(LABELS[h], _mask(worse[h]), _mask(LABELS[h]))
        for h in (slice(0, 2), slice(2, 4))
    ]
    assert evaluate_gate(MaskComparison.joined(halves), 0.5, Gates()) == report  # any parts
    alone = MaskComparison.joined([MaskComparison.of([LABELS[0]], [LABELS[0]], None)])
    assert alone.keras_dice is None and evaluate_gate(alone, 0.5, Gates()).keras is None


def test_check_fails_a_int8_model_that_is_not_its_twins(host_model, patches_npz, run_cli, tmp_path):
    """The bundled int8 model checked against the fixture's Keras model: two competent models,
    but not a pair, so the check must fail however close their scores are."""
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    result = run_cli(
        "check",
        "--keras",
        host_model,
        "--tflite",
        DEFAULT_MODEL,
        "--data",
        patches_npz,
        "--images",
        "x_train",
        "--labels",
        "y_train",
        "--holdout",
        "0.2",
        "--json",
        expect=1,
    )
    report = json.loads(result.stdout.splitlines()[0])
    assert report["passed"] is False
    assert report["pixel_agreement"] < 0.99
    assert any("not a faithful conversion" in f for f in report["failures"])


@pytest.mark.parametrize(
    "option",
    [
        "--max-mean-drop",
        "--max-image-drop",
        "--min-pixel-agreement",
        "--max-mean-gain",
        "--min-dice",
        "--threshold",
    ],
)
def test_gate_limits_that_are_not_finite_are_usage_errors(option, run_cli, tmp_path):
    result = run_cli(
        "check",
        "--tflite",
        tmp_path / "m.tflite",
        "--data",
        tmp_path / "d.npz",
        "--images",
        "x",
        "--labels",
        "y",
        option,
        "nan",
        expect=2,
    )
    assert "is not a finite number" in result.output


_LABELS = np.zeros((4, 8, 8), dtype=np.uint8)
_LABELS[:, 2:6, 3:5] = 1


def test_a_small_mean_drop_fails_and_one_image_s_drop_fails_though_the_mean_is_small():
    """Guards against the mean-drop limit loosened (only a 0.25 drop, far past any limit, was
    tested), and the per-image limit read off the mean drop (the tested images dropped 1.0 and
    0.25)."""
    from converters.gate import MaskComparison, evaluate_gate
    from edge_runtime.contract.gate_report import Gates

    worse = _LABELS.copy()
    worse[0, 2, 3] = 0  # one pixel of patch 0: Dice 14/15 there, drop 1/15; mean drop 1/60
    compared = MaskComparison.of(_LABELS, worse, _LABELS)
    mean_only = evaluate_gate(compared, 0.5, Gates(0.005, None, None, None, None))
    assert mean_only.mean_drop == pytest.approx(1 / 60)
    assert mean_only.failures == ("mean Dice drop 0.0167 exceeds 0.005 (worst patches: 0, 1, 2)",)
    image_only = evaluate_gate(compared, 0.5, Gates(None, 0.05, None, None, None))
    assert not image_only.passed
    assert image_only.failures[0].startswith("1 patch drops more than 0.05 Dice (worst: patch 0")
    assert evaluate_gate(compared, 0.5, Gates(None, 0.07, None, None, None)).passed


def test_a_zero_drop_passes_limits_of_zero():
    """Guards against '>' made '>=' in the drop limits: no drop at all must pass a limit of no
    drop."""
    from converters.gate import MaskComparison, evaluate_gate
    from edge_runtime.contract.gate_report import Gates

    compared = MaskComparison.of(_LABELS, _LABELS, _LABELS)
    report = evaluate_gate(compared, 0.5, Gates(0.0, 0.0, 1.0, 0.0, None))
    assert report.passed and report.failures == ()


def test_the_report_names_a_photograph_not_utf_8_as_messages_show_it(tmp_path):
    """report.json wrote a name whose bytes are not UTF-8 as a lone surrogate (caf\\udce9),
    which strict readers refuse and jq reads as U+FFFD."""
    import dataclasses

    from converters.gate_files import write_report
    from edge_runtime.contract.gate_report import GateData, ImageDrop

    drops = [ImageDrop(0, 0.8, 0.7, 0.1, "eyes/caf\udce9")]
    report = dataclasses.replace(
        evaluate_gate(MaskComparison.of(LABELS, _mask(LABELS), _mask(LABELS)), 0.5, Gates()),
        data=GateData("eyes\udcff"),
        worst_drops=tuple(drops),
    )
    write_report(tmp_path, report)
    written = json.loads((tmp_path / "report.json").read_bytes().decode("utf-8"))
    assert written["data"]["path"] == "eyes\\udcff"
    assert written["worst_drops"][0]["name"] == "eyes/caf\\udce9"


def test_a_gate_on_one_photograph_says_1_photograph(capsys):
    """convert and check said "(1 photographs)" of a gate on one photograph (a run's holdout of
    one), as its report's Markdown and info's gate line did: the noun is singular for 1."""
    from converters.cli import _echo_gate
    from converters.gate_files import gate_markdown
    from edge_runtime.contract.gate_report import GateReport, ModelScores
    from edge_runtime.errors import counted

    one = GateReport(True, 0.5, 1, ModelScores("m.tflite", 0.8), unit="photographs")
    _echo_gate(one)
    assert capsys.readouterr().out == "gate passed: LiteRT Dice 0.8000 (1 photograph)\n"
    assert "\n1 labelled photograph, threshold 0.5.\n" in gate_markdown(one)
    assert one.counted() == "1 photograph"
    assert GateReport(True, 0.5, 34, ModelScores("m", 0.8)).counted() == "34 patches"
    assert [counted(n, "photograph") for n in (0, 2)] == ["0 photographs", "2 photographs"]
