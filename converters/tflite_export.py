"""Keras model to LiteRT flatbuffer: full-integer post-training quantization, or float32."""

import contextlib
import io
import warnings

import numpy as np
import tensorflow as tf

from converters.keras_model import flex_layers, with_batch_one
from edge_runtime.errors import EdgeSegError
from edge_runtime.native_logs import silenced

QUANTIZATIONS = ("int8", "float")
IO_TYPES = {"int8": tf.int8, "uint8": tf.uint8, "float": tf.float32}


def export_tflite(
    model, calibration: np.ndarray | None, quantization: str = "int8", io_type: str = "int8"
) -> bytes:
    """Convert a Keras model with a static batch-1 input.

    Args:
        model: a functional Keras model.
        calibration: preprocessed patches (N, H, W, 1), fed one at a time in this order to
            calibrate activation ranges; required for int8.
        quantization: "int8" (int8 weights and activations) or "float" (float32 twin).
        io_type: input/output type of an int8 model: "int8", "uint8" or "float" (float at the ends,
            with QUANTIZE/DEQUANTIZE inside the model).

    Raises:
        EdgeSegError: the model needs TensorFlow (Flex) ops, or the converter fails.
    """
    offenders = flex_layers(model)
    if offenders:
        raise EdgeSegError(
            f"{offenders[0]} needs TensorFlow (Flex) ops, which LiteRT builtins and the Edge TPU "
            "lack; use interpolation 'bilinear' or 'nearest' (e.g. train --arch seed-edge)"
        )
    converter = tf.lite.TFLiteConverter.from_keras_model(with_batch_one(model))
    if quantization == "int8":
        if calibration is None or len(calibration) == 0:
            raise ValueError("int8 conversion needs calibration patches")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [calibration[i : i + 1]] for i in range(len(calibration))
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = IO_TYPES[io_type]
        converter.inference_output_type = IO_TYPES[io_type]
    elif quantization == "float":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    else:
        raise ValueError(f"got quantization {quantization!r}, expected one of {QUANTIZATIONS}")
    try:
        # the converter prints the saved artifact's signature to stdout and warns about input
        # statistics that full-integer calibration does not need: keep the CLI's output clean
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), silenced():
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
            return converter.convert()
    except Exception as exc:  # the converter raises ConverterError and others with long texts
        lines = [line.strip() for line in str(exc).splitlines() if "error" in line.lower()]
        raise EdgeSegError(f"conversion failed: {(lines or [type(exc).__name__])[0]}") from None
