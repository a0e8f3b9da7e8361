"""Run the Dice gate: a LiteRT model, run as on the device, against its Keras source."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converters.gate import Gates, evaluate_gate
from converters.keras_model import keras_probabilities
from edge_runtime.dataset import load_labeled_patches
from edge_runtime.holdout import holdout_indices
from edge_runtime.patch_model import PatchModel
from edge_runtime.preprocessing import preprocess_patches
from training.model_io import load_keras_model


@dataclass(frozen=True)
class GatePatches:
    """Labeled patches for the gate and their indices in the data file."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray


def load_gate_patches(
    data: Path, images_key: str, labels_key: str, holdout: float | None
) -> GatePatches:
    """All labeled patches of a file, or only the contiguous-block holdout that
    ``edge-seg train --holdout FRACTION`` carved from the same arrays."""
    images, labels = load_labeled_patches(data, images_key, labels_key)
    keep = holdout_indices(len(images), holdout)
    return GatePatches(images[keep], labels[keep], keep)


def run_gate(
    tflite_path: Path,
    patches: GatePatches,
    gates: Gates,
    keras_path: Path | None = None,
    threshold: float | None = None,
) -> dict:
    """Score the LiteRT model and, when given, the Keras model on the same preprocessed patches
    with the same threshold (the LiteRT model's own unless ``threshold`` is given)."""
    x = preprocess_patches(patches.images)
    model = PatchModel(tflite_path)
    threshold = model.settings.threshold if threshold is None else threshold
    keras_prob = keras_probabilities(load_keras_model(keras_path), x) if keras_path else None
    report = evaluate_gate(
        patches.labels, model.predict(x), keras_prob, threshold, gates, patches.indices
    )
    report["tflite"]["model"] = str(tflite_path)
    if keras_path:
        report["keras"]["model"] = str(keras_path)
    return report
