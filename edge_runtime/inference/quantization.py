"""Quantize model inputs and dequantize outputs from the tensors' own scale and zero point."""

import numpy as np


def tensor_quantization(detail: dict) -> tuple[float, int]:
    """(scale, zero_point) of an interpreter tensor detail; (0.0, 0) for a float tensor."""
    scale, zero_point = detail["quantization"]
    return float(scale), int(zero_point)


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Real values to the tensor's dtype: ``round(v / scale) + zero_point``, saturated.

    A float tensor (scale 0) receives the values cast to its dtype unchanged.
    """
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = tensor_quantization(detail)
    if scale == 0.0:
        return np.asarray(values, dtype=dtype)
    info = np.iinfo(dtype)
    q = np.asarray(values, dtype=np.float32) / np.float32(scale)
    np.round(q, out=q)
    q += zero_point
    return np.clip(q, info.min, info.max, out=q).astype(dtype)


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Tensor values to float32 reals: ``(q - zero_point) * scale``; float tensors pass through."""
    scale, zero_point = tensor_quantization(detail)
    if scale == 0.0:
        return np.asarray(values, dtype=np.float32)
    return (np.asarray(values, dtype=np.float32) - np.float32(zero_point)) * np.float32(scale)
