"""Build our metadata document and embed it in a .tflite flatbuffer (host side, TensorFlow)."""

import datetime
import json
from pathlib import Path

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from edge_runtime import __version__
from edge_runtime.metadata import FORMAT_VERSION, FOV_DIAMETER, METADATA_NAME
from edge_runtime.preprocessing import PATCH_SIZE, PREPROCESSING_NAME
from edge_runtime.quantization import tensor_quantization
from training.config import WIDTH_ARCHITECTURES


def embed_metadata(content: bytes, document: dict) -> bytes:
    """Return the model with ``document`` as JSON under :data:`METADATA_NAME` (replacing any)."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(document, sort_keys=True).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    kept = (
        [m for m in (model.metadata or []) if m.name.decode() != METADATA_NAME]
        if model.metadata
        else []
    )
    model.metadata = [*kept, entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _tensor_io(detail: dict) -> dict:
    scale, zero_point = tensor_quantization(detail)
    return {"dtype": np.dtype(detail["dtype"]).name, "scale": scale, "zero_point": zero_point}


def _run_files(keras_path: Path) -> dict:
    """metrics.json and config.json of the training run the model came from, when beside it."""
    found = {}
    for name in ("metrics", "config"):
        path = keras_path.parent / f"{name}.json"
        if path.is_file():
            found[name] = json.loads(path.read_text())
    return found


def build_metadata(
    keras_path: Path,
    interpreter,
    quantization: str,
    threshold: float | None,
    model_version: str,
    parameters: int,
) -> dict:
    """The metadata document for a converted model.

    The threshold is ``threshold`` if given, else the one tuned in training (``metrics.json`` beside
    the Keras model), else 0.5. The gate entry is filled in by the caller after the Dice gate.
    """
    run = _run_files(keras_path)
    metrics, config = run.get("metrics", {}), run.get("config", {})
    if threshold is None:
        threshold = float(metrics.get("threshold", 0.5))
    return {
        "format_version": FORMAT_VERSION,
        "model_version": model_version,
        "architecture": metrics.get("arch", config.get("arch", "unknown")),
        "width": config.get("width") if config.get("arch") in WIDTH_ARCHITECTURES else None,
        "parameters": parameters,
        "macs_per_patch": metrics.get("macs_per_patch"),
        "patch_size": PATCH_SIZE,
        "fov_diameter": FOV_DIAMETER,
        "preprocessing": {"name": PREPROCESSING_NAME, "output_range": [0.0, 1.0]},
        "threshold": threshold,
        "quantization": quantization,
        "input": _tensor_io(interpreter.get_input_details()[0]),
        "output": _tensor_io(interpreter.get_output_details()[0]),
        "training_data_sha256": metrics.get("data_sha256"),
        "training": {k: config[k] for k in ("loss", "epochs", "seed", "holdout") if k in config},
        "gate": None,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "package_version": __version__,
    }
