"""What an artery/vein model sees, defined once for training and the device: the field of view
at the working scale in four channels, red, green and blue, each standardised inside the field
(so that cameras and exposures meet), and the vessel model's probability."""

import numpy as np

ARTERY_VEIN_PREPROCESSING = "field_standardised_rgb_vessel"
"""Name recorded in an artery/vein model's card for :func:`artery_vein_input`."""

ARTERY_VEIN_CHANNELS = 4
"""Channels of an artery/vein model's input: red, green, blue, vessel probability."""

MIN_SPREAD = 1e-6
"""Added to each colour's spread, so that a flat channel is standardised to zeros."""


def artery_vein_input(
    colour: np.ndarray, inside: np.ndarray, vessel_probability: np.ndarray
) -> np.ndarray:
    """The model input (H, W, 4) float32 of a working-scale colour field of view.

    Args:
        colour: (H, W, 3) red, green and blue at the working scale, any real values.
        inside: (H, W) bool, the field of view; outside it every channel is 0.
        vessel_probability: (H, W) the vessel model's probabilities at the working scale.
    """
    colour = np.asarray(colour, dtype=np.float32)
    inside = np.asarray(inside, dtype=bool)
    if colour.ndim != 3 or colour.shape[2] != 3 or colour.shape[:2] != inside.shape:
        raise ValueError(
            f"got colour {colour.shape} and field {inside.shape}, expected (H, W, 3) and (H, W)"
        )
    if np.shape(vessel_probability) != inside.shape:
        raise ValueError(
            f"got vessel probabilities {np.shape(vessel_probability)}, expected {inside.shape}"
        )
    out = np.empty((*inside.shape, ARTERY_VEIN_CHANNELS), dtype=np.float32)
    count = int(np.count_nonzero(inside))
    if count:
        weight = inside.reshape(-1).astype(np.float64)  # sums as products: no masked copies
        pixels = colour.reshape(-1, 3).astype(np.float64)
        mean = weight @ pixels / count
        variance = np.maximum(weight @ (pixels - mean) ** 2 / count, 0.0)
        spread = (np.sqrt(variance) + MIN_SPREAD).astype(np.float32)
        np.divide(colour - mean.astype(np.float32), spread, out=out[..., :3])
    else:
        out[..., :3] = 0.0
    out[..., 3] = vessel_probability
    out *= inside[..., None]
    return out
