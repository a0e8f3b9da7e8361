"""Interpreter creation: the only place that picks the LiteRT backend, threads and delegate."""

import ctypes
import importlib
from numbers import Integral
from pathlib import Path
from types import ModuleType

from edge_runtime.errors import EdgeSegError, ModelError, first_line
from edge_runtime.inference.model_file import read_model_bytes

BACKENDS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")
"""Interpreter modules in order of preference: LiteRT, then the legacy tflite-runtime."""

EDGETPU_LIBRARY = "libedgetpu.so.1"
EDGETPU_CUSTOM_OP = "edgetpu-custom-op"
DELEGATES = ("edgetpu",)

MAX_THREADS = 64
"""Most interpreter threads accepted (a Raspberry Pi has 4 cores, a large host a few dozen)."""


def load_backend() -> ModuleType:
    """The first importable interpreter module of :data:`BACKENDS`.

    Raises:
        EdgeSegError: neither ai-edge-litert nor tflite-runtime is installed.
    """
    for name in BACKENDS:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise EdgeSegError(
        "no LiteRT interpreter: pip install ai-edge-litert "
        "(or tflite-runtime with numpy<2 where ai-edge-litert has no wheel)"
    )


def backend_name() -> str:
    """Distribution name of the interpreter backend in use, with its version when known."""
    module = load_backend()
    package = "ai-edge-litert" if module.__name__.startswith("ai_edge_litert") else "tflite-runtime"
    version = getattr(importlib.import_module(module.__name__.split(".")[0]), "__version__", None)
    return f"{package} {version}" if version else package


def compiled_for_edgetpu(content: bytes) -> bool:
    """Whether a model's bytes hold an Edge TPU compiled graph (``edgetpu_compiler`` output)."""
    return EDGETPU_CUSTOM_OP.encode() in content


def _edgetpu_delegate(backend: ModuleType):
    # load the library ourselves first: when the backend's loader fails to, its half-made
    # Delegate object prints an "Exception ignored" traceback as it is collected
    try:
        ctypes.CDLL(EDGETPU_LIBRARY)
        return backend.load_delegate(EDGETPU_LIBRARY)
    except (ValueError, RuntimeError, OSError) as exc:
        raise EdgeSegError(
            f"cannot load the Edge TPU delegate {EDGETPU_LIBRARY} ({first_line(exc)}); "
            "install libedgetpu and plug in the accelerator"
        ) from None


def make_interpreter(
    model: str | Path | bytes,
    threads: int = 1,
    delegate: str | None = None,
    default_delegates: bool = True,
    name: str | None = None,
):
    """Create an interpreter for a model file or its bytes; tensors are not yet allocated.

    Args:
        model: path of a .tflite file, or its content.
        threads: CPU threads for the interpreter's kernels, 1 to :data:`MAX_THREADS`.
        delegate: ``None`` for the CPU, or ``"edgetpu"`` to run on a Coral Edge TPU through
            ``libedgetpu.so.1`` (the model must be compiled with ``edgetpu_compiler``).
        default_delegates: apply the backend's default CPU delegate (XNNPACK). Turn off to see the
            model's own operators, e.g. for an op audit.
        name: what messages call the model (default: its path, or "model bytes").

    Raises:
        ModelError: the file is not a loadable TFLite model, or is compiled for the Edge TPU
            and no delegate was asked for (or the other way round).
        EdgeSegError: no backend is installed, or the Edge TPU delegate cannot be used.
    """
    if isinstance(model, bytes):
        content, name = model, name or "model bytes"
    else:
        content, name = read_model_bytes(model), name or str(model)
    whole = isinstance(threads, Integral) and not isinstance(threads, bool)  # numpy's too
    if not (whole and 1 <= threads <= MAX_THREADS):
        raise ValueError(f"got threads {threads!r}, expected a whole number 1..{MAX_THREADS}")
    backend = load_backend()
    options = {"model_content": content, "num_threads": int(threads)}
    if delegate == "edgetpu":
        if not compiled_for_edgetpu(content):
            raise ModelError(
                f"{name}: not compiled for the Edge TPU (no {EDGETPU_CUSTOM_OP}); "
                "compile it with edge-seg convert --edgetpu"
            )
        options["experimental_delegates"] = [_edgetpu_delegate(backend)]
    elif delegate is not None:
        raise ValueError(f"got delegate {delegate!r}, expected None or one of {DELEGATES}")
    elif compiled_for_edgetpu(content) and default_delegates:
        raise ModelError(f"{name}: compiled for the Edge TPU; run it with --delegate edgetpu")
    if not default_delegates:
        options["experimental_op_resolver_type"] = (
            backend.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    try:
        return backend.Interpreter(**options)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(
            f"{name}: cannot be loaded as a TFLite model ({first_line(exc)})"
        ) from None
