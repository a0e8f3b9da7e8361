"""Load trained Keras models and prepare them for export (static batch 1, builtin ops only)."""

from pathlib import Path

import keras
import numpy as np

import training.losses  # noqa: F401  (registers the custom losses saved with a model)
from edge_runtime.errors import InputError

BUILTIN_INTERPOLATIONS = ("nearest", "bilinear")
"""Resizing interpolations that lower to builtin LiteRT ops (RESIZE_NEAREST_NEIGHBOR/BILINEAR)."""


def load_keras_model(path: str | Path) -> keras.Model:
    """Load a ``.keras`` file for inference; one-line :class:`InputError` when it cannot be."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such Keras model file")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a bad file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot be loaded as a Keras model ({first_line})") from None


def flex_layers(model: keras.Model) -> list[str]:
    """Descriptions of the layers that need TensorFlow (Flex) ops in LiteRT, in model order."""
    found = []
    for layer in model.layers:
        interpolation = getattr(layer, "interpolation", None)
        if interpolation is not None and interpolation not in BUILTIN_INTERPOLATIONS:
            found.append(
                f"layer '{layer.name}' ({type(layer).__name__}, interpolation={interpolation!r})"
            )
    return found


def with_batch_one(model: keras.Model) -> keras.Model:
    """A copy of a functional model whose input has a static batch of 1 (as the Edge TPU needs)."""
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [1, *layer["config"]["batch_shape"][1:]]
    exported = keras.Model.from_config(config)
    exported.set_weights(model.get_weights())
    return exported


def keras_probabilities(model: keras.Model, patches: np.ndarray) -> np.ndarray:
    """Vessel probabilities (N, H, W) float32 of preprocessed patches (N, H, W, 1)."""
    return model.predict(patches, batch_size=64, verbose=0)[..., 0].astype(np.float32)
