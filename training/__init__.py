"""Host-side training of the vessel segmentation models (Keras 3 on TensorFlow).

Preprocessing, the Dice metric and data loading come from :mod:`edge_runtime`, so what is trained
here is evaluated exactly as the device will run it.
"""
