"""A .tflite vessel model on 64x64 patches: preprocessed patches in, probabilities out."""

import warnings
from pathlib import Path

import numpy as np

from edge_runtime.errors import InputError
from edge_runtime.interpreter import make_interpreter, read_model_bytes
from edge_runtime.metadata import ModelSettings, model_settings, read_metadata
from edge_runtime.metrics import binarize
from edge_runtime.preprocessing import PREPROCESSING_NAME, preprocess_patches
from edge_runtime.quantization import dequantize, quantize
from edge_runtime.symmetry import TTA_MODES, symmetry_average

BATCH_SIZE = 16
"""Patches per invoke where the model can be resized to a batch (measured: 8-32 all give about
the same speed-up, 1.2-1.9x over one patch per invoke, on this project's models)."""


class PatchModel:
    """Runs a vessel model on batches of patches through a LiteRT interpreter.

    Reads our embedded metadata (threshold, patch size, preprocessing); a model without it runs
    with the reference defaults and a warning. Inputs are quantized and outputs dequantized with
    the tensors' own scale and zero point, so int8, uint8 and float models are used alike.

    Patches run ``batch_size`` at a time: the batch-1 input is resized to a batch when the model
    allows it (every op here works patch by patch, so results are identical to one at a time,
    and faster); otherwise, and always on the Edge TPU, one patch per invoke.

    ``tta`` (a key of :data:`edge_runtime.symmetry.TTA_MODES`) averages the probabilities over
    flipped/rotated copies of each patch: ``flip`` costs two model runs per patch, ``dihedral``
    eight (benchmarks/tta.py measures what they buy).
    """

    def __init__(
        self,
        path: str | Path,
        threads: int = 1,
        delegate: str | None = None,
        batch_size: int = BATCH_SIZE,
        tta: str = "off",
    ):
        if tta not in TTA_MODES:
            raise ValueError(f"got tta {tta!r}, expected one of {', '.join(TTA_MODES)}")
        self.path = Path(path)
        self.tta = tta
        content = read_model_bytes(self.path)
        try:
            self.metadata = read_metadata(content)
        except ValueError as exc:
            raise InputError(f"{self.path}: {exc}") from None
        self.settings: ModelSettings = model_settings(self.metadata)
        if self.settings.preprocessing != PREPROCESSING_NAME:
            raise InputError(
                f"{self.path}: preprocessing {self.settings.preprocessing!r} is not supported, "
                f"expected {PREPROCESSING_NAME!r}"
            )
        self.interpreter = make_interpreter(content, threads=threads, delegate=delegate)
        self._input = self.interpreter.get_input_details()[0]
        self._output = self.interpreter.get_output_details()[0]
        self._check_shapes()
        self.batch_size = self._allocate(batch_size if delegate is None else 1)
        if not self.settings.has_metadata:
            warnings.warn(
                f"{self.path}: no edge-seg metadata; assuming threshold "
                f"{self.settings.threshold}, {self.settings.patch_size}x{self.settings.patch_size} "
                f"patches, {self.settings.preprocessing}",
                stacklevel=2,
            )

    def _allocate(self, batch_size: int) -> int:
        """Allocate tensors for ``batch_size`` patches if the model allows, else for one."""
        if batch_size > 1:
            try:
                self._resize(batch_size)
                shape = tuple(self.interpreter.get_output_details()[0]["shape"])
                if shape[0] == batch_size:
                    return batch_size
            except (ValueError, RuntimeError):
                pass
        self._resize(1)
        return 1

    def _resize(self, batch: int) -> None:
        side = self.settings.patch_size
        self.interpreter.resize_tensor_input(
            self._input["index"], [batch, side, side, 1], strict=False
        )
        self.interpreter.allocate_tensors()
        self._allocated = batch

    def _check_shapes(self) -> None:
        side = self.settings.patch_size
        for role, detail in (("input", self._input), ("output", self._output)):
            shape = tuple(int(d) for d in detail["shape_signature"])
            if len(shape) != 4 or shape[0] not in (1, -1) or shape[1:] != (side, side, 1):
                raise InputError(
                    f"{self.path}: {role} shape {list(shape)}, expected [1, {side}, {side}, 1]"
                )

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Vessel probabilities of preprocessed patches.

        Args:
            patches: float array (N, P, P, 1) or (N, P, P) with values in [0, 1], as returned by
                :func:`edge_runtime.preprocessing.preprocess_patches`.

        Returns:
            float32 array (N, P, P).
        """
        x = np.asarray(patches, dtype=np.float32)
        if x.ndim == 3:
            x = x[..., np.newaxis]
        side = self.settings.patch_size
        if x.ndim != 4 or x.shape[1:] != (side, side, 1):
            raise ValueError(
                f"got patches of shape {np.shape(patches)}, expected (N, {side}, {side}, 1)"
            )
        transforms = TTA_MODES[self.tta]
        out = np.empty(x.shape[:3], dtype=np.float32)
        for start in range(0, len(x), self.batch_size):
            chunk = x[start : start + self.batch_size]
            out[start : start + len(chunk)] = symmetry_average(self._invoke, chunk, transforms)
        return out

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        """Run up to ``batch_size`` patches; the input is resized to a short last chunk (cheaper
        than padding it: re-allocating takes microseconds)."""
        if len(chunk) != self._allocated:
            self._resize(len(chunk))
        self.interpreter.set_tensor(self._input["index"], quantize(chunk, self._input))
        self.interpreter.invoke()
        probabilities = self.interpreter.get_tensor(self._output["index"])[..., 0]
        return dequantize(probabilities, self._output)

    def segment_patches(self, raw: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Binary uint8 vessel masks (N, P, P) of raw grayscale patches (N, P, P): preprocess,
        predict, threshold (the model's own threshold unless given)."""
        threshold = self.settings.threshold if threshold is None else threshold
        return binarize(self.predict(preprocess_patches(raw)), threshold)
