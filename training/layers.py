"""Keras layers of our own, registered so that a model holding them is saved, loaded and cloned."""

import keras


@keras.saving.register_keras_serializable(package="edge_seg")
class BatchFreeReshape(keras.layers.Layer):
    """A reshape whose LiteRT form leaves the batch free.

    Keras's ``Reshape`` writes the batch the model is exported with (1) into RESHAPE's shape, so
    the runtime could not resize the input to run a batch of tiles in one invoke.
    """

    def __init__(self, target_shape: tuple[int, ...], **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        """``inputs`` in the target shape, whatever their batch."""
        return keras.ops.reshape(inputs, (-1, *self.target_shape))

    def compute_output_shape(self, input_shape):
        """The batch of ``input_shape`` and the target shape."""
        return (input_shape[0], *self.target_shape)

    def get_config(self) -> dict:
        """The layer's settings and its target shape, to be built again from."""
        return {**super().get_config(), "target_shape": self.target_shape}
