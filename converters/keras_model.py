"""Prepare trained Keras models for export (static batch 1, builtin ops only)."""

import keras

BUILTIN_INTERPOLATIONS = ("nearest", "bilinear")
"""Resizing interpolations that lower to builtin LiteRT ops (RESIZE_NEAREST_NEIGHBOR/BILINEAR)."""


def flex_layers(model: keras.Model) -> list[str]:
    """Descriptions of the layers that need TensorFlow (Flex) ops in LiteRT, in model order."""
    found = []
    for layer in model.layers:
        interpolation = getattr(layer, "interpolation", None)
        if interpolation is not None and interpolation not in BUILTIN_INTERPOLATIONS:
            found.append(
                f"layer '{layer.name}' ({type(layer).__name__}, interpolation={interpolation!r})"
            )
    return found


def with_batch_one(model: keras.Model) -> keras.Model:
    """A copy of a functional model whose input has a static batch of 1 (as the Edge TPU needs)."""
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [1, *layer["config"]["batch_shape"][1:]]
    exported = keras.Model.from_config(config)
    exported.set_weights(model.get_weights())
    return exported
