"""The release gate, re-run on every change: the bundled int8 model against its Keras twin."""

import json
from pathlib import Path

import pytest

pytest.importorskip("keras", reason="the release gate runs the Keras twin (the 'train' extra)")

from edge_runtime.contract.training_record import TrainingRecord
from edge_runtime.data.photos import find_dataset
from edge_runtime.inference.bundled import DEFAULT_MODEL
from edge_runtime.inference.model_file import read_card

RELEASE = Path(__file__).parents[2] / "training" / "release"


def _cameras(dev_npz) -> tuple[Path, Path]:
    """The two cameras' photograph folders the release was trained on (beside the patch file)."""
    return dev_npz.parent / "drive", dev_npz.parent / "stare"


def test_the_release_files_belong_together(dev_npz):
    from training.sources import PhotoSource, sources_sha256

    record = TrainingRecord.read(RELEASE / "metrics.json")
    config = json.loads((RELEASE / "config.json").read_text())
    card = read_card(DEFAULT_MODEL.read_bytes())
    trained_on = [PhotoSource(find_dataset(folder), 1.0, [], []) for folder in _cameras(dev_npz)]
    assert record.data_sha256 == card.training_data_sha256 == sources_sha256(trained_on)
    assert record.params == card.parameters and record.arch == config["arch"] == card.architecture
    assert record.threshold == card.threshold and record.width == config["width"] == card.width
    assert config["recipe"] == "v2" and record.channel == config["channel"] == card.channel
    assert card.model_version == "1.1.0" and card.parameters <= 100_000
    assert len(record.holdout_photos) == 7  # a fifth of each camera's photographs: 3 + 4


def test_bundled_model_passes_the_gate_against_its_keras_twin(dev_npz, run_cli):
    holdout = json.loads((RELEASE / "config.json").read_text())["holdout"]
    drive, stare = _cameras(dev_npz)
    result = run_cli(
        "check",
        "--keras",
        RELEASE / "model.keras",
        "--tflite",
        DEFAULT_MODEL,
        "--data",
        drive,
        "--data",
        stare,
        "--holdout",
        holdout,
        "--json",
    )
    report = json.loads(result.stdout.splitlines()[0])
    recorded = read_card(DEFAULT_MODEL.read_bytes()).gate
    assert report["passed"] is True and recorded.passed is True
    assert report["unit"] == recorded.unit == "photographs" and report["n"] == recorded.n == 7
    # both sides round differently on other CPUs (TensorFlow's floats; int8 kernels on ARM)
    assert report["tflite"]["dice_mean"] == pytest.approx(recorded.tflite.dice_mean, abs=2e-3)
    assert report["keras"]["dice_mean"] == pytest.approx(recorded.keras.dice_mean, abs=2e-3)


def test_the_release_build_script_is_valid_shell():
    import subprocess

    assert subprocess.run(["bash", "-n", str(RELEASE / "build.sh")]).returncode == 0
