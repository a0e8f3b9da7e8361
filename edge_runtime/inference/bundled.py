"""The model bundled with the package, used wherever no model is named."""

from pathlib import Path

from edge_runtime.errors import ModelError

DEFAULT_MODEL = Path(__file__).parents[1] / "models" / "vessels_int8.tflite"
"""The int8 model bundled with the package (``edge_runtime/models/``)."""


def resolve_model(model: str | Path | None) -> Path:
    """The named model, or the bundled default when ``model`` is ``None``."""
    if model is not None:
        return Path(model)
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"{DEFAULT_MODEL}: the bundled default model is missing; pass --model")
    return DEFAULT_MODEL
