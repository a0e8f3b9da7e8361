"""Train a model on labelled patches and photographs and write a run directory.

A run directory holds ``model.keras`` (the checkpoint with the best holdout score),
``metrics.json``, ``config.json`` and ``history.png``. The holdout score is the mean
whole-photograph F1 of the holdout photographs, segmented through the device's own pipeline,
when the data has photographs; else the mean per-patch Dice of the holdout patches. Training is
seeded and deterministic on the CPU: the same configuration, data and machine give the same
weights.
"""

import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from edge_runtime import __version__
from edge_runtime.atomic import files_together, folders_removed_on_failure
from edge_runtime.contract.bound_settings import bind
from edge_runtime.contract.metrics import (
    DEFAULT_THRESHOLD,
    best_mean_threshold,
    binarize,
    dice_per_patch,
    f1_by_threshold,
    photo_scores,
    tune_threshold,
)
from edge_runtime.contract.model_card import ModelFile, TrainingStart
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.contract.training_record import (
    RECORD_FILE,
    PhotoRecord,
    TrainingRecord,
    Versions,
)
from edge_runtime.data.patches import file_sha256
from edge_runtime.data.photos import LabelledPhoto, load_labelled
from edge_runtime.errors import InputError
from edge_runtime.native_logs import VERBOSE_ENV
from edge_runtime.pipeline.segmenter import Segmenter
from training.augment import augment_batch
from training.config import RUN_FILES, SCHEDULES, TrainConfig
from training.distill import load_teacher, teacher_probabilities
from training.losses import distillation_loss, get_loss
from training.model_io import (
    KerasPatches,
    load_keras_model,
    model_file,
    predict_probabilities,
)
from training.models import ARCHITECTURES, build_model, multiply_accumulates
from training.plots import plot_history
from training.sources import (
    PatchSource,
    PhotoSource,
    load_patch_source,
    load_photo_source,
    parse_data_argument,
    refuse_a_channel_for_patches,
    sources_sha256,
)

if os.environ.get(VERBOSE_ENV) != "1":  # TensorFlow's own Python warnings (retracing, ...)
    tf.get_logger().setLevel("ERROR")


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, optionally augmented batches of one patch file, reproducible.

    Each batch's randomness depends only on (seed, epoch, batch index).
    """

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
        return augment_batch(x, y, rng, self.augment, self.jitter)

    def on_epoch_end(self) -> None:
        """Count the epoch and shuffle the patches for the next."""
        self.epoch += 1
        self._order = self._shuffle()


class CropBatches(keras.utils.PyDataset):
    """``crops`` samples per epoch drawn from the sources in proportion to their weights.

    They are random crops of photographs and random patches of patch files, optionally
    augmented; each batch's randomness depends only on (seed, epoch, batch index).
    """

    def __init__(self, sources: list, config: TrainConfig):
        super().__init__()
        self.sources, self.config = sources, config
        weights = np.array([source.weight for source in sources], dtype=np.float64)
        weights /= weights.max()  # before the sum: weights near the float range would overflow it
        self.shares = weights / weights.sum()
        self.epoch = 0

    def __len__(self) -> int:
        return -(-self.config.crops // self.config.batch_size)

    def __getitem__(self, index: int):
        config = self.config
        size = min(config.batch_size, config.crops - index * config.batch_size)
        rng = np.random.default_rng([config.seed, self.epoch, index])
        counts = rng.multinomial(size, self.shares)
        parts = [s.crops(rng, n) for s, n in zip(self.sources, counts, strict=True) if n]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        return augment_batch(x, y, rng, config.augment, config.jitter)

    def on_epoch_end(self) -> None:
        """Count the epoch, on which the next batches' randomness depends."""
        self.epoch += 1


class EpochLines(keras.callbacks.Callback):
    """One line per epoch on standard error, on a terminal only (progress, not results)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Start the epoch's clock."""
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        """Print the epoch's line, on a terminal."""
        if not sys.stderr.isatty():
            return
        shown = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
        seconds = time.perf_counter() - self._started
        print(
            f"epoch {epoch + 1}/{self.params['epochs']}: {shown} ({seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )


class Holdout(keras.callbacks.Callback):
    """Score the holdout at 0.5 after each epoch, log it, and keep the best epoch's weights.

    The holdout is whole photographs if there are any, else patches.
    """

    def __init__(self, holdout: "HoldoutData"):
        super().__init__()
        self.holdout = holdout
        self.best_score, self.best_epoch, self.best_weights = -1.0, 0, None

    def on_epoch_end(self, epoch, logs=None):
        """Score the epoch, log the score, and keep its weights if it is the best yet."""
        score = self.holdout.score(self.model)
        if logs is not None:
            logs[self.holdout.metric] = score
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch + 1
            self.best_weights = self.model.get_weights()


@dataclass
class HoldoutData:
    """What a run holds out: patches of patch files, photographs of folders."""

    x: np.ndarray
    y: np.ndarray
    photos: list[LabelledPhoto]
    folders: list[str]
    """The name of the folder each of ``photos`` is of (its
    :attr:`~edge_runtime.data.photos.PhotoDataset.name`)."""
    segmenter: Segmenter
    unscored: tuple[PhotoRecord, ...]
    """The held-out photographs that cannot be scored, recorded without metrics."""

    @property
    def metric(self) -> str:
        """The name of the holdout's score in the training logs."""
        return "holdout_f1" if self.photos else "holdout_dice"

    def __bool__(self) -> bool:
        return bool(self.photos) or len(self.x) > 0

    def photo_probabilities(self) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
        """(name, probability, label, field of view) of each holdout photograph, one at a time.

        Each is read and segmented by the model under training through the device's pipeline.
        """
        for photo in self.photos:
            loaded = load_labelled(photo)
            result = self.segmenter.segment(loaded.photo)
            fov = result.fov if loaded.fov is None else loaded.fov
            yield loaded.name, result.probability, loaded.label, fov

    def score(self, model: keras.Model) -> float:
        """``model``'s score at 0.5: mean whole-photograph F1, else mean per-patch Dice."""
        if self.photos:
            found = self.photo_probabilities()
            f1 = [photo_scores(p, label, fov, DEFAULT_THRESHOLD).f1 for _, p, label, fov in found]
            return float(np.mean(f1))
        return float(dice_per_patch(self.y, binarize(predict_probabilities(model, self.x))).mean())


def make_deterministic(seed: int) -> None:
    """Seed every generator and make TensorFlow's ops deterministic (same machine, same model)."""
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


def software_versions() -> Versions:
    """The software that makes a run."""
    return Versions(
        edge_seg=__version__,
        tensorflow=tf.__version__,
        keras=keras.__version__,
        numpy=np.__version__,
        python=platform.python_version(),
    )


@dataclass(frozen=True)
class HoldoutScores:
    """Holdout scores at 0.5 and at the tuned threshold; empty (threshold 0.5) without a holdout.

    Photographs, when there are any, choose the threshold (best mean F1).
    """

    threshold: float = DEFAULT_THRESHOLD
    dice_at_0_5: float | None = None
    dice_at_threshold: float | None = None
    per_patch: tuple[float, ...] | None = None
    photos: tuple[PhotoRecord, ...] | None = None


def _score_holdout(model: keras.Model, holdout: HoldoutData) -> HoldoutScores:
    scores = {}
    if len(holdout.x):
        prob = predict_probabilities(model, holdout.x)
        threshold, at_threshold = tune_threshold(holdout.y, prob)
        scores = {
            "threshold": threshold,
            "dice_at_0_5": float(dice_per_patch(holdout.y, binarize(prob)).mean()),
            "dice_at_threshold": at_threshold,
        }
    if holdout.photos:  # two passes, so that one photograph's probabilities are held at a time
        found = holdout.photo_probabilities()
        threshold = best_mean_threshold([f1_by_threshold(p, lab, fov) for _, p, lab, fov in found])
        scores["threshold"] = threshold
        found = zip(holdout.folders, holdout.photo_probabilities(), strict=True)
        scores["photos"] = (
            *(
                PhotoRecord(name, **asdict(photo_scores(p, label, fov, threshold)), folder=folder)
                for folder, (name, p, label, fov) in found
            ),
            *holdout.unscored,
        )
    if len(holdout.x):  # per patch, at the threshold in effect
        per_patch = dice_per_patch(holdout.y, binarize(prob, scores["threshold"]))
        scores["per_patch"] = tuple(round(d, 6) for d in per_patch.tolist())
        scores["dice_at_threshold"] = float(per_patch.mean())
    return HoldoutScores(**scores)


def _sources(config: TrainConfig, stack: ExitStack) -> list[PatchSource | PhotoSource]:
    """The training data, each folder's photograph cache closed with ``stack``."""
    sources = []
    for argument in config.data:
        path, weight = parse_data_argument(argument)
        if path.is_dir():
            source = load_photo_source(path, weight, config.holdout, config.channel)
            sources.append(stack.enter_context(source))
        else:
            sources.append(load_patch_source(path, weight, config.holdout))
    return sources


def _initial_model(config: TrainConfig) -> tuple[keras.Model, ModelFile | None]:
    """A new model of the configured architecture, or one with ``config.init``'s weights.

    With ``config.init``, also that file's name and SHA-256.
    """
    model = build_model(config.arch, width=config.width)
    if config.init is None:
        return model, None
    start = load_keras_model(config.init, PREPROCESSING_NAME)
    try:
        model.set_weights(start.get_weights())
    except ValueError:
        raise InputError(
            f"{config.init}: its weights do not fit --arch {config.arch} --width {config.width}"
        ) from None
    return model, model_file(config.init)


def train(config: TrainConfig) -> TrainingRecord:
    """Train, select the best epoch by holdout Dice, tune the threshold and write the run directory.

    With ``holdout == 0`` every patch is used for training, the last epoch is kept and the
    threshold stays at 0.5.

    Raises:
        InputError: among others, a channel other than luma where an .npz file is trained on
            (:func:`~training.sources.refuse_a_channel_for_patches`), before anything is read.
    """
    refuse_a_channel_for_patches(config)
    started = time.perf_counter()
    make_deterministic(config.seed)
    with ExitStack() as stack:
        return _train(config, _sources(config, stack), started)


def _train(
    config: TrainConfig, sources: list[PatchSource | PhotoSource], started: float
) -> TrainingRecord:
    photo_sources = [s for s in sources if isinstance(s, PhotoSource)]
    patch_sources = [s for s in sources if isinstance(s, PatchSource)]
    loss, teacher = get_loss(config.loss), None
    if len(sources) == 1 and patch_sources:  # one patch file: every patch once per epoch
        source = patch_sources[0]
        targets = source.y
        if config.teacher:  # the teacher sees every patch, as when the release was made
            soft = teacher_probabilities(load_teacher(config.teacher), source.x)
            targets = np.concatenate([targets, soft], axis=-1)
            teacher = model_file(config.teacher)
            loss = distillation_loss(loss, config.teacher_weight)
        batches = AugmentedBatches(
            source.x_train,
            targets[source.split.train],
            config.batch_size,
            config.seed,
            config.augment,
            config.jitter,
        )
    elif config.teacher:
        raise InputError(f"{config.teacher}: distillation takes a single .npz file as data")
    else:
        batches = CropBatches(sources, config)
    model, init = _initial_model(config)  # after the data: the seed's draws as ever
    holdout = HoldoutData(
        np.concatenate([s.x_holdout for s in patch_sources]) if patch_sources else np.zeros(0),
        np.concatenate([s.y_holdout for s in patch_sources]) if patch_sources else np.zeros(0),
        [photo for s in photo_sources for photo in s.holdout],
        [s.dataset.name for s in photo_sources for _ in s.holdout],
        Segmenter(KerasPatches(model), SegmenterConfig(channel=config.channel)),  # as on the device
        tuple(
            PhotoRecord(p.name, folder=s.dataset.name) for s in photo_sources for p in s.unscorable
        ),
    )
    if config.holdout and not holdout:  # one photograph: photo_holdout holds none of it out
        raise InputError(
            f"--holdout {config.holdout} holds nothing out of {', '.join(config.data)}: give "
            "more photographs or patches, or --holdout 0 to train on all without one"
        )
    model.compile(optimizer=_optimizer(config, len(batches)), loss=loss)
    callbacks = [Holdout(holdout)] if holdout else []
    history = model.fit(
        batches, epochs=config.epochs, callbacks=[*callbacks, EpochLines()], verbose=0
    )

    best_epoch, scores = config.epochs, HoldoutScores()
    if callbacks:
        model.set_weights(callbacks[0].best_weights)
        best_epoch = callbacks[0].best_epoch
        scores = _score_holdout(model, holdout)

    result = TrainingRecord(
        arch=config.arch,
        width=config.width if ARCHITECTURES[config.arch].sized else None,
        loss=config.loss,
        holdout=config.holdout,
        params=model.count_params(),
        macs_per_patch=multiply_accumulates(model),
        epochs=config.epochs,
        best_epoch=best_epoch,
        seed=config.seed,
        threshold=scores.threshold,
        holdout_patches=len(holdout.x),
        train_patches=sum(len(s.x_train) for s in patch_sources),
        holdout_dice_at_0_5=scores.dice_at_0_5,
        holdout_dice_at_threshold=scores.dice_at_threshold,
        holdout_dice_per_patch=scores.per_patch,
        data_sha256=sources_sha256(sources),
        train_seconds=round(time.perf_counter() - started, 1),
        versions=software_versions(),
        train_photos=sum(len(s.train) for s in photo_sources),
        holdout_photos=scores.photos,
        holdout_f1=_mean(scores.photos, "f1"),
        holdout_auc=_mean(scores.photos, "auc"),
        channel=config.channel,
        start=TrainingStart(config.recipe, init, teacher),
    )
    _write_run(Path(config.out), model, config, result, history.history)
    return result


def _mean(photos: tuple[PhotoRecord, ...] | None, metric: str) -> float | None:
    values = [getattr(p, metric) for p in photos or () if getattr(p, metric) is not None]
    return float(np.mean(values)) if values else None


def _write_run(
    out: Path, model: keras.Model, config: TrainConfig, result: TrainingRecord, history
) -> None:
    """Write the run's files (:data:`RUN_FILES`), in place together over an earlier run's.

    :func:`~edge_runtime.atomic.files_together`: stopped while they are written, the folder
    keeps the earlier run whole, never a new model beside an old record or half a run.
    """
    inference = build_model(config.arch, width=config.width)  # no optimizer state: a third the size
    inference.set_weights(model.get_weights())
    # the model last: cut short, a record without its model is refused, a model alone is not
    with folders_removed_on_failure(out), files_together(out, RUN_FILES[::-1]) as files:
        out.mkdir(parents=True, exist_ok=True)
        inference.save(files["model.keras"])
        plot_history(history, result.best_epoch, files["history.png"])
        files["config.json"].write_text(json.dumps(config.record(), indent=2) + "\n")
        bind(result, file_sha256(files["model.keras"])).write(files[RECORD_FILE])
