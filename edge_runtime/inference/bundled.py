"""The model bundled with the package, used wherever no model is named."""

from pathlib import Path

from edge_runtime.errors import ModelError

DEFAULT_MODEL = Path(__file__).parents[1] / "models" / "vessels_int8.tflite"
"""The int8 model bundled with the package (``edge_runtime/models/``)."""


ARTERY_VEIN_MODEL = DEFAULT_MODEL.with_name("artery_vein_int8.tflite")
"""The int8 artery/vein model bundled with the package, chained after the vessel model."""


def resolve_model(model: str | Path | None) -> Path:
    """The named model, or the bundled default when ``model`` is ``None``.

    Raises:
        ModelError: ``model`` is a blank path (never taken for the default), or the bundled
            model is missing.
    """
    if model is not None:
        if not str(model).strip():
            raise ModelError(f"got model path {str(model)!r}, expected a .tflite file")
        return Path(model)
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"{DEFAULT_MODEL}: the bundled default model is missing; pass --model")
    return DEFAULT_MODEL
