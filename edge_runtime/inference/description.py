"""What a model file is: model card, tensors, operators and Edge TPU readiness (for ``info``)."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.contract.model_card import ModelCard
from edge_runtime.contract.preprocessing import MODEL_INPUTS
from edge_runtime.contract.schema import encode
from edge_runtime.errors import ModelError, first_line
from edge_runtime.inference.bundled import DEFAULT_MODEL, resolve_model
from edge_runtime.inference.edgetpu import audit_edgetpu
from edge_runtime.inference.interpreter import backend_name, make_interpreter
from edge_runtime.inference.model_file import read_card, read_model_bytes
from edge_runtime.inference.patch_model import check_ports
from edge_runtime.inference.quantization import tensor_quantization
from edge_runtime.inference.signatures import (
    TrustedKeys,
    configured_keys,
    signature_of,
    verify_model,
)


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @classmethod
    def of(cls, detail: dict) -> "TensorInfo":
        scale, zero_point = tensor_quantization(detail)
        shape = tuple(int(d) for d in detail["shape_signature"])
        return cls(str(detail["name"]), shape, np.dtype(detail["dtype"]).name, scale, zero_point)


@dataclass(frozen=True)
class ModelReport:
    """A model file described: its card (``None`` without one; the defaults are then in
    effect), tensors, operators in execution order, why it would not run wholly on the Edge
    TPU (empty when it would), and its signature: the key its signature file names
    (``signature_key_id``), ``signed_by`` that key only once verified against trusted keys,
    and ``signature_issue`` when the signature file is damaged or signs other bytes."""

    model: str
    default_model: bool
    size_bytes: int
    backend: str
    card: ModelCard | None
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    ops: tuple[str, ...]
    edgetpu_issues: tuple[str, ...]
    signed_by: str | None = None
    signature_key_id: str | None = None
    verified: bool | None = None
    signature_issue: str | None = None
    problem: str | None = None
    """Why the runtime would refuse to run it (its tensors are not those of its kind), or
    ``None``."""

    @property
    def settings(self) -> ModelCard:
        """The card in effect: the model's own, or the defaults."""
        return self.card or ModelCard()

    def to_json(self) -> dict:
        """JSON-ready keys: ``model``, ``default_model``, ``size_bytes``, ``backend``,
        ``metadata`` (the card or None), ``settings`` (threshold, channel, patch size,
        preprocessing in effect), ``inputs``, ``outputs``, ``ops``, ``op_counts``,
        ``edgetpu_ready``, ``edgetpu_issues``, ``signed_by`` (the key that signed it, only
        when verified), ``signature_key_id`` (the key the signature file names, verified or
        not), ``signature_verified`` (None without trusted keys), ``signature_issue`` (why the
        signature file beside the model is damaged), ``problem`` (why the runtime would refuse
        to run it, or None)."""
        settings = self.settings
        return {
            "model": self.model,
            "default_model": self.default_model,
            "size_bytes": self.size_bytes,
            "backend": self.backend,
            "metadata": encode(self.card),
            "settings": {
                "threshold": settings.threshold,
                "channel": settings.channel,
                "patch_size": settings.patch_size,
                "preprocessing": settings.preprocessing.name,
                "from_metadata": self.card is not None,
            },
            "inputs": encode(self.inputs),
            "outputs": encode(self.outputs),
            "ops": list(self.ops),
            "op_counts": dict(sorted(Counter(self.ops).items())),
            "edgetpu_ready": not self.edgetpu_issues,
            "edgetpu_issues": list(self.edgetpu_issues),
            "signed_by": self.signed_by,
            "signature_key_id": self.signature_key_id,
            "signature_verified": self.verified,
            "signature_issue": self.signature_issue,
            "problem": self.problem,
        }


def _signature(path: Path, content: bytes, keys: dict | None) -> tuple[str | None, str | None]:
    """The key id a model's signature file names (verified with ``keys``, raising
    :class:`ModelError` when it does not hold; without, only checked to sign these bytes), and
    why that file is damaged."""
    if keys is not None:
        return verify_model(path, content, keys).key_id, None
    try:
        signature = signature_of(path, content)
    except ModelError as exc:
        return None, str(exc)
    return (signature.key_id if signature else None), None


def describe_model(
    model: str | Path | None = None, trusted_keys: TrustedKeys = None
) -> ModelReport:
    """Describe a model file (the bundled default when ``model`` is None); with trusted keys
    (or ``$EDGE_SEG_TRUSTED_KEYS``), its signature is checked first.

    Raises:
        ModelError: the file is not a readable TFLite model, its card is invalid, or (with
            trusted keys) its signature does not hold.
    """
    path = resolve_model(model)
    content = read_model_bytes(path)
    keys = configured_keys(trusted_keys)
    signer, signature_issue = _signature(path, content, keys)
    try:
        card = read_card(content)
    except ValueError as exc:
        raise ModelError(f"{path}: {exc}") from None
    interpreter = make_interpreter(content, default_delegates=False, name=str(path))
    try:
        # LiteRT has no public call for the operator list; its own model analyzer and the
        # Edge TPU tooling read this one, which every backend version here provides
        ops = interpreter._get_ops_details()
        tensors = interpreter.get_tensor_details()
    except (RuntimeError, ValueError, IndexError) as exc:
        raise ModelError(f"{path}: cannot list the model's operators ({first_line(exc)})") from None
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    settings = card or ModelCard()
    try:
        channels = MODEL_INPUTS[settings.preprocessing.name].channels
        check_ports(path, inputs, outputs, settings.patch_size, channels)
        problem = None
    except ModelError as exc:
        problem = str(exc)
    return ModelReport(
        model=str(path),
        default_model=path.resolve() == DEFAULT_MODEL.resolve(),
        size_bytes=len(content),
        backend=backend_name(),
        card=card,
        inputs=tuple(TensorInfo.of(d) for d in inputs),
        outputs=tuple(TensorInfo.of(d) for d in outputs),
        ops=tuple(str(op["op_name"]) for op in ops),
        edgetpu_issues=tuple(audit_edgetpu(ops, tensors, inputs, outputs)),
        signed_by=signer if keys is not None else None,
        signature_key_id=signer,
        verified=True if keys is not None else None,
        signature_issue=signature_issue,
        problem=problem,
    )
