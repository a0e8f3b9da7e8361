"""The release gate, re-run on every change: the bundled int8 model against its Keras twin."""

import json
from pathlib import Path

import pytest

pytest.importorskip("keras", reason="the release gate runs the Keras twin (the 'train' extra)")

from edge_runtime.contract.training_record import TrainingRecord
from edge_runtime.data.patches import file_sha256
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import read_card

RELEASE = Path(__file__).parents[2] / "training" / "release"


def test_the_release_files_belong_together(dev_npz):
    record = TrainingRecord.read(RELEASE / "metrics.json")
    config = json.loads((RELEASE / "config.json").read_text())
    card = read_card(DEFAULT_MODEL.read_bytes())
    assert record.data_sha256 == card.training_data_sha256 == file_sha256(dev_npz)
    assert record.params == card.parameters and record.arch == config["arch"] == card.architecture
    assert record.threshold == card.threshold and record.width == config["width"] == card.width
    assert config["recipe"] == "v1" and config["teacher_weight"] > 0
    assert len(record.teacher_sha256) == 64  # distilled: the teacher is on record


def test_bundled_model_passes_the_gate_against_its_keras_twin(dev_npz, run_cli):
    holdout = json.loads((RELEASE / "config.json").read_text())["holdout"]
    result = run_cli(
        "check", "--keras", RELEASE / "model.keras", "--tflite", DEFAULT_MODEL, "--data", dev_npz,
        "--images", "x_train", "--labels", "y_train", "--holdout", holdout, "--json",
    )  # fmt: skip
    report = json.loads(result.stdout.splitlines()[0])
    assert report["passed"] is True and report["n"] == 107
    recorded = read_card(DEFAULT_MODEL.read_bytes()).gate
    assert recorded.passed is True and recorded.n == report["n"]
    # both sides round differently on other CPUs (TensorFlow's floats; int8 kernels on ARM)
    assert report["tflite"]["dice_mean"] == pytest.approx(recorded.tflite.dice_mean, abs=2e-3)
    assert report["keras"]["dice_mean"] == pytest.approx(recorded.keras.dice_mean, abs=2e-3)


def test_the_release_build_script_is_valid_shell():
    import subprocess

    assert subprocess.run(["bash", "-n", str(RELEASE / "build.sh")]).returncode == 0
