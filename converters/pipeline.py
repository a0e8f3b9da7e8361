"""Convert, describe, gate and write a model, atomically: a failing gate leaves no output."""

from dataclasses import dataclass, field
from pathlib import Path

from converters.check import load_gate_patches, run_gate
from converters.gate import GateFailure, Gates
from converters.metadata_writer import build_metadata, embed_metadata
from converters.tflite_export import export_tflite
from edge_runtime.atomic import atomic_path
from edge_runtime.dataset import load_patches
from edge_runtime.errors import InputError
from edge_runtime.interpreter import make_interpreter, read_model_bytes
from edge_runtime.metadata import read_metadata
from edge_runtime.preprocessing import preprocess_patches
from training.model_io import load_keras_model


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``edge-seg convert`` decides (see its --help)."""

    keras_path: Path
    output: Path
    calibration: Path
    images_key: str = "x_train"
    calibration_size: int | None = None
    quantization: str = "int8"
    io: str = "int8"
    threshold: float | None = None
    model_version: str = "unversioned"
    check_data: Path | None = None
    check_images: str = "x_train"
    check_labels: str = "y_train"
    check_holdout: float | None = None
    gates: Gates = field(default_factory=Gates)


@dataclass(frozen=True)
class ConvertResult:
    size_bytes: int
    quantization: str
    gate: dict | None


def _gate_summary(report: dict, options: ConvertOptions) -> dict:
    return {
        "passed": report["passed"],
        "keras_dice_mean": report["keras"]["dice_mean"],
        "tflite_dice_mean": report["tflite"]["dice_mean"],
        "mean_drop": report["mean_drop"],
        "max_image_drop": report["max_image_drop"],
        "pixel_agreement": report["pixel_agreement"],
        "n": report["n"],
        "threshold": report["threshold"],
        "data": {
            "path": Path(options.check_data).name,
            "images": options.check_images,
            "labels": options.check_labels,
            "holdout": options.check_holdout,
        },
        "gates": report["gates"],
    }


def convert_model(options: ConvertOptions) -> ConvertResult:
    """Convert ``options.keras_path`` and write ``options.output`` only if the gate passes."""
    model = load_keras_model(options.keras_path)
    calibration = preprocess_patches(load_patches(options.calibration, options.images_key))
    if options.calibration_size:
        calibration = calibration[: options.calibration_size]
    content = export_tflite(model, calibration, options.quantization, options.io)
    metadata = build_metadata(
        options.keras_path,
        make_interpreter(content),
        options.quantization,
        options.threshold,
        options.model_version,
        model.count_params(),
    )
    content = embed_metadata(content, metadata)
    report = None
    with atomic_path(options.output) as tmp:
        tmp.write_bytes(content)
        if options.check_data is not None:
            patches = load_gate_patches(
                options.check_data,
                options.check_images,
                options.check_labels,
                options.check_holdout,
            )
            report = run_gate(tmp, patches, options.gates, keras_path=options.keras_path)
            if not report["passed"]:
                raise GateFailure(report)  # leaves the with block: the output is not written
            content = embed_metadata(content, {**metadata, "gate": _gate_summary(report, options)})
            tmp.write_bytes(content)
    return ConvertResult(len(content), options.quantization, report)


def copy_metadata(source: Path, target: Path) -> None:
    """Embed the metadata of ``source`` into ``target`` in place (atomically)."""
    document = read_metadata(read_model_bytes(source))
    if document is None:
        raise InputError(f"{source}: has no edge-seg metadata to copy")
    content = embed_metadata(read_model_bytes(target), document)
    with atomic_path(target) as tmp:
        tmp.write_bytes(content)
