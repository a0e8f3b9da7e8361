"""Load saved Keras models (a run's ``model.keras``) for inference, with one-line errors."""

from pathlib import Path

import keras

import training.losses  # noqa: F401  (registers the custom losses saved with a model)
from edge_runtime.errors import InputError


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
