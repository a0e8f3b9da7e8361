"""Which model file a segmenter runs, and how its interpreter runs it."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from edge_runtime.inference.signatures import UNCHECKED, TrustedKeys


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

    def __post_init__(self):
        """Refuse a model or key folder that is no path, naming the option (``trusted_keys=
        False`` meant as "no check" fails closed, and says so, not deep inside ``os``).

        Raises:
            TypeError: ``model`` or ``trusted_keys`` is of another type.
        """
        if not (self.model is None or _is_path(self.model)):
            raise TypeError(
                f"got model {self.model!r}, expected a path or None (the bundled model)"
            )
        keys = self.trusted_keys
        if not (keys is None or keys is UNCHECKED or _is_path(keys)):
            raise TypeError(
                f"got trusted_keys {keys!r}, expected a path, None ($EDGE_SEG_TRUSTED_KEYS) or "
                "UNCHECKED"
            )


def _is_path(value: object) -> bool:
    """Whether ``value`` names a file (``UNCHECKED``, a string too, does not)."""
    return isinstance(value, str | os.PathLike) and value is not UNCHECKED


DEFAULT_RUNTIME = RuntimeOptions()
"""The bundled model on one CPU thread, signed as ``$EDGE_SEG_TRUSTED_KEYS`` requires."""
