"""A segmentation with what is read from it: the verdict on the photograph and the vascular
measurements of its vessel map (the Python API's :class:`~edge_runtime.Segmenter` and
:class:`~edge_runtime.Result`)."""
