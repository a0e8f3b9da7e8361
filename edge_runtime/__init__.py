"""Device-side retinal vessel segmentation: numpy, Pillow, click and a LiteRT interpreter.

Nothing in this package imports TensorFlow, ``training`` or ``converters``; those packages import
the preprocessing, metrics and data loading defined here, so training, conversion and the device
can never disagree.
"""

__version__ = "0.1.0"
