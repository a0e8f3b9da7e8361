"""Convert, describe, gate and write a model, atomically: a failing gate leaves no output."""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from converters.check import load_gate_data, load_gate_models, run_gate
from converters.gate import GateFailure
from converters.metadata_writer import build_card, embed_card, run_record
from converters.model_identity import check_same_model
from converters.run_holdout import RunHoldout, refuse_another_holdout, scored_by_the_run
from converters.signing import warn_if_signed_before
from converters.tflite_export import export_tflite
from edge_runtime.atomic import atomic_path
from edge_runtime.contract.gate_report import GateReport, Gates
from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.preprocessing import PREPROCESSING_NAME, preprocess_patches
from edge_runtime.contract.training_record import RECORD_FILE, TrainingRecord
from edge_runtime.data.patches import TRAIN_IMAGES, TRAIN_LABELS, load_patches
from edge_runtime.errors import ModelError
from edge_runtime.inference.interpreter import make_interpreter
from edge_runtime.inference.model_file import read_card, read_model_bytes
from training.model_io import load_keras_model
from training.models import pixel_shuffled
from training.sources import unlabelled_source


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``edge-seg convert`` decides (see its --help)."""

    keras_path: Path
    output: Path
    calibration: Path
    images_key: str = TRAIN_IMAGES
    calibration_size: int | None = None
    quantization: str = "int8"
    io: str = "int8"
    threshold: float | None = None
    model_version: str = "unversioned"
    check_data: tuple[Path, ...] = ()
    check_images: str = TRAIN_IMAGES
    check_labels: str = TRAIN_LABELS
    check_holdout: float | None = None
    gates: Gates = field(default_factory=Gates)


@dataclass(frozen=True)
class ConvertResult:
    """What ``convert_model`` wrote: its size and format, and the gate's report.

    The report is ``None`` without a gate.
    """

    size_bytes: int
    quantization: str
    gate: GateReport | None


CALIBRATION_CROPS = 512
CALIBRATION_SEED = 2211
"""Crops drawn (with this seed) from a folder of photographs to calibrate with, unless a size
is given."""


def calibration_patches(options: ConvertOptions, record: TrainingRecord | None) -> np.ndarray:
    """Preprocessed patches (N, P, P, 1) to calibrate int8 ranges on.

    They are an .npz file's patches in file order, or random crops of a folder's photographs
    (:func:`~training.sources.unlabelled_source`: their labels and masks are not read)
    through the device's pipeline, in the grayscale channel the model was trained on (its run's
    ``record``), drawn with a fixed seed.
    """
    if not options.calibration.is_dir():
        calibration = preprocess_patches(load_patches(options.calibration, options.images_key))
        return calibration[: options.calibration_size] if options.calibration_size else calibration
    with unlabelled_source(options.calibration, record.channel if record else "luma") as source:
        rng = np.random.default_rng(CALIBRATION_SEED)
        return source.crops(rng, options.calibration_size or CALIBRATION_CROPS)[0]


def convert_model(options: ConvertOptions) -> ConvertResult:
    """Convert ``options.keras_path`` and write ``options.output`` only if the gate passes.

    The model is converted in its device form (:func:`training.models.pixel_shuffled`).

    Raises:
        GateFailure: the gate failed (nothing was written).
        InputError: the run record beside the model is not its run's, the gate's data
            cannot be used, or its holdout is not what the run held out (found before
            converting).
    """
    model = load_keras_model(options.keras_path, PREPROCESSING_NAME)
    parameters = model.count_params()
    record = run_record(options.keras_path, model)
    gate_data = None  # read before converting: data it cannot gate on would waste the conversion
    if options.check_data:
        gate_data = load_gate_data(
            options.check_data, options.check_images, options.check_labels, options.check_holdout
        )
        path = options.keras_path.parent / RECORD_FILE
        run = RunHoldout.of_record(path, record) if record else None
        refuse_another_holdout(gate_data, run, "--check-holdout", options.keras_path)
        gate_data = scored_by_the_run(gate_data, run)
    calibration = calibration_patches(options, record)
    device = pixel_shuffled(model)  # the same map, faster on a CPU
    content = export_tflite(device, calibration, options.quantization, options.io)
    card = build_card(
        record,
        make_interpreter(content, name=str(options.keras_path)),
        options.quantization,
        options.threshold,
        options.model_version,
        parameters,
    )
    content = embed_card(content, card)
    report = None
    with atomic_path(options.output) as tmp:
        tmp.write_bytes(content)
        if gate_data is not None:
            models = load_gate_models(tmp, options.keras_path, unsigned=options.output)
            report = run_gate(models, gate_data, options.gates)
            if not report.passed:
                raise GateFailure(report)  # leaves the with block: the output is not written
            content = embed_card(content, dataclasses.replace(card, gate=report.summary()))
            tmp.write_bytes(content)
    warn_if_signed_before(options.output, "it was converted again")
    return ConvertResult(len(content), options.quantization, report)


@dataclass(frozen=True)
class CardCopy:
    """What :func:`copy_card` did to its target.

    ``compiled``: an Edge TPU build, whose weights could not be compared with the source's;
    ``written``: false when it already carried the card.
    """

    compiled: bool
    written: bool


def copy_card(source: Path, target: Path) -> CardCopy:
    """Embed the model card of ``source`` into ``target`` in place (atomically).

    For instance after ``edgetpu_compiler`` dropped it. A target that already carries the card
    is left as it is, its bytes (and a signature of them) whole. Returns what it did
    (:class:`CardCopy`).

    Raises:
        ModelError: either file is not a whole model, ``source`` has no valid card, or
            ``target`` is not ``source``'s model (:func:`check_same_model`).
    """
    content = read_model_bytes(source)
    try:
        card = read_card(content)
    except ValueError as exc:
        raise ModelError(f"{source}: {exc}") from None
    if card is None:
        raise ModelError(f"{source}: has no edge-seg metadata to copy")
    built = read_model_bytes(target)
    compiled = check_same_model(content, source, built, target)
    if _carries(built, card):
        return CardCopy(compiled, written=False)
    content = embed_card(built, card)
    with atomic_path(target) as tmp:
        tmp.write_bytes(content)
    warn_if_signed_before(target, "the card was copied in")
    return CardCopy(compiled, written=True)


def _carries(content: bytes, card: ModelCard) -> bool:
    """Whether a model already holds ``card``, but for its digest, which matches its bytes.

    :func:`read_card` checks the digest.
    """
    try:
        held = read_card(content)
    except ValueError:
        return False
    if held is None or held.model_sha256 is None:
        return False
    return dataclasses.replace(held, model_sha256=None) == dataclasses.replace(
        card, model_sha256=None
    )
