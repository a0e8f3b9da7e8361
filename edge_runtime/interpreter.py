"""Interpreter creation: the only place that picks the LiteRT backend, threads and delegate."""

import importlib
from pathlib import Path
from types import ModuleType

from edge_runtime.errors import EdgeSegError, InputError

BACKENDS = ("ai_edge_litert.interpreter", "tflite_runtime.interpreter")
"""Interpreter modules in order of preference: LiteRT, then the legacy tflite-runtime."""

EDGETPU_LIBRARY = "libedgetpu.so.1"
EDGETPU_CUSTOM_OP = "edgetpu-custom-op"
DELEGATES = ("edgetpu",)


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


def read_model_bytes(model: str | Path) -> bytes:
    """Read a model file, checking that it is a TFLite flatbuffer ('TFL3' identifier)."""
    path = Path(model)
    if not path.exists():
        raise InputError(f"{path}: no such model file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a .tflite model file")
    content = path.read_bytes()
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise InputError(f"{path}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    return content


def make_interpreter(
    model: str | Path | bytes,
    threads: int = 1,
    delegate: str | None = None,
    default_delegates: bool = True,
):
    """Create an interpreter for a model file or its bytes; tensors are not yet allocated.

    Args:
        model: path of a .tflite file, or its content.
        threads: CPU threads for the interpreter's kernels.
        delegate: ``None`` for the CPU, or ``"edgetpu"`` to run on a Coral Edge TPU through
            ``libedgetpu.so.1`` (the model must be compiled with ``edgetpu_compiler``).
        default_delegates: apply the backend's default CPU delegate (XNNPACK). Turn off to see the
            model's own operators, e.g. for an op audit.

    Raises:
        InputError: the file is not a loadable TFLite model.
        EdgeSegError: no backend is installed, or the Edge TPU delegate cannot be used.
    """
    name = "<model bytes>" if isinstance(model, bytes) else str(model)
    content = model if isinstance(model, bytes) else read_model_bytes(model)
    backend = load_backend()
    options = {"model_content": content, "num_threads": threads}
    if delegate == "edgetpu":
        if EDGETPU_CUSTOM_OP.encode() not in content:
            raise EdgeSegError(
                f"{name}: not compiled for the Edge TPU (no {EDGETPU_CUSTOM_OP}); "
                "compile it with edge-seg convert --edgetpu"
            )
        try:
            options["experimental_delegates"] = [backend.load_delegate(EDGETPU_LIBRARY)]
        except (ValueError, RuntimeError, OSError) as exc:
            first_line = str(exc).strip().splitlines()[0]
            raise EdgeSegError(
                f"cannot load the Edge TPU delegate {EDGETPU_LIBRARY} ({first_line}); "
                "install libedgetpu and plug in the accelerator"
            ) from None
    elif delegate is not None:
        raise ValueError(f"got delegate {delegate!r}, expected None or one of {DELEGATES}")
    if not default_delegates:
        options["experimental_op_resolver_type"] = (
            backend.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    try:
        return backend.Interpreter(**options)
    except (ValueError, RuntimeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: cannot be loaded as a TFLite model ({first_line})") from None
