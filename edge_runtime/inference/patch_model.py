"""A .tflite vessel model on square patches: preprocessed patches in, probabilities out."""

import dataclasses
import functools
import os
import threading
import warnings
import weakref
from pathlib import Path
from typing import Protocol

import numpy as np

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.preprocessing import MODEL_INPUTS, PREPROCESSING_NAME
from edge_runtime.contract.provenance import ModelIdentity
from edge_runtime.errors import ModelError, first_line
from edge_runtime.inference.bundled import resolve_model
from edge_runtime.inference.interpreter import make_interpreter
from edge_runtime.inference.model_file import read_card, read_model_bytes
from edge_runtime.inference.quantization import dequantize, quantize
from edge_runtime.inference.runtime_options import DEFAULT_RUNTIME, RuntimeOptions
from edge_runtime.inference.signatures import UNCHECKED, configured_keys, verify_model
from edge_runtime.inference.trial import run_trial
from edge_runtime.native_logs import silenced

INVOKE_BATCH = 16
"""Patches per invoke where the model can be resized to a batch (measured: 8-32 all give about
the same speed-up, 1.2-1.9x over one patch per invoke, on this project's models)."""

NATIVE_ERRORS = (RuntimeError, ValueError, IndexError)
"""What the interpreter raises when a model that loaded cannot be prepared or run."""


class PatchPredictor(Protocol):
    """What the pipeline needs of a patch model: :class:`PatchModel` on the device; a Keras
    model in training and in the gate (``training.model_io.KerasPatches``)."""

    @property
    def card(self) -> ModelCard:
        """The model card: patch size, preprocessing and what the segmenter takes from it."""
        ...

    @property
    def side(self) -> int:
        """The side of the square patches it takes, in pixels."""
        ...

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Probabilities (N, side, side) of preprocessed patches (N, side, side[, channels]):
        a vessel model's of vessel, an artery/vein model's of artery."""
        ...


def check_ports(
    path: Path | str, inputs: list[dict], outputs: list[dict], side: int, channels: int
) -> None:
    """Refuse an interpreter's ``inputs`` and ``outputs`` (LiteRT's details) that are not one
    batch of ``side`` x ``side`` patches of ``channels`` in and one probability out, in int8,
    uint8 or float32.

    Raises:
        ModelError: they are not (the message names ``path`` and what differs).
    """
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"{path}: {len(inputs)} inputs and {len(outputs)} outputs, expected one each"
        )
    for role, detail, depth in (("input", inputs[0], channels), ("output", outputs[0], 1)):
        shape = tuple(int(d) for d in detail["shape_signature"])
        if len(shape) != 4 or shape[0] not in (1, -1) or shape[1:] != (side, side, depth):
            raise ModelError(
                f"{path}: {role} shape {list(shape)}, expected [1, {side}, {side}, {depth}]"
            )
        if np.dtype(detail["dtype"]) not in (np.int8, np.uint8, np.float32):
            raise ModelError(
                f"{path}: {role} type {np.dtype(detail['dtype']).name}, "
                "expected int8, uint8 or float32"
            )


class PatchModel:
    """Runs a vessel model on batches of patches through a LiteRT interpreter.

    Reads the model card (patch size, preprocessing, and what the segmenter takes from it); a
    model without one runs with the reference defaults and a warning. Inputs are quantized and
    outputs dequantized with the tensors' own scale and zero point, so int8, uint8 and float
    models are used alike.

    Patches run ``batch_size`` at a time: the batch-1 input is resized to a batch when the model
    allows it (every op here works patch by patch, so results are identical to one at a time,
    and faster); otherwise, and always on the Edge TPU, one patch per invoke.

    On the CPU, a model whose card records no SHA-256 of its file (a model without a card, or
    one converted before format 2) is first built and run in a throwaway child process
    (:mod:`edge_runtime.inference.trial`), so that a damaged one that would crash the
    interpreter natively is refused with one line instead; a recorded digest has already
    refused any damaged file.

    Args:
        options: which file, and how to run it (:class:`RuntimeOptions`); with trusted keys,
            its signature is checked before anything else of it is read.
        batch_size: patches per invoke.
        preprocessing: what the model must take (the name on its card, one of
            :data:`~edge_runtime.contract.preprocessing.MODEL_INPUTS`): a vessel
            model's contrast-stretched grayscale tiles by default, or an artery/vein model's
            four channels; it sets the input's channels.

    :attr:`options` is then everything that built it, the checked bytes included, from which
    another process builds the same model without opening or checking the file again;
    :attr:`identity` names the file (its version and SHA-256) in what its outputs record.

    Raises:
        ModelError: the file is not a usable vessel model of ours (the message says why).
    """

    def __init__(
        self,
        options: RuntimeOptions = DEFAULT_RUNTIME,
        batch_size: int = INVOKE_BATCH,
        preprocessing: str = PREPROCESSING_NAME,
    ):
        self.path = resolve_model(options.model)
        self._running = threading.Lock()  # one interpreter: one invoke at a time
        self._forked = False  # built in the process this one was forked from (_after_fork)
        content = options.model_content
        if content is None:
            content = read_model_bytes(self.path)
        keys = configured_keys(options.trusted_keys)
        self.signature = None if keys is None else verify_model(self.path, content, keys)
        self.options = dataclasses.replace(
            options, model=str(self.path), trusted_keys=UNCHECKED, model_content=content
        )
        try:
            card = read_card(content)
        except ValueError as exc:
            raise ModelError(f"{self.path}: {exc}") from None
        self.has_card = card is not None
        self.card = card or ModelCard()
        self.identity = ModelIdentity.of(content, card)
        if self.card.preprocessing.name != preprocessing:
            raise ModelError(
                f"{self.path}: takes {self.card.preprocessing.name!r} input, expected "
                f"{preprocessing!r}, the input of {MODEL_INPUTS[preprocessing].kind} models"
            )
        self.channels = MODEL_INPUTS[preprocessing].channels
        threads, delegate = options.threads, options.delegate
        if delegate is None and self.card.model_sha256 is None:  # no digest vouches for it
            trial = functools.partial(_trial_run, self.options, batch_size, preprocessing)
            run_trial(content, (threads, batch_size), str(self.path), trial)
        self.batch_size = self._build(batch_size if delegate is None else 1)
        _MODELS.add(self)
        if not self.has_card:
            warnings.warn(
                f"{self.path}: no edge-seg model card; assuming threshold {self.card.threshold}, "
                f"{self.side}x{self.side} patches, {self.card.preprocessing.name}",
                stacklevel=2,
            )

    def _build(self, batch_size: int) -> int:
        """Make the interpreter of the checked bytes, check its inputs and outputs, and allocate
        it for ``batch_size`` patches if it allows (the batch size it got)."""
        options = self.options
        self.interpreter = make_interpreter(
            options.model_content, options.threads, options.delegate, name=str(self.path)
        )
        self._check_signature()
        return self._allocate(batch_size)

    @property
    def side(self) -> int:
        """Side of the square patches the model takes."""
        return self.card.patch_size

    def _check_signature(self) -> None:
        inputs = self.interpreter.get_input_details()
        outputs = self.interpreter.get_output_details()
        check_ports(self.path, inputs, outputs, self.side, self.channels)
        self._input, self._output = inputs[0], outputs[0]

    def _allocate(self, batch_size: int) -> int:
        """Allocate tensors for ``batch_size`` patches if the model allows, else for one."""
        if batch_size > 1:
            try:
                with silenced():  # the first allocation announces LiteRT's CPU delegate
                    self._resize(batch_size)
                shape = tuple(self.interpreter.get_output_details()[0]["shape"])
                if shape[0] == batch_size:
                    return batch_size
            except NATIVE_ERRORS:
                pass
        try:
            with silenced():
                self._resize(1)
        except NATIVE_ERRORS as exc:
            raise ModelError(
                f"{self.path}: cannot be prepared to run ({first_line(exc)})"
            ) from None
        return 1

    def _resize(self, batch: int) -> None:
        side = self.side
        self.interpreter.resize_tensor_input(
            self._input["index"], [batch, side, side, self.channels], strict=False
        )
        self.interpreter.allocate_tensors()
        self._allocated = batch

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """The model's probabilities of preprocessed patches (a vessel model's: vessel; an
        artery/vein model's: artery).

        Args:
            patches: float array (N, P, P, C), or (N, P, P) when C is 1: for a vessel model
                values in [0, 1], as returned by
                :func:`edge_runtime.contract.preprocessing.preprocess_patches`; for an
                artery/vein model tiles of
                :func:`edge_runtime.contract.artery_vein_input.artery_vein_input`.

        Returns:
            float32 array (N, P, P).

        Raises:
            ModelError: the interpreter fails to run the model.
        """
        x = np.asarray(patches, dtype=np.float32)
        if x.ndim == 3:
            x = x[..., np.newaxis]
        side, channels = self.side, self.channels
        if x.ndim != 4 or x.shape[1:] != (side, side, channels):
            raise ValueError(
                f"got patches of shape {np.shape(patches)}, "
                f"expected (N, {side}, {side}, {channels})"
            )
        out = np.empty(x.shape[:3], dtype=np.float32)
        for start in range(0, len(x), self.batch_size):
            chunk = x[start : start + self.batch_size]
            out[start : start + len(chunk)] = self._invoke(chunk)
        return out

    def _invoke(self, chunk: np.ndarray) -> np.ndarray:
        """Run up to ``batch_size`` patches; the input is resized to a short last chunk (cheaper
        than padding it: re-allocating takes microseconds). One thread at a time: a
        :class:`~edge_runtime.pipeline.segmenter.Segmenter` may be shared by threads."""
        try:
            with self._running:
                if self._forked:  # the parent's interpreter: its threads are not here
                    if self.options.delegate:
                        raise ModelError(
                            f"{self.path}: runs on the accelerator of the process this one was "
                            "forked from: make a Segmenter in this process"
                        )
                    self._build(self.batch_size)
                    self._forked = False
                if len(chunk) != self._allocated:
                    self._resize(len(chunk))
                self.interpreter.set_tensor(self._input["index"], quantize(chunk, self._input))
                self.interpreter.invoke()
                output = self.interpreter.get_tensor(self._output["index"])
        except NATIVE_ERRORS as exc:
            raise ModelError(f"{self.path}: the interpreter failed ({first_line(exc)})") from None
        if output.shape != (*chunk.shape[:3], 1):
            raise ModelError(
                f"{self.path}: gave an output of shape {list(output.shape)} for "
                f"{len(chunk)} patches, expected {[*chunk.shape[:3], 1]}"
            )
        probabilities = output[..., 0]
        probabilities = dequantize(probabilities, self._output)
        if not np.isfinite(probabilities).all():
            raise ModelError(f"{self.path}: the model gave non-finite probabilities")
        return np.clip(probabilities, 0.0, 1.0)


def _trial_run(options: RuntimeOptions, batch_size: int, preprocessing: str) -> None:
    """Build a model from its checked options and run it on zeros: a whole batch, then a
    shorter one."""
    model = PatchModel(options, batch_size=batch_size, preprocessing=preprocessing)
    shape = (model.batch_size + 1, model.side, model.side, model.channels)
    model.predict(np.zeros(shape, np.float32))


def as_predictor(
    model: "str | os.PathLike | RuntimeOptions | PatchPredictor | None",
    default: Path | None = None,
    preprocessing: str = PREPROCESSING_NAME,
) -> PatchPredictor:
    """A segmenter's model argument as a predictor: a path or :class:`RuntimeOptions` gives a
    :class:`PatchModel` (``default`` for ``None``: by default the bundled vessel model; an empty
    path is refused, never taken for the default), a predictor is itself.

    Raises:
        TypeError: ``model`` is none of these.
        ModelError: its file cannot be used.
    """
    if model is None or isinstance(model, (str, os.PathLike)):  # a PurePath, an os.DirEntry too
        model = RuntimeOptions(default if model is None else model)
    if isinstance(model, RuntimeOptions):
        return PatchModel(model, preprocessing=preprocessing)
    if isinstance(model, bool) or not all(hasattr(model, n) for n in ("predict", "card", "side")):
        raise TypeError(
            f"got model {model!r}, expected a .tflite path, RuntimeOptions or a predictor"
        )
    return model


_MODELS: "weakref.WeakSet[PatchModel]" = weakref.WeakSet()
"""The models of this process, to be made again in a process forked from it."""


def _after_fork() -> None:
    """In a forked child, give each model a lock of its own and have it make its interpreter
    again before it next runs (one on the Edge TPU, whose device the parent holds, refuses to
    run instead): the parent's lock may have been held by a thread that the child does not
    have (a segmentation running while another thread forked), and the interpreter's worker
    threads are not in the child either; either would hang it for ever."""
    for model in list(_MODELS):
        model._running = threading.Lock()
        model._forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
