"""Per-patch contrast stretch, exactly as the reference notebook prepared its 64x64 patches."""

from dataclasses import dataclass

import numpy as np

from edge_runtime.contract.artery_vein_input import ARTERY_VEIN_CHANNELS, ARTERY_VEIN_PREPROCESSING

PATCH_SIZE = 64
"""Side of the square patches the models are trained on."""

PREPROCESSING_NAME = "contrast_stretch_255"
"""Name recorded in model metadata for :func:`preprocess_patches`."""


@dataclass(frozen=True)
class ModelInput:
    """What a model takes: its input channels, and the kind of model that takes them."""

    channels: int
    kind: str


MODEL_INPUTS = {
    PREPROCESSING_NAME: ModelInput(1, "vessel"),
    ARTERY_VEIN_PREPROCESSING: ModelInput(ARTERY_VEIN_CHANNELS, "artery/vein"),
}
"""The inputs a model may take, by the name its card records: a vessel model's
(:func:`preprocess_patches`) and an artery/vein model's
(:func:`edge_runtime.contract.artery_vein_input.artery_vein_input`)."""

CHANNELS = ("luma", "green")
"""How a colour photograph becomes the one grayscale channel a model sees
(:mod:`edge_runtime.pipeline.grayscale`); a model card records which its model was trained on."""


def contrast_stretch(patches: np.ndarray) -> np.ndarray:
    """Stretch each patch's intensities to the full 0-255 range.

    The minimum of each patch maps to 0 and its maximum to 255; values in between are scaled
    linearly and rounded down, as the notebook's ``astype(np.uint8)`` did. A constant patch has no
    range to stretch and maps to all zeros (no division by zero).

    Args:
        patches: real array of shape (..., H, W); the stretch is computed over the last two axes.

    Returns:
        uint8 array of the same shape.
    """
    patches = np.asarray(patches)
    if patches.ndim < 2:
        raise ValueError(f"got an array of shape {patches.shape}, expected (..., H, W)")
    # The extremes are read from the patches as they are (exact in any real dtype); the rest is
    # computed in float64 in one array, in place, with the same operations in the same order.
    lo = patches.min(axis=(-2, -1), keepdims=True).astype(np.float64)
    span = patches.max(axis=(-2, -1), keepdims=True).astype(np.float64) - lo
    x = patches.astype(np.float64)
    x -= lo
    x /= np.where(span > 0, span, 1.0)  # a constant patch is all 0 already: 0 / 1 stays 0
    x *= 255.0
    return np.floor(x, out=x).astype(np.uint8)


def preprocess_patches(patches: np.ndarray) -> np.ndarray:
    """Turn raw grayscale patches into model input: contrast stretch, then scale to [0, 1].

    Args:
        patches: real array of shape (N, H, W) or (N, H, W, 1).

    Returns:
        float32 array of shape (N, H, W, 1) with values k/255, k an integer in 0..255.
    """
    x = np.asarray(patches)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(
            f"got patches of shape {np.shape(patches)}, expected (N, H, W) or (N, H, W, 1)"
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("got patches with values that are not numbers (NaN or infinite)")
    return (contrast_stretch(x).astype(np.float32) / np.float32(255.0))[..., np.newaxis]
