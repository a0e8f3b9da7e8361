"""Training, fine-tuning and the gate on folders of labelled photographs (mechanics on small
synthetic photographs; quality is the business of the benchmarks, as it depends on the CPU)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from edge_runtime.contract.training_record import TrainingRecord
from edge_runtime.data.photos import photo_holdout
from edge_runtime.evaluation.synthetic import synthetic_fundus
from training.sources import parse_data_argument

TINY = ["--epochs", "2", "--crops", "64", "--batch-size", "16", "--seed", "7"]


def _photos(root: Path, count: int = 5, layout: str = "generic") -> Path:
    """Synthetic photographs whose labels are their dark curves, in the generic or STARE
    layout."""
    folders = {"generic": ("images", "labels"), "stare": ("stare-images", "labels-ah")}[layout]
    for folder in folders:
        (root / folder).mkdir(parents=True)
    for i in range(count):
        photo = synthetic_fundus(180, 200, seed=i)
        gray = photo.mean(axis=2)
        label = ((gray > 20) & (gray < 0.8 * np.percentile(gray[gray > 20], 60))) * 255
        stem = f"im{i:04d}" if layout == "stare" else f"eye{i}"
        Image.fromarray(photo).save(root / folders[0] / f"{stem}.png")
        suffix = ".ah.png" if layout == "stare" else ".png"
        Image.fromarray(label.astype(np.uint8)).save(root / folders[1] / f"{stem}{suffix}")
    return root


def test_data_arguments_and_photo_holdouts():
    assert parse_data_argument("photos") == (Path("photos"), 1.0)
    assert parse_data_argument("photos:2.5") == (Path("photos"), 2.5)
    assert parse_data_argument("a:b") == (Path("a:b"), 1.0)
    assert photo_holdout(12, 0.2).tolist() == [3, 9]
    assert photo_holdout(5, 0.2).tolist() == [2] and photo_holdout(1, 0.5).tolist() == []
    assert photo_holdout(3, 0.9).tolist() == [0, 2]  # never every photograph


def test_training_on_photographs_and_patches_together(tmp_path, subset_npz, train_smoke):
    photos = _photos(tmp_path / "photos")
    result = train_smoke(
        f"{photos}:3", tmp_path / "run", subset_npz, "--arch", "unet-lite", "--width", "4",
        "--crops", "64",
    )  # fmt: skip
    record = TrainingRecord.read(tmp_path / "run" / "metrics.json")
    assert record.train_photos == 4 and len(record.holdout_photos) == 1
    assert record.holdout_photos[0].name == "eye2"
    assert record.holdout_f1 == record.holdout_photos[0].f1 and record.holdout_auc is not None
    assert record.holdout_patches == 24 and len(record.holdout_dice_per_patch) == 24
    assert record.train_patches == 48 and record.width == 4
    assert len(record.data_sha256) == 64
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"] == [f"{photos}:3", str(subset_npz)] and config["crops"] == 64
    assert "holdout photographs: F1" in result.stdout


def test_fine_tuning_starts_from_the_given_weights(tmp_path, host_model, run_cli):
    photos = _photos(tmp_path / "photos", layout="stare")
    out = tmp_path / "tuned"
    run_cli("train", photos, "--out", out, "--arch", "unet", "--width", "4", "--init",
            host_model, *TINY)  # fmt: skip
    record = TrainingRecord.read(out / "metrics.json")
    from edge_runtime.data.patches import file_sha256

    assert record.init_sha256 == file_sha256(host_model)
    result = run_cli("train", photos, "--out", tmp_path / "bad", "--arch", "unet-lite",
                     "--init", host_model, *TINY, expect=2)  # fmt: skip
    assert result.output == (
        f"Error: {host_model}: its weights do not fit --arch unet-lite --width 8\n"
    )


def test_distillation_needs_a_single_patch_file(tmp_path, host_model, run_cli, subset_npz):
    photos = _photos(tmp_path / "photos")
    result = run_cli("train", photos, subset_npz, "--out", tmp_path / "run", "--teacher",
                     host_model, *TINY, expect=2)  # fmt: skip
    assert "distillation takes a single .npz file as data" in result.output


def test_the_gate_on_photographs(tmp_path, host_model, dev_npz, run_cli):
    """The fixture model converted to int8, gated on two DRIVE photographs through the
    device's pipeline: its own twin passes, another model's does not."""
    drive = tmp_path / "drive"
    for folder, pattern in (("images", "1[78]_test.tif"), ("1st_manual", "1[78]_manual1.gif"),
                            ("mask", "1[78]_test_mask.gif")):  # fmt: skip
        (drive / folder).mkdir(parents=True)
        for path in (dev_npz.parent / "drive" / folder).glob(pattern):
            shutil.copy(path, drive / folder)
    model = tmp_path / "m.tflite"
    result = run_cli("convert", host_model, "--calibration", drive, "--calibration-size", "128",
                     "--check-data", drive, "-o", model)  # fmt: skip
    assert "gate passed" in result.output and "(2 photographs)" in result.output
    from edge_runtime.inference.model_file import read_card

    gate = read_card(model.read_bytes()).gate
    assert gate.unit == "photographs" and gate.n == 2 and gate.data.path == "drive"
    assert gate.pixel_agreement > 0.99
    report = json.loads(run_cli("check", "--keras", host_model, "--tflite", model, "--data",
                                drive, "--json").stdout.splitlines()[0])  # fmt: skip
    assert report["passed"] and report["unit"] == "photographs"
    assert len(report["tflite"]["dice_per_image"]) == 2
    assert sorted(w["name"] for w in report["worst_drops"]) == ["drive/17_test", "drive/18_test"]
    from edge_runtime.inference.bundled import DEFAULT_MODEL

    shutil.copytree(drive, tmp_path / "again")  # several folders: one gate over all of them
    both = json.loads(run_cli("check", "--keras", host_model, "--tflite", model, "--data", drive,
                              "--data", tmp_path / "again", "--json").stdout)  # fmt: skip
    assert both["n"] == 4 and both["data"]["path"] == "drive+again" and both["passed"]
    mixed_up = run_cli("check", "--keras", host_model, "--tflite", DEFAULT_MODEL, "--data", drive,
                       "--json", expect=1)  # fmt: skip
    assert any("not a faithful conversion" in f for f in json.loads(mixed_up.stdout)["failures"])


@pytest.mark.parametrize("layout", ["drive", "stare", "hrf", "chase", "generic"])
def test_every_layout_gives_training_crops_and_holdout_photographs(
    tmp_path, layout, make_photo_dataset
):
    """The training side reads the same folders eval reads."""
    from training.sources import load_photo_source

    source = load_photo_source(make_photo_dataset(tmp_path, layout, count=5), 1.0, 0.2)
    assert len(source.train) == 4 and len(source.holdout) == 1
    x, y = source.crops(np.random.default_rng(0), 6)
    assert x.shape == y.shape == (6, 64, 64, 1) and set(np.unique(y)) <= {0.0, 1.0}
    assert x.min() >= 0 and x.max() <= 1


def test_training_on_photographs_is_deterministic(tmp_path, train_smoke):
    import keras
    import numpy as np

    photos = _photos(tmp_path / "photos")
    runs = [tmp_path / "a", tmp_path / "b"]
    for out in runs:
        train_smoke(photos, out, "--arch", "unet-lite", "--width", "4", "--crops", "64")
    first, second = (keras.models.load_model(r / "model.keras").get_weights() for r in runs)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_the_gate_runs_the_twin_in_the_models_own_channel(tmp_path, host_model, dev_npz, run_cli):
    """A model whose card says green: the Keras twin must see the green channel too, or the
    gate would compare two different inputs (and fail a faithful conversion)."""
    import dataclasses

    from converters.metadata_writer import embed_card
    from edge_runtime.inference.model_file import read_card

    drive = tmp_path / "drive"
    for folder, pattern in (("images", "17_test.tif"), ("1st_manual", "17_manual1.gif"),
                            ("mask", "17_test_mask.gif")):  # fmt: skip
        (drive / folder).mkdir(parents=True)
        shutil.copy(dev_npz.parent / "drive" / folder / pattern, drive / folder)
    model = tmp_path / "m.tflite"
    run_cli("convert", host_model, "--calibration", dev_npz, "--calibration-size", "64",
            "--no-check", "-o", model)  # fmt: skip
    content = model.read_bytes()
    card = dataclasses.replace(read_card(content), channel="green")
    model.write_bytes(embed_card(content, card))
    report = json.loads(run_cli("check", "--keras", host_model, "--tflite", model, "--data",
                                drive, "--json").stdout)  # fmt: skip
    assert report["pixel_agreement"] > 0.99 and report["passed"]
