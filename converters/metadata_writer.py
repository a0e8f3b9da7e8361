"""Build a converted model's card and embed it in the .tflite flatbuffer (host side, TensorFlow)."""

import dataclasses
import datetime
import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from edge_runtime import __version__
from edge_runtime.contract.bound_settings import (
    BoundRecord,
    edited_settings,
    setting,
    unbound_settings,
)
from edge_runtime.contract.metrics import DEFAULT_THRESHOLD
from edge_runtime.contract.model_card import METADATA_NAME, ModelCard, TensorCoding, TrainingSummary
from edge_runtime.contract.training_record import RECORD_FILE, TrainingRecord
from edge_runtime.data.patches import file_sha256
from edge_runtime.errors import InputError
from edge_runtime.inference.model_file import ZERO_DIGEST, digest_field
from edge_runtime.inference.quantization import tensor_quantization
from training.models import architecture_of, multiply_accumulates


def _embed_text(content: bytes, text: bytes) -> bytes:
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(text, dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    kept = [m for m in (model.metadata or []) if m.name.decode() != METADATA_NAME]
    model.metadata = [*kept, entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def embed_card(content: bytes, card: ModelCard) -> bytes:
    """Return the model with ``card`` as JSON under :data:`METADATA_NAME`, replacing any.

    The card records the model's digest
    (:func:`~edge_runtime.inference.model_file.model_digest`): it is embedded with a digest of
    zeros, the file hashed, and the zeros overwritten with the digest in place (nothing else in
    the file moves).
    """
    if METADATA_NAME.encode() in content:
        content = _without_card(content)
    draft = _embed_text(
        content, dataclasses.replace(card, model_sha256=ZERO_DIGEST).to_json().encode()
    )
    digest = hashlib.sha256(draft).hexdigest()
    assert draft.count(digest_field(ZERO_DIGEST)) == 1
    return draft.replace(digest_field(ZERO_DIGEST), digest_field(digest))


def _without_card(content: bytes) -> bytes:
    """The model without its card: the entry gone, its buffer emptied (no tensor uses it)."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    for entry in model.metadata or []:
        if entry.name.decode() == METADATA_NAME:
            model.buffers[entry.buffer].data = None
    model.metadata = [m for m in (model.metadata or []) if m.name.decode() != METADATA_NAME]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def tensor_coding(detail: dict) -> TensorCoding:
    """The dtype and quantization of an interpreter's input or output tensor."""
    scale, zero_point = tensor_quantization(detail)
    return TensorCoding(np.dtype(detail["dtype"]).name, scale, zero_point)


ANOTHER_RUNS_RECORD = (
    "not its run's record (a run stopped while writing its files, or a record copied or edited?)"
)
"""Why a run's record that does not describe the model beside it is refused."""


def run_record(keras_path: Path, model) -> TrainingRecord | None:
    """The checked record of the run a Keras model came from (``metrics.json``), if any.

    It must count the parameters of ``model`` (loaded from ``keras_path``), and name its
    architecture and width and count its multiply-accumulates: the model file is the truth.

    Its card takes the run's channel and threshold, and the gate, running both models alike,
    would not see another run's (a run stopped between writing its files, a record copied or
    edited).

    Without one, a warning says what the card then records.

    Raises:
        InputError: the record is there but invalid, or says another model.
    """
    path = keras_path.parent / RECORD_FILE
    if not os.path.lexists(path):
        warnings.warn(
            f"{path}: missing, so the card says nothing of the model's training, and records "
            f"the luma channel and threshold {DEFAULT_THRESHOLD} (unless --threshold): right "
            "only for a model trained so (a model moved out of its run folder?)",
            stacklevel=2,
        )
        return None
    try:
        record = TrainingRecord.read(path)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    parameters = model.count_params()
    refuse_another_runs_record(path, record.params, keras_path, parameters, record.model_sha256)
    refuse_edited_settings(path, record, keras_path)
    refuse_another_architecture(path, record, keras_path, model)
    return record


def refuse_another_runs_record(
    record_path: Path, recorded: int, keras_path: Path, parameters: int, digest: str | None
) -> None:
    """Refuse a run's record that is not the Keras model's beside it.

    ``record_path`` counts ``recorded`` parameters and records the model file's ``digest``
    (SHA-256; ``None`` in older records, which only the count checks); the model at
    ``keras_path`` has ``parameters``.

    Raises:
        InputError: the counts or the digests differ.
    """
    if recorded != parameters:
        raise InputError(
            f"{record_path}: records a model of {recorded:,} parameters, but {keras_path} has "
            f"{parameters:,}: {ANOTHER_RUNS_RECORD}"
        )
    if digest is not None and digest != file_sha256(keras_path):
        raise InputError(
            f"{record_path}: records another model file than {keras_path} (SHA-256 "
            f"{digest[:12]}...): {ANOTHER_RUNS_RECORD}"
        )


_ANOTHER_HOLDOUT = "a run keeps what it held out: train again for another holdout"

ANOTHER_SETTING = {
    "threshold": "to record another threshold, leave the record as written and pass --threshold",
    "channel": "a model keeps the channel it was trained in: train again for another",
    "holdout": _ANOTHER_HOLDOUT,
    "holdout_patches": _ANOTHER_HOLDOUT,
    "holdout_photos": _ANOTHER_HOLDOUT,
    "start": "a run keeps what it started from: train again for another recipe or --init",
    "training.fov_diameter": (
        "a model keeps the scale it was trained at: train again for another field of view"
    ),
}
"""What to do instead of editing each bound setting
(:attr:`~edge_runtime.contract.bound_settings.BoundRecord.BOUND_SETTINGS`) in a record."""


def _listed(names: Sequence[str]) -> str:
    """``names`` as a sentence lists them ("a, b and c")."""
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def _said(record: BoundRecord, name: str) -> str:
    """A setting named with its value where that is one number, name, flag or null."""
    value = setting(record, name)
    one = isinstance(value, (str, int, float, type(None)))
    return f"{name} {json.dumps(value)}" if one else name


def refuse_edited_settings(record_path: Path, record: BoundRecord, keras_path: Path) -> None:
    """Refuse a run's record whose bound settings are not those its run wrote for its model.

    A record of an earlier version binds none of them, or some (the threshold and channel
    alone, as the release record does): it is taken, as one without a width or a model digest
    is, and a warning says that the settings it does not bind, which nothing else checks, go
    unchecked.

    Raises:
        InputError: naming the record, each setting edited and its value.
    """
    unbound = unbound_settings(record)
    if unbound:
        warnings.warn(
            f"{record_path}: a record of an earlier version, which does not bind its "
            f"{_listed(unbound)} to {keras_path}: taken as written, unchecked "
            "(a value edited by hand would go unnoticed; train again for a bound record)",
            stacklevel=2,
        )
    edited = edited_settings(record)
    if edited:
        said = _listed([_said(record, name) for name in edited])
        raise InputError(
            f"{record_path}: its {said} {'is' if len(edited) == 1 else 'are'} not what its run "
            f"wrote for {keras_path} (edited by hand?); "
            + "; ".join(dict.fromkeys(ANOTHER_SETTING[name] for name in edited))
        )


def refuse_another_architecture(
    record_path: Path, record: TrainingRecord, keras_path: Path, model
) -> None:
    """Refuse a run's record that says another architecture, width or cost than ``model``'s.

    The model (loaded from ``keras_path``) is the truth: its
    :func:`~training.models.architecture_of` and :func:`~training.models.multiply_accumulates`.
    A record without a width (older ones) is checked for the architecture only.

    Raises:
        InputError: naming the record, what it says and what the model is.
    """
    found = architecture_of(model)
    arch, width = found or (None, None)
    if record.arch != arch or record.width not in (width, None):
        said = _architecture(record.arch, record.width)
        model_is = (
            f"a {_architecture(arch, width)}"
            if found
            else "of none of this package's architectures"
        )
        raise InputError(
            f"{record_path}: records a {said} model, but {keras_path} is {model_is}: "
            f"{ANOTHER_RUNS_RECORD}"
        )
    macs = multiply_accumulates(model)
    if record.macs_per_patch != macs:
        raise InputError(
            f"{record_path}: records {record.macs_per_patch:,} multiply-accumulates a patch, but "
            f"{keras_path} makes {macs:,}: {ANOTHER_RUNS_RECORD}"
        )


def _architecture(arch: str | None, width: int | None) -> str:
    return f"{arch} (width {width})" if width is not None else str(arch)


def build_card(
    record: TrainingRecord | None,
    interpreter,
    quantization: str,
    threshold: float | None,
    model_version: str,
    parameters: int,
) -> ModelCard:
    """The card of a converted model, without a gate (the caller adds it after the gate).

    The threshold is ``threshold`` if given, else the one tuned in training (the run's
    ``record``, :func:`run_record`), else the default; the patch size is the side of the
    converted model's input.
    """
    if threshold is None:
        threshold = record.threshold if record else DEFAULT_THRESHOLD
    model_input = interpreter.get_input_details()[0]
    return ModelCard(
        model_version=model_version,
        patch_size=int(model_input["shape"][1]),
        architecture=record.arch if record else "unknown",
        width=record.width if record else None,
        parameters=parameters,
        macs_per_patch=record.macs_per_patch if record else None,
        threshold=threshold,
        channel=record.channel if record else "luma",
        quantization=quantization,
        input=tensor_coding(model_input),
        output=tensor_coding(interpreter.get_output_details()[0]),
        training_data_sha256=record.data_sha256 if record else None,
        training=(
            TrainingSummary(
                record.loss,
                record.epochs,
                record.seed,
                record.holdout,
                record.started_from,
                record.held_out_best_epoch,
            )
            if record
            else None
        ),
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        package_version=__version__,
    )
