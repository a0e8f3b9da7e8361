"""Training losses: binary cross-entropy (the reference), BCE plus soft Dice, and distillation."""

import keras
from keras import ops

from training.config import LOSSES


@keras.saving.register_keras_serializable(package="edge_seg")
def soft_dice_loss(y_true, y_pred, smooth: float = 1.0):
    """1 - soft Dice of each patch, averaged over the batch (the metric is a per-patch mean too)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape)))
    overlap = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - ops.mean((2.0 * overlap + smooth) / (total + smooth))


@keras.saving.register_keras_serializable(package="edge_seg")
def bce_dice_loss(y_true, y_pred):
    """Binary cross-entropy plus soft Dice loss."""
    bce = ops.mean(keras.losses.binary_crossentropy(y_true, y_pred))
    return bce + soft_dice_loss(y_true, y_pred)


def distillation_loss(loss, teacher_weight: float):
    """``loss`` against the labels and against a teacher's probabilities, mixed.

    The labels are channel 0 of ``y_true``, the teacher's probabilities channel 1; they weigh
    ``1 - teacher_weight`` : ``teacher_weight``.
    """

    def distillation(y_true, y_pred):
        labels, teacher = y_true[..., :1], y_true[..., 1:]
        return (1 - teacher_weight) * loss(labels, y_pred) + teacher_weight * loss(teacher, y_pred)

    return distillation


def get_loss(name: str):
    """The Keras loss for a name in :data:`LOSSES`."""
    if name == "bce":
        return keras.losses.BinaryCrossentropy()
    if name == "bce-dice":
        return bce_dice_loss
    raise ValueError(f"got loss {name!r}, expected one of {', '.join(LOSSES)}")
