"""Run the gate: a LiteRT model, run as on the device, against its Keras source."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converters.gate import evaluate_gate
from edge_runtime.contract.gate_report import GateData, GateReport, Gates
from edge_runtime.contract.preprocessing import preprocess_patches
from edge_runtime.data.patches import load_labeled_patches, select_holdout
from edge_runtime.inference.patch_model import PatchModel
from training.model_io import load_keras_model, predict_probabilities


@dataclass(frozen=True)
class GatePatches:
    """Labelled patches for the gate, their indices in the data file, and what the file is."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    data: GateData


def load_gate_patches(
    data: Path, images_key: str, labels_key: str, holdout: float | None
) -> GatePatches:
    """All labelled patches of a file, or only the contiguous-block holdout that
    ``edge-seg train --holdout FRACTION`` carved from the same arrays."""
    images, labels = load_labeled_patches(data, images_key, labels_key)
    keep = select_holdout(data, len(images), holdout)
    described = GateData(Path(data).name, images_key, labels_key, holdout)
    return GatePatches(images[keep], labels[keep], keep, described)


def run_gate(
    tflite_path: Path,
    patches: GatePatches,
    gates: Gates,
    keras_path: Path | None = None,
    threshold: float | None = None,
) -> GateReport:
    """Score the LiteRT model and, when given, the Keras model on the same preprocessed patches
    with the same threshold (the LiteRT model's own unless ``threshold`` is given)."""
    x = preprocess_patches(patches.images)
    model = PatchModel(tflite_path, threshold=threshold)
    keras_prob = (
        predict_probabilities(load_keras_model(keras_path), x)[..., 0] if keras_path else None
    )
    return evaluate_gate(
        patches.labels, model.predict(x), keras_prob, model.threshold, gates,
        models=(str(tflite_path), str(keras_path or "")), indices=patches.indices,
        data=patches.data,
    )  # fmt: skip
