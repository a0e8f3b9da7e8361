"""Device-side retinal vessel segmentation: numpy, Pillow, click and a LiteRT interpreter.

Nothing in this package imports TensorFlow, ``training`` or ``converters``; those packages import
what is shared from here, so training, conversion and the device can never disagree. The
sub-packages, in the order a photograph meets them:

- :mod:`edge_runtime.contract`: what training, conversion and the device share: preprocessing,
  metrics, symmetries, the holdout, and the typed documents (model card, gate report, training
  record);
- :mod:`edge_runtime.data`: labelled data on disk;
- :mod:`edge_runtime.pipeline`: the photograph pipeline, decode to mask (:class:`Segmenter`);
- :mod:`edge_runtime.inference`: the model file, its interpreter and what it is;
- :mod:`edge_runtime.evaluation`: scoring and test material;
- :mod:`edge_runtime.app`: files in and out, the drop-folder watcher;
- :mod:`edge_runtime.cli`: the ``edge-seg`` command line.
"""

__version__ = "1.1.0.dev0"

from edge_runtime.pipeline.segmenter import Result, Segmenter

__all__ = ["Result", "Segmenter", "__version__"]
