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
    trained_on = [
        PhotoSource(find_dataset(folder), 1.0, [], [], []) for folder in _cameras(dev_npz)
    ]
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
    assert subprocess_ok(RELEASE / "build.sh")


@pytest.mark.parametrize(
    ("script", "built"),
    [
        ("build.sh", ["vessels_int8.tflite", "vessels_int8.tflite.sig", "gate-report"]),
        ("build_artery_vein.sh", ["artery_vein_int8.tflite", "artery_vein_int8.tflite.sig"]),
    ],
)
def test_a_rebuild_whose_gate_fails_leaves_no_earlier_build(tmp_path, script, built):
    """convert writes nothing when its gate fails, so a rebuild into the same folder left the
    previous build's signed model, whose card says its gate passed, beside the new model.keras
    (check against it: pixel agreement 47 %), to be shipped as this build's."""
    import os
    import subprocess

    bin_dir, run = tmp_path / "bin", tmp_path / "run"
    bin_dir.mkdir()
    edge_seg = bin_dir / "edge-seg"  # trains, and fails every gate
    edge_seg.write_text('#!/bin/sh\ncase "$1" in convert*) exit 1;; esac\n')
    edge_seg.chmod(0o755)
    run.mkdir()
    for name in built:
        (run / name).write_text("the previous build's")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("EDGE_SEG_SIGNING_KEY", None)
    done = subprocess.run(["bash", RELEASE / script, tmp_path, run], env=env)
    assert done.returncode == 1
    assert [name for name in built if (run / name).exists()] == []


def test_the_artery_vein_release_files_belong_together():
    from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_PREPROCESSING
    from edge_runtime.inference.bundled import ARTERY_VEIN_MODEL
    from training.artery_vein import ArteryVeinRecord
    from training.config import ARTERY_VEIN_RECORD

    record = ArteryVeinRecord.read(RELEASE / "artery_vein" / ARTERY_VEIN_RECORD)
    card = read_card(ARTERY_VEIN_MODEL.read_bytes())
    assert card.preprocessing.name == ARTERY_VEIN_PREPROCESSING
    assert record.parameters == card.parameters and card.width == record.training.width
    assert card.patch_size == record.training.device_side and card.model_version == "1.2.0-dev"
    assert card.fov_diameter == record.training.fov_diameter
    assert record.data == ("drive", "gave", "les-av") and record.photographs == 88
    gate = card.artery_vein_gate
    assert gate.passed and gate.photographs == 88 and gate.data == record.data
    assert subprocess_ok(RELEASE / "build_artery_vein.sh")


def test_the_release_records_are_bound_to_their_model_files():
    """Each release record binds the settings its card takes to its committed model file, as a
    run writes it: convert of the release twins checks them (those an older record does not
    bind go unchecked)."""
    from edge_runtime.contract.bound_settings import edited_settings
    from edge_runtime.data.patches import file_sha256
    from training.artery_vein import ArteryVeinRecord
    from training.config import ARTERY_VEIN_RECORD

    vessels = TrainingRecord.read(RELEASE / "metrics.json")
    artery_vein = ArteryVeinRecord.read(RELEASE / "artery_vein" / ARTERY_VEIN_RECORD)
    for record, folder in ((vessels, RELEASE), (artery_vein, RELEASE / "artery_vein")):
        assert record.model_sha256 == file_sha256(folder / "model.keras")
        assert edited_settings(record) == ()
    # written before the holdout and start were bound: those go unchecked, as convert warns
    assert tuple(vessels.settings_sha256) == ("threshold", "channel")
    assert tuple(artery_vein.settings_sha256) == artery_vein.BOUND_SETTINGS


def test_bundled_artery_vein_model_passes_its_gate_against_its_keras_twin(dev_npz):
    from converters.artery_vein import artery_vein_gate
    from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_PREPROCESSING
    from edge_runtime.contract.gate_report import ArteryVeinGates
    from edge_runtime.pipeline.artery_vein import ArteryVeinModel
    from edge_runtime.pipeline.segmenter import Segmenter
    from training.artery_vein import (
        ArteryVeinRecord,
        chained_model,
        device_model,
        load_examples,
    )
    from training.config import ARTERY_VEIN_RECORD
    from training.model_io import load_keras_model

    training = ArteryVeinRecord.read(RELEASE / "artery_vein" / ARTERY_VEIN_RECORD).training
    twin = device_model(
        load_keras_model(RELEASE / "artery_vein" / "model.keras", ARTERY_VEIN_PREPROCESSING),
        training,
    )
    examples = load_examples([dev_npz.parent / "drive"], Segmenter(), training)
    report = artery_vein_gate(
        chained_model(twin, training), ArteryVeinModel(), examples, ArteryVeinGates(), ()
    )
    assert report.passed, report.failures
    assert report.photographs == 16 and report.int8_accuracy > 0.8  # photographs it trained on


def subprocess_ok(script: Path) -> bool:
    """Whether ``script`` is valid shell."""
    import subprocess

    return subprocess.run(["bash", "-n", str(script)]).returncode == 0
