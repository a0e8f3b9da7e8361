"""Import optional dependencies only where a command needs them, with a one-line hint."""

import importlib
from types import ModuleType

import click

from edge_runtime.native_logs import quiet_tensorflow, silenced

EXTRA_HINTS = {
    "train": "TensorFlow",
    "demo": "scikit-image",
}


class MissingExtra(click.ClickException):
    """A command's optional dependency is not installed: a setup problem (exit status 2, as a
    bad option's), never read as inputs that failed or a failed gate (1)."""

    exit_code = 2


def import_extra(module: str, extra: str) -> ModuleType:
    """Import ``module`` or fail with a one-line error naming the package extra that provides it
    (:class:`MissingExtra`)."""
    quiet_tensorflow()
    try:
        with silenced():  # TensorFlow announces its instruction sets, oneDNN and absl on import
            return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"{EXTRA_HINTS[extra]} is not installed: install the '{extra}' extra "
            f"(in the project's checkout: pip install -e '.[{extra}]')"
        ) from None
