"""Distillation: teacher targets, the mixed loss, and a smoke run through the CLI."""

import dataclasses
import json

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="host tests need the 'train' extra (TensorFlow)")

from edge_runtime.contract.bound_settings import edited_settings  # noqa: E402
from edge_runtime.contract.model_card import ModelFile, TrainingStart  # noqa: E402
from edge_runtime.contract.training_record import TrainingRecord  # noqa: E402
from edge_runtime.data.patches import file_sha256  # noqa: E402
from training.distill import teacher_probabilities  # noqa: E402
from training.losses import bce_dice_loss, distillation_loss  # noqa: E402
from training.models import build_unet_lite  # noqa: E402


def test_teacher_targets_are_equivariant_probabilities():
    keras.utils.set_random_seed(3)
    teacher = build_unet_lite(width=2)
    x = np.random.default_rng(3).random((3, 64, 64, 1), dtype=np.float32)
    targets = teacher_probabilities(teacher, x)
    assert targets.shape == x.shape and targets.dtype == np.float32
    assert targets.min() >= 0 and targets.max() <= 1
    # averaged over all eight symmetries: turning the input turns the targets
    turned = teacher_probabilities(teacher, np.ascontiguousarray(np.rot90(x, 1, axes=(1, 2))))
    np.testing.assert_allclose(turned, np.rot90(targets, 1, axes=(1, 2)), atol=1e-5)


def test_distillation_loss_mixes_labels_and_teacher():
    rng = np.random.default_rng(4)
    labels = (rng.random((2, 8, 8, 1)) > 0.7).astype("float32")
    teacher = rng.random((2, 8, 8, 1)).astype("float32")
    pred = rng.uniform(0.05, 0.95, (2, 8, 8, 1)).astype("float32")
    y = np.concatenate([labels, teacher], axis=-1)
    on_labels = float(bce_dice_loss(labels, pred))
    on_teacher = float(bce_dice_loss(teacher, pred))
    assert on_labels != pytest.approx(on_teacher)
    for weight in (0.0, 0.8, 1.0):
        mixed = float(distillation_loss(bce_dice_loss, weight)(y, pred))
        assert mixed == pytest.approx((1 - weight) * on_labels + weight * on_teacher, rel=1e-5)


def test_distilled_run_records_its_teacher(subset_npz, host_model, tmp_path, train_smoke):
    """The teacher was recorded by its SHA-256 alone (teacher_sha256), not by name: the record's
    start names it beside --init, bound to the model file with the rest of start."""
    teacher = host_model
    train_smoke(subset_npz, tmp_path, "--arch", "unet-lite", "--width", "4", "--teacher", teacher)
    record = TrainingRecord.read(tmp_path / "metrics.json")
    config = json.loads((tmp_path / "config.json").read_text())
    named = ModelFile(teacher.name, file_sha256(teacher))  # no path
    assert record.start == TrainingStart(None, None, named) and record.teacher_sha256 is None
    assert record.model_sha256 == file_sha256(tmp_path / "model.keras")
    assert edited_settings(record) == ()
    unnamed = dataclasses.replace(record.start, teacher=None)
    assert edited_settings(dataclasses.replace(record, start=unnamed)) == ("start",)
    assert config["teacher"] == teacher.name and config["teacher_weight"] == 0.8  # no path


def test_a_recipe_that_distils_needs_its_teacher(subset_npz, tmp_path, run_cli):
    result = run_cli("train", subset_npz, "--recipe", "v1", "--out", tmp_path, expect=2)
    assert "recipe v1 distils from a teacher: train one with --recipe v1-teacher" in result.output
    assert not any(tmp_path.iterdir())


def test_a_missing_teacher_is_a_one_line_error(subset_npz, tmp_path, run_cli):
    missing = tmp_path / "nowhere" / "model.keras"
    result = run_cli("train", subset_npz, "--out", tmp_path / "run", "--teacher", missing, expect=2)
    assert result.output == f"Error: {missing}: no such Keras model file\n"
    assert not (tmp_path / "run").exists()


def test_soft_dice_loss_values_and_smoothing():
    from training.losses import soft_dice_loss

    labels = np.zeros((2, 4, 4, 1), np.float32)
    labels[:, :2] = 1  # 8 vessel pixels per patch
    assert float(soft_dice_loss(labels, labels)) == pytest.approx(0.0, abs=1e-6)  # perfect
    other = 1 - labels  # disjoint: overlap 0, total 16 -> 1 - 1/17
    assert float(soft_dice_loss(labels, other)) == pytest.approx(1 - 1 / 17, rel=1e-5)
    empty = np.zeros_like(labels)  # both empty: the smoothing makes it a perfect match
    assert float(soft_dice_loss(empty, empty)) == pytest.approx(0.0, abs=1e-6)
    half = np.full_like(labels, 0.5)  # overlap 4, total 8 + 8 -> 1 - 9/17
    assert float(soft_dice_loss(labels, half)) == pytest.approx(1 - 9 / 17, rel=1e-5)


def test_bce_dice_is_bce_plus_dice_and_get_loss_names_it():
    from training.losses import bce_dice_loss, get_loss, soft_dice_loss

    rng = np.random.default_rng(4)
    labels = (rng.random((2, 8, 8, 1)) > 0.7).astype("float32")
    pred = rng.uniform(0.05, 0.95, (2, 8, 8, 1)).astype("float32")
    bce = float(keras.losses.BinaryCrossentropy()(labels, pred))
    dice = float(soft_dice_loss(labels, pred))
    assert dice > 0.1
    assert float(bce_dice_loss(labels, pred)) == pytest.approx(bce + dice, rel=1e-5)
    assert float(get_loss("bce-dice")(labels, pred)) == pytest.approx(bce + dice, rel=1e-5)
    assert float(get_loss("bce")(labels, pred)) == pytest.approx(bce, rel=1e-5)


def test_distillation_weighs_the_teacher_by_teacher_weight(subset_npz, tmp_path, monkeypatch):
    """The trainer hands --teacher-weight to the mixed loss as the teacher's share."""
    import training.trainer
    from training.config import TrainConfig
    from training.models import build_unet_lite

    class Handed(Exception):
        pass

    def spy(loss, teacher_weight):
        raise Handed(teacher_weight)

    monkeypatch.setattr(training.trainer, "distillation_loss", spy)
    teacher = tmp_path / "teacher.keras"
    build_unet_lite(width=2).save(teacher)
    config = TrainConfig(
        data=(str(subset_npz),),
        out=str(tmp_path / "run"),
        teacher=str(teacher),
        teacher_weight=0.3,
        epochs=1,
    )
    with pytest.raises(Handed) as handed:
        training.trainer.train(config)
    assert handed.value.args == (0.3,)
