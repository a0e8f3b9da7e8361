"""What an artery/vein model sees, defined once for training and the device: the field of view
at the model's working scale in four channels, red, green and blue, each standardised inside
the field (so that cameras and exposures meet), and the vessel model's probability."""

import numpy as np

ARTERY_VEIN_PREPROCESSING = "field_standardised_rgb_vessel"
"""Name recorded in an artery/vein model's card for :func:`artery_vein_input`."""

ARTERY_VEIN_CHANNELS = 4
"""Channels of an artery/vein model's input: red, green, blue, vessel probability."""

MIN_SPREAD = 1e-6
"""Added to each colour's spread, so that a flat channel is standardised to zeros."""


def standardised_colour(
    colour: np.ndarray, inside: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Red, green and blue (H, W, 3) float32, each standardised inside the field of view (mean
    0, spread 1 there) and 0 outside it, written into ``out`` when given.

    Args:
        colour: (H, W, 3) red, green and blue at the model's working scale, any real values.
        inside: (H, W) bool, the field of view.
        out: where to write, (H, W, 3) float32 (a view of a larger input, say).
    """
    colour = np.asarray(colour, dtype=np.float32)
    inside = np.asarray(inside, dtype=bool)
    if colour.ndim != 3 or colour.shape[2] != 3 or colour.shape[:2] != inside.shape:
        raise ValueError(
            f"got colour {colour.shape} and field {inside.shape}, expected (H, W, 3) and (H, W)"
        )
    if out is None:
        out = np.empty(colour.shape, dtype=np.float32)
    count = int(np.count_nonzero(inside))
    if not count:
        out[...] = 0.0
        return out
    weight = inside.reshape(-1).astype(np.float64)  # sums as products: no masked copies
    pixels = colour.reshape(-1, 3).astype(np.float64)
    mean = weight @ pixels / count
    # a colour at a time here and below: numpy is slow on a last axis of three
    for c in range(3):
        pixels[:, c] -= mean[c]
    pixels *= pixels
    variance = np.maximum(weight @ pixels / count, 0.0)
    spread = (np.sqrt(variance) + MIN_SPREAD).astype(np.float32)
    field, centre = inside.astype(np.float32), mean.astype(np.float32)
    plane = np.empty(inside.shape, dtype=np.float32)  # contiguous: faster than working in out
    for c in range(3):
        np.subtract(colour[..., c], centre[c], out=plane)
        plane /= spread[c]
        np.multiply(plane, field, out=out[..., c])
    return out


def artery_vein_input(
    colour: np.ndarray, inside: np.ndarray, vessel_probability: np.ndarray
) -> np.ndarray:
    """The model input (H, W, 4) float32 of a working-scale colour field of view: its
    :func:`standardised_colour` and the vessel probabilities, all 0 outside the field.

    Args:
        colour: (H, W, 3) red, green and blue at the model's working scale, any real values.
        inside: (H, W) bool, the field of view.
        vessel_probability: (H, W) the vessel model's probabilities at that scale.
    """
    inside = np.asarray(inside, dtype=bool)
    if np.shape(vessel_probability) != inside.shape:
        raise ValueError(
            f"got vessel probabilities {np.shape(vessel_probability)}, expected {inside.shape}"
        )
    out = np.empty((*inside.shape, ARTERY_VEIN_CHANNELS), dtype=np.float32)
    standardised_colour(colour, inside, out[..., :3])
    np.multiply(vessel_probability, inside, out=out[..., 3])
    return out
