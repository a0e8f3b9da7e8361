"""Device-side retinal vessel segmentation: numpy, Pillow, click and a LiteRT interpreter.

Nothing in this package imports TensorFlow, ``training`` or ``converters``; those packages import
what is shared from here, so training, conversion and the device can never disagree. The
sub-packages are layers, each importing only those listed before it:

- :mod:`edge_runtime.contract`: what training, conversion and the device share: preprocessing,
  metrics, symmetries, the holdout, the segmenter's configuration
  (:class:`SegmenterConfig`), and the typed documents (model card, gate report, training
  record, what the commands print);
- :mod:`edge_runtime.inference`: the model file, its interpreter (:class:`RuntimeOptions`) and
  what it is;
- :mod:`edge_runtime.pipeline`: the photograph pipeline, decode to mask (:class:`Segmenter`)
  and an artery/vein model chained after it (:class:`ArteryVeinModel`), and several
  photographs on several processes;
- :mod:`edge_runtime.data`: labelled data on disk;
- :mod:`edge_runtime.measure`: vascular measurements of vessel maps (in millimetres too with
  a :class:`CameraScale`);
- :mod:`edge_runtime.evaluation`: scoring, timing and test material;
- :mod:`edge_runtime.verdict`: the verdict on a photograph;
- :mod:`edge_runtime.analysis`: a segmentation with its verdict and measurements (the
  :class:`Segmenter` and :class:`Result` of the Python API);
- :mod:`edge_runtime.app`: files in and out, the drop-folder watcher;
- :mod:`edge_runtime.cli`: the ``edge-seg`` command line.
"""

__version__ = "1.2.0.dev0"

from edge_runtime.analysis.segmentation import Result, Segmenter
from edge_runtime.contract.artery_vein_classes import ArteryVein
from edge_runtime.contract.segmenter_config import SegmenterConfig
from edge_runtime.inference.runtime_options import RuntimeOptions
from edge_runtime.measure.scale import CameraScale
from edge_runtime.pipeline.artery_vein import ArteryVeinModel

__all__ = [
    "ArteryVein",
    "ArteryVeinModel",
    "CameraScale",
    "Result",
    "RuntimeOptions",
    "Segmenter",
    "SegmenterConfig",
    "__version__",
]
