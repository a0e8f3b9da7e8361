"""What a model file is: metadata, tensors, operators and Edge TPU readiness (for ``info``)."""

from collections import Counter
from pathlib import Path

import numpy as np

from edge_runtime.edgetpu import audit_edgetpu
from edge_runtime.errors import InputError
from edge_runtime.interpreter import backend_name, make_interpreter, read_model_bytes
from edge_runtime.metadata import model_settings, read_metadata
from edge_runtime.quantization import tensor_quantization

DEFAULT_MODEL = Path(__file__).parent / "models" / "vessels_int8.tflite"
"""The int8 model bundled with the package, used when no model is named."""


def resolve_model(model: str | Path | None) -> Path:
    """The named model, or the bundled default when ``model`` is ``None``."""
    if model is not None:
        return Path(model)
    if not DEFAULT_MODEL.is_file():
        raise InputError(f"{DEFAULT_MODEL}: the bundled default model is missing; pass --model")
    return DEFAULT_MODEL


def _tensor(detail: dict) -> dict:
    scale, zero_point = tensor_quantization(detail)
    return {
        "name": detail["name"],
        "shape": [int(d) for d in detail["shape_signature"]],
        "dtype": np.dtype(detail["dtype"]).name,
        "scale": scale,
        "zero_point": zero_point,
    }


def describe_model(model: str | Path | None = None) -> dict:
    """A JSON-ready description of a model file (the bundled default when ``model`` is None).

    Keys: ``model``, ``default_model``, ``size_bytes``, ``backend``, ``metadata`` (the embedded
    document or None), ``settings`` (threshold, patch size, preprocessing in effect), ``inputs``,
    ``outputs``, ``ops`` (in execution order), ``op_counts``, ``edgetpu_ready``,
    ``edgetpu_issues``.
    """
    path = resolve_model(model)
    content = read_model_bytes(path)
    try:
        metadata = read_metadata(content)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    interpreter = make_interpreter(content, default_delegates=False)
    ops = interpreter._get_ops_details()
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    issues = audit_edgetpu(ops, interpreter.get_tensor_details(), inputs, outputs)
    names = [op["op_name"] for op in ops]
    settings = model_settings(metadata)
    return {
        "model": str(path),
        "default_model": path.resolve() == DEFAULT_MODEL.resolve(),
        "size_bytes": len(content),
        "backend": backend_name(),
        "metadata": metadata,
        "settings": {
            "threshold": settings.threshold,
            "patch_size": settings.patch_size,
            "preprocessing": settings.preprocessing,
            "from_metadata": settings.has_metadata,
        },
        "inputs": [_tensor(d) for d in inputs],
        "outputs": [_tensor(d) for d in outputs],
        "ops": names,
        "op_counts": dict(sorted(Counter(names).items())),
        "edgetpu_ready": not issues,
        "edgetpu_issues": issues,
    }
