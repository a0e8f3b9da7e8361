"""What the verdict measures on the vessel map, when the model has run: how much of the field
it marks as vessel and how sure it is."""

from dataclasses import dataclass

import numpy as np

UNSURE = (0.2, 0.8)
"""Probabilities strictly between these are the model being unsure."""


@dataclass(frozen=True)
class VesselMeasurements:
    """``vessel_fraction``: share of the field marked vessel; ``indecision``: of the pixels the
    model gives more than 0.2, the share it gives less than 0.8 (about 0.25-0.36 on clean
    photographs; blur, noise and compression raise it)."""

    vessel_fraction: float
    indecision: float


def measure_vessels(
    probability: np.ndarray, inside: np.ndarray, threshold: float
) -> VesselMeasurements:
    """The measurements of working-scale vessel probabilities inside the field (boolean
    ``inside``, the same shape) at a decision ``threshold``, from every other row."""
    field = np.asarray(probability)[::2][np.asarray(inside, dtype=bool)[::2]]
    if not field.size:
        return VesselMeasurements(0.0, 0.0)
    low, high = UNSURE
    seen = np.count_nonzero(field > low)
    unsure = seen - np.count_nonzero(field >= high)  # high > low: those are all seen
    return VesselMeasurements(
        vessel_fraction=float(np.count_nonzero(field >= threshold) / field.size),
        indecision=float(unsure / seen) if seen else 0.0,
    )
