"""The model card: the JSON document a converted model carries, defined once for the converter
that writes it, the runtime that runs by it and ``info`` that shows it.

It is stored in the .tflite flatbuffer's ``metadata`` list under :data:`METADATA_NAME`. Every field
is typed and bounded (:mod:`edge_runtime.contract.schema`): a card that is damaged or hostile is
refused with one sentence, never trusted. A model without a card runs with the defaults below
(the reference notebook's settings).
"""

import json
from dataclasses import dataclass, field

from edge_runtime.contract.gate_report import ArteryVeinGateReport, GateReport
from edge_runtime.contract.metrics import DEFAULT_THRESHOLD, THRESHOLD_RANGE
from edge_runtime.contract.preprocessing import CHANNELS, PATCH_SIZE, PREPROCESSING_NAME
from edge_runtime.contract.schema import bounded, choice, decode, encode, sha256_digest

METADATA_NAME = "edge_seg_metadata"
"""Name of the flatbuffer metadata entry that holds the card."""

FORMAT_VERSION = 2
"""2: the gate is a :class:`GateReport` summary. 1 (read, never written): a flat gate summary."""

FOV_DIAMETER = 540.0
"""Field-of-view diameter (pixels) of the training photographs. The reference patches are tiles
of DRIVE-sized photographs (565x584, a disc about 540 pixels across): rows of the patch set span
5-8 whole tiles of 64 pixels."""

FOV_DIAMETER_RANGE = (64.0, 4096.0)
"""Working field-of-view diameters a card may ask for: the working photograph's memory grows
with its square."""

PATCH_SIZE_RANGE = (16, 1024)
"""Model input sides a card may declare."""

QUANTIZATIONS = ("int8", "float")


@dataclass(frozen=True)
class Preprocessing:
    """How a tile becomes model input (see :mod:`edge_runtime.contract.preprocessing`)."""

    name: str = PREPROCESSING_NAME
    output_range: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class TensorCoding:
    """dtype and quantization of a model's input or output tensor."""

    dtype: str
    scale: float = bounded(0.0, 0, 1e6)
    zero_point: int = bounded(0, -(2**31), 2**31 - 1)


MAX_RECORDED_EPOCHS = 10**7
"""Most epochs a card (and the training record it is made from) may record."""


@dataclass(frozen=True)
class ModelFile:
    """A model file as a record names it: its file name (no folder: the paths of the machine
    that trained do not travel; bytes that are not UTF-8 as messages show them,
    :func:`~edge_runtime.file_names.utf8_text`) and the SHA-256 of its bytes, as ``sha256sum``
    prints it. ``name`` is ``None`` for a teacher known by its SHA-256 alone, as records older
    than :attr:`TrainingStart.teacher` gave it (``teacher_sha256``)."""

    name: str | None
    sha256: str = sha256_digest()


@dataclass(frozen=True)
class TrainingStart:
    """What a training run started from: the named recipe its settings came from (``edge-seg
    train --recipe``), the model whose weights it took (``--init``) and the model it was
    distilled from (``--teacher``); ``None`` each for none (the command line's settings, random
    weights, no distillation)."""

    recipe: str | None = None
    init: ModelFile | None = None
    teacher: ModelFile | None = None


@dataclass(frozen=True)
class TrainingSummary:
    """The training settings that made the model.

    ``start`` and ``best_epoch`` are ``None`` on cards converted before 1.2.0-dev recorded them
    (``start`` is then not known, where on a newer card it says no recipe and random weights).
    """

    loss: str | None = None
    epochs: int | None = bounded(None, 0, MAX_RECORDED_EPOCHS)
    seed: int | None = None
    holdout: float | None = bounded(None, 0, 1)
    start: TrainingStart | None = None
    best_epoch: int | None = bounded(None, 1, MAX_RECORDED_EPOCHS)
    """The epoch whose weights were kept for their best held-out score; ``None`` where nothing
    was held out (``holdout`` 0: the last epoch was kept)."""


@dataclass(frozen=True)
class ModelCard:
    """What a converted model is, and the settings the runtime takes from it."""

    format_version: int = bounded(FORMAT_VERSION, 1, FORMAT_VERSION)
    model_version: str = "unversioned"
    architecture: str = "unknown"
    width: int | None = bounded(None, 1, 4096)
    parameters: int | None = bounded(None, 0, 10**10)
    macs_per_patch: int | None = bounded(None, 0, 10**13)
    patch_size: int = bounded(PATCH_SIZE, *PATCH_SIZE_RANGE)
    fov_diameter: float = bounded(FOV_DIAMETER, *FOV_DIAMETER_RANGE)
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    threshold: float = bounded(DEFAULT_THRESHOLD, *THRESHOLD_RANGE)
    channel: str = choice("luma", CHANNELS)
    quantization: str = choice("int8", QUANTIZATIONS)
    input: TensorCoding | None = None
    output: TensorCoding | None = None
    training_data_sha256: str | None = None
    training: TrainingSummary | None = None
    gate: GateReport | None = None
    artery_vein_gate: ArteryVeinGateReport | None = None
    """An artery/vein model's gate (its ``gate`` is a vessel model's)."""
    created: str | None = None
    package_version: str | None = None
    model_sha256: str | None = None
    """:func:`~edge_runtime.inference.model_file.model_digest` of the model: checked on every
    load, so a damaged file is refused before an interpreter reads it."""

    def to_json(self) -> str:
        """The card as the JSON text a model embeds (keys sorted)."""
        return json.dumps(encode(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "ModelCard":
        """Parse and check an embedded card.

        Raises:
            ValueError: not JSON, or a field is missing, mistyped, non-finite or out of bounds
                (the message names the field).
        """
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ValueError(f"embedded {METADATA_NAME} is not valid JSON ({exc})") from None
        if isinstance(document, dict) and document.get("format_version") == 1:
            document = _from_format_1(document)
        try:
            return decode(cls, document)
        except ValueError as exc:
            raise ValueError(f"embedded {METADATA_NAME}: {exc}") from None


def _from_format_1(document: dict) -> dict:
    """A format-1 card (release candidates up to 1.0.0-rc2) in today's terms: its gate was a flat
    summary (``keras_dice_mean``, ``tflite_dice_mean``, ...)."""
    gate = document.get("gate")
    if not (isinstance(gate, dict) and "tflite_dice_mean" in gate):
        return document
    kept = ("passed", "threshold", "n", "data", "mean_drop", "max_image_drop", "pixel_agreement")
    summary = {key: gate[key] for key in kept if key in gate}
    summary["tflite"] = {"model": "", "dice_mean": gate["tflite_dice_mean"]}
    if "keras_dice_mean" in gate:
        summary["keras"] = {"model": "", "dice_mean": gate["keras_dice_mean"]}
    if isinstance(gate.get("gates"), dict):  # format 1 had no fidelity limits
        summary["gates"] = {"min_pixel_agreement": None, "max_mean_gain": None, **gate["gates"]}
    return {**document, "gate": summary}
