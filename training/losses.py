"""Training losses: binary cross-entropy (the reference) and BCE plus soft Dice."""

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


def get_loss(name: str):
    """The Keras loss for a name in :data:`LOSSES`."""
    if name == "bce":
        return keras.losses.BinaryCrossentropy()
    if name == "bce-dice":
        return bce_dice_loss
    raise ValueError(f"got loss {name!r}, expected one of {', '.join(LOSSES)}")
