"""Which model file a segmenter runs, and how its interpreter runs it."""

from dataclasses import dataclass, field
from pathlib import Path

from edge_runtime.inference.signatures import TrustedKeys


@dataclass(frozen=True)
class RuntimeOptions:
    """How a model file is read and run (see
    :class:`~edge_runtime.inference.patch_model.PatchModel`).

    Attributes:
        model: the .tflite file; ``None`` for the model bundled with the package.
        threads: CPU threads of the interpreter.
        delegate: ``None`` (CPU) or ``"edgetpu"``.
        trusted_keys: a folder of public keys the model must be signed by; ``None`` for
            ``$EDGE_SEG_TRUSTED_KEYS`` (unset: no check);
            :data:`~edge_runtime.inference.signatures.UNCHECKED` for no check.
        model_content: the bytes of ``model``, already read and checked: the file is not
            opened again, so a copy of a model in another process runs exactly the bytes
            another checked, whatever became of the file since.
    """

    model: str | Path | None = None
    threads: int = 1
    delegate: str | None = None
    trusted_keys: TrustedKeys = None
    model_content: bytes | None = field(default=None, repr=False)


DEFAULT_RUNTIME = RuntimeOptions()
"""The bundled model on one CPU thread, signed as ``$EDGE_SEG_TRUSTED_KEYS`` requires."""
