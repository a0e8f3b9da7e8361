"""Train a model on a reference ``.npz`` patch set and write a run directory.

A run directory holds ``model.keras`` (the checkpoint with the best holdout Dice), ``metrics.json``,
``config.json`` and ``history.png``. Training is seeded and deterministic on the CPU: the same
configuration, data and machine give the same weights.
"""

import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from edge_runtime import __version__
from edge_runtime.atomic import atomic_path
from edge_runtime.contract.holdout import holdout_split
from edge_runtime.contract.metrics import (
    DEFAULT_THRESHOLD,
    binarize,
    dice_per_patch,
    tune_threshold,
)
from edge_runtime.contract.preprocessing import preprocess_patches
from edge_runtime.contract.training_record import RECORD_FILE, TrainingRecord, Versions
from edge_runtime.data.patches import load_dataset
from edge_runtime.errors import InputError
from training.augment import gamma_jitter, random_dihedral
from training.config import SCHEDULES, WIDTH_ARCHITECTURES, TrainConfig
from training.distill import load_teacher, teacher_probabilities
from training.losses import distillation_loss, get_loss
from training.model_io import predict_probabilities
from training.models import build_model, multiply_accumulates
from training.plots import plot_history


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, optionally augmented batches; each batch's randomness depends only on
    (seed, epoch, batch index), so the sequence is reproducible."""

    def __init__(self, x, y, batch_size: int, seed: int, augment: bool, jitter: bool):
        super().__init__()
        self.x, self.y = x, y
        self.batch_size, self.seed = batch_size, seed
        self.augment, self.jitter = augment, jitter
        self.epoch = 0
        self._order = self._shuffle()

    def _shuffle(self) -> np.ndarray:
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int):
        idx = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        x, y = self.x[idx], self.y[idx]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.augment:
            x, y = random_dihedral(x, y, rng)
        if self.jitter:
            x = gamma_jitter(x, rng)
        return x, y

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._shuffle()


class HoldoutDice(keras.callbacks.Callback):
    """Logs the holdout mean Dice at 0.5 each epoch and keeps the weights of the best epoch."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y
        self.best_dice, self.best_epoch, self.best_weights = -1.0, 0, None

    def on_epoch_end(self, epoch, logs=None):
        prob = predict_probabilities(self.model, self.x)
        dice = float(dice_per_patch(self.y, binarize(prob)).mean())
        if logs is not None:
            logs["holdout_dice"] = dice
        if dice > self.best_dice:
            self.best_dice, self.best_epoch = dice, epoch + 1
            self.best_weights = self.model.get_weights()


def _make_deterministic(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    if config.schedule == "constant":
        rate = config.learning_rate
    elif config.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=config.epochs * steps_per_epoch
        )
    else:
        raise ValueError(
            f"got schedule {config.schedule!r}, expected one of {', '.join(SCHEDULES)}"
        )
    return keras.optimizers.Adam(rate)


def _versions() -> Versions:
    return Versions(
        edge_seg=__version__,
        tensorflow=tf.__version__,
        keras=keras.__version__,
        numpy=np.__version__,
        python=platform.python_version(),
    )


@dataclass(frozen=True)
class HoldoutScores:
    """Holdout Dice at 0.5 and at the tuned threshold; empty (threshold 0.5) without a holdout."""

    threshold: float = DEFAULT_THRESHOLD
    dice_at_0_5: float | None = None
    dice_at_threshold: float | None = None
    per_patch: tuple[float, ...] | None = None


def _score_holdout(model: keras.Model, x: np.ndarray, y: np.ndarray) -> HoldoutScores:
    prob = predict_probabilities(model, x)
    threshold, at_threshold = tune_threshold(y, prob)
    per_patch = dice_per_patch(y, binarize(prob, threshold))
    return HoldoutScores(
        threshold=threshold,
        dice_at_0_5=float(dice_per_patch(y, binarize(prob)).mean()),
        dice_at_threshold=at_threshold,
        per_patch=tuple(round(d, 6) for d in per_patch.tolist()),
    )


def train(config: TrainConfig) -> TrainingRecord:
    """Train, select the best epoch by holdout Dice, tune the threshold and write the run directory.

    With ``holdout == 0`` every patch is used for training, the last epoch is kept and the
    threshold stays at 0.5.
    """
    started = time.perf_counter()
    _make_deterministic(config.seed)
    data = load_dataset(config.data)
    try:
        split = holdout_split(len(data.x_train), config.holdout)
    except ValueError as exc:
        raise InputError(f"{config.data}: {exc}") from None
    x = preprocess_patches(data.x_train)
    y = data.y_train[..., np.newaxis].astype(np.float32)
    loss, teacher_sha256, targets = get_loss(config.loss), None, y
    if config.teacher:
        teacher, teacher_sha256 = load_teacher(config.teacher)
        targets = np.concatenate([y, teacher_probabilities(teacher, x)], axis=-1)
        loss = distillation_loss(loss, config.teacher_weight)
    batches = AugmentedBatches(
        x[split.train],
        targets[split.train],
        config.batch_size,
        config.seed,
        config.augment,
        config.jitter,
    )
    model = build_model(config.arch, width=config.width)
    model.compile(optimizer=_optimizer(config, len(batches)), loss=loss)
    callbacks = [HoldoutDice(x[split.holdout], y[split.holdout])] if len(split.holdout) else []
    history = model.fit(batches, epochs=config.epochs, callbacks=callbacks, verbose=2)

    best_epoch, scores = config.epochs, HoldoutScores()
    if callbacks:
        model.set_weights(callbacks[0].best_weights)
        best_epoch = callbacks[0].best_epoch
        scores = _score_holdout(model, x[split.holdout], y[split.holdout])

    result = TrainingRecord(
        arch=config.arch,
        width=config.width if config.arch in WIDTH_ARCHITECTURES else None,
        loss=config.loss,
        holdout=config.holdout,
        params=model.count_params(),
        macs_per_patch=multiply_accumulates(model),
        epochs=config.epochs,
        best_epoch=best_epoch,
        seed=config.seed,
        threshold=scores.threshold,
        holdout_patches=len(split.holdout),
        train_patches=len(split.train),
        holdout_dice_at_0_5=scores.dice_at_0_5,
        holdout_dice_at_threshold=scores.dice_at_threshold,
        holdout_dice_per_patch=scores.per_patch,
        data_sha256=data.sha256,
        teacher_sha256=teacher_sha256,
        train_seconds=round(time.perf_counter() - started, 1),
        versions=_versions(),
    )
    _write_run(Path(config.out), model, config, result, history.history)
    return result


def _write_json(path: Path, document: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, indent=2) + "\n")


def _write_run(
    out: Path, model: keras.Model, config: TrainConfig, result: TrainingRecord, history
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    inference = build_model(config.arch, width=config.width)  # no optimizer state: a third the size
    inference.set_weights(model.get_weights())
    with atomic_path(out / "model.keras") as tmp:
        inference.save(tmp)
    with atomic_path(out / "history.png") as tmp:
        plot_history(history, result.best_epoch, tmp)
    _write_json(out / "config.json", asdict(config))
    with atomic_path(out / RECORD_FILE) as tmp:
        result.write(tmp)
