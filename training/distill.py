"""Knowledge distillation: a larger teacher's probabilities as extra targets for a student.

The targets are soft; :func:`training.losses.distillation_loss` weighs them against the labels.
"""

from pathlib import Path

import keras
import numpy as np

from edge_runtime.contract.preprocessing import PREPROCESSING_NAME
from edge_runtime.contract.symmetry import TTA_MODES, symmetry_average
from training.model_io import load_keras_model, predict_probabilities


def load_teacher(path: str | Path) -> keras.Model:
    """A trained model (a run's ``model.keras``) to distil from."""
    return load_keras_model(path, PREPROCESSING_NAME)


def teacher_probabilities(teacher: keras.Model, x: np.ndarray) -> np.ndarray:
    """The teacher's vessel probabilities (N, H, W, 1) of preprocessed patches.

    They are averaged over the eight symmetries of the square: smoother, better targets than a
    single pass.
    """
    return symmetry_average(
        lambda batch: predict_probabilities(teacher, batch), x, TTA_MODES["dihedral"]
    )
