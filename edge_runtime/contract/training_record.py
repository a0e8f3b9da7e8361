"""The training record (a run's ``metrics.json``): what a training run made and measured,
written by ``train`` and read by ``convert`` (threshold, architecture, data fingerprint)."""

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from edge_runtime.contract.metrics import THRESHOLD_RANGE
from edge_runtime.contract.model_card import MAX_RECORDED_EPOCHS, ModelFile, TrainingStart
from edge_runtime.contract.preprocessing import CHANNELS
from edge_runtime.contract.schema import bounded, choice, encode, read_record, sha256_digest

RECORD_FILE = "metrics.json"
"""Name of the record in a run directory, beside ``model.keras``."""


@dataclass(frozen=True)
class Versions:
    """Software that made the run."""

    edge_seg: str
    tensorflow: str
    keras: str
    numpy: str
    python: str


@dataclass(frozen=True)
class PhotoRecord:
    """One holdout photograph's whole-photograph metrics (see
    :class:`~edge_runtime.contract.metrics.PhotoScores`); every one ``None`` for a photograph
    held out that the run could not score (no vessel of its label inside its field of view, or
    unreadable: :func:`~training.sources.unscorable`), which older records left out."""

    name: str
    f1: float | None = bounded(None, 0, 1)
    sensitivity: float | None = bounded(None, 0, 1)
    specificity: float | None = bounded(None, 0, 1)
    accuracy: float | None = bounded(None, 0, 1)
    auc: float | None = bounded(None, 0, 1)
    folder: str | None = None
    """The name of the folder it was held out of (a DATA folder of ``train``, named as the
    gate's report names it); ``None`` in records older than 1.2.0-dev, which name the
    photograph alone."""

    @property
    def scored(self) -> bool:
        """Whether the run scored it (a scored photograph's F1 is defined: its label has a
        vessel inside the field of view)."""
        return self.f1 is not None


@dataclass(frozen=True)
class TrainingRecord:
    """What a run made and measured. Holdout figures are ``None`` when it had no holdout.

    A run on photographs records each holdout photograph, with its metrics at the tuned
    threshold where it could score it (``holdout_photos``), and their mean F1 and AUC;
    ``train_photos`` counts the photographs its crops came from.
    """

    arch: str
    params: int = bounded(low=0)
    macs_per_patch: int = bounded(low=0)
    epochs: int = bounded(low=0, high=MAX_RECORDED_EPOCHS)
    best_epoch: int = bounded(low=1, high=MAX_RECORDED_EPOCHS)
    """The epoch whose weights were kept: the best held out, else the last (bounded as the card
    that takes them bounds them: one it refused would make a model no device loads)."""
    seed: int = bounded()
    threshold: float = bounded(low=THRESHOLD_RANGE[0], high=THRESHOLD_RANGE[1])
    holdout_patches: int = bounded(low=0)
    train_patches: int = bounded(low=0)
    holdout_dice_at_0_5: float | None = bounded(None, 0, 1)
    holdout_dice_at_threshold: float | None = bounded(None, 0, 1)
    holdout_dice_per_patch: tuple[float, ...] | None = bounded(None, 0, 1)
    data_sha256: str = ""
    teacher_sha256: str | None = sha256_digest(None)
    """SHA-256 of the ``--teacher`` model, as records older than ``start.teacher`` gave it (read:
    :attr:`started_from`); runs now name the teacher in ``start`` and write ``None`` here."""
    train_seconds: float = bounded(0.0, 0)
    versions: Versions | None = None
    width: int | None = bounded(None, 1, 4096)
    loss: str | None = None
    holdout: float | None = bounded(None, 0, 1)
    train_photos: int = bounded(0, 0)
    holdout_photos: tuple[PhotoRecord, ...] | None = None
    holdout_f1: float | None = bounded(None, 0, 1)
    holdout_auc: float | None = bounded(None, 0, 1)
    channel: str = choice("luma", CHANNELS)
    start: TrainingStart | None = None
    """What the run started from (``None`` in records older than 1.2.0-dev: not recorded; they
    gave the SHA-256 of a model started from alone, as ``init_sha256``, which is not read)."""
    model_sha256: str | None = None
    """SHA-256 of the run's ``model.keras`` (``None`` in records older than 1.2.0-dev)."""
    settings_sha256: dict[str, str] | None = None
    """Each of :attr:`BOUND_SETTINGS` bound to ``model_sha256``
    (:mod:`~edge_runtime.contract.bound_settings`; ``None`` in records older than 1.2.0-dev)."""

    BOUND_SETTINGS: ClassVar[tuple[str, ...]] = (
        "threshold",
        "channel",
        "holdout",
        "holdout_patches",
        "holdout_photos",
        "start",
    )
    """The settings the card and the gate take from the record, bound to the model file, in the
    order they came to be bound (a setting bound later goes last: records of 1.2.0-dev before
    the holdout and start were bound hold digests of the first two alone)."""

    @property
    def started_from(self) -> TrainingStart | None:
        """``start`` as a card records it: in a record older than ``start.teacher`` that gave
        its teacher's SHA-256 alone (``teacher_sha256``), that teacher, unnamed (``None`` still
        where ``start`` itself is not recorded)."""
        start = self.start
        if start is None or start.teacher or self.teacher_sha256 is None:
            return start
        return replace(start, teacher=ModelFile(None, self.teacher_sha256))

    @property
    def held_out_best_epoch(self) -> int | None:
        """The epoch kept for its best held-out score (``best_epoch``); ``None`` for a run that
        held nothing out, which kept its last."""
        held_out = self.holdout_patches > 0 or bool(self.holdout_photos)
        return self.best_epoch if held_out else None

    def write(self, path: Path) -> None:
        """Write as indented JSON (the caller makes it atomic)."""
        path.write_text(json.dumps(encode(self), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> "TrainingRecord":
        """Read and check a record.

        Raises:
            ValueError: as :func:`~edge_runtime.contract.schema.read_record` says (the message
                names the file and the field).
        """
        return read_record(cls, path, "a training record")
