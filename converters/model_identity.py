"""Whether one .tflite file is another's model (host side, TensorFlow's flatbuffer schema).

It is when it is the same file without its card, or that file's Edge TPU build.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from edge_runtime.errors import ModelError
from edge_runtime.inference.interpreter import EDGETPU_CUSTOM_OP


@dataclass(frozen=True)
class Port:
    """An input or output tensor as a caller sees it: shape, type and quantization."""

    shape: tuple[int, ...]
    dtype: int
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]


@dataclass(frozen=True)
class Graph:
    """What a model computes: its ports, and (outside an Edge TPU build) the rest of it.

    The rest: its ops, how they are wired and set, every tensor's shape, type and quantization,
    and the weights.
    """

    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    compiled: bool
    ops: tuple[tuple, ...]
    tensors: tuple[Port, ...]
    weights: tuple[bytes, ...]


def _values(array) -> tuple:
    """A flatbuffer vector (a numpy array, a list, or ``None``) as a tuple of numbers."""
    return tuple(np.asarray(array if array is not None else ()).ravel().tolist())


def _port(tensor: schema.TensorT) -> Port:
    quantization = tensor.quantization
    return Port(
        _values(tensor.shape),
        int(tensor.type),
        _values(quantization.scale if quantization is not None else None),
        _values(quantization.zeroPoint if quantization is not None else None),
    )


def _op(codes: list[str], op: schema.OperatorT) -> tuple:
    """An op as what it computes: its kind, its tensors and its settings (stride, padding...)."""
    options = vars(op.builtinOptions) if op.builtinOptions is not None else {}
    settings = tuple(sorted((key, repr(value)) for key, value in options.items()))
    return codes[op.opcodeIndex], _values(op.inputs), _values(op.outputs), settings


def _op_name(code: schema.OperatorCodeT) -> str:
    if code.customCode:
        return code.customCode.decode()
    return str(max(code.builtinCode, code.deprecatedBuiltinCode))


def read_graph(content: bytes, name: Path) -> Graph:
    """The :class:`Graph` of a model's first subgraph.

    Raises:
        ModelError: the file is not a whole TFLite flatbuffer (truncated, say).
    """
    try:
        model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
        graph = model.subgraphs[0]
        codes = [_op_name(c) for c in model.operatorCodes]
        ops = tuple(_op(codes, op) for op in graph.operators)
        tensors = tuple(_port(t) for t in graph.tensors)
        weights = tuple(
            bytes(model.buffers[t.buffer].data)
            for t in graph.tensors
            if t.buffer and model.buffers[t.buffer].data is not None
        )
        ports = tuple(tensors[i] for i in (*graph.inputs, *graph.outputs))
    except Exception:  # the generated reader raises whatever a damaged buffer makes it raise
        raise ModelError(f"{name}: not a whole TFLite model (truncated or damaged)") from None
    inputs = len(graph.inputs)
    compiled = EDGETPU_CUSTOM_OP in {op[0] for op in ops}
    return Graph(ports[:inputs], ports[inputs:], compiled, ops, tensors, weights)


def check_same_model(source: bytes, source_name: Path, target: bytes, target_name: Path) -> bool:
    """Refuse a ``target`` that is not ``source``'s model, before its card is copied there.

    A target is ``source``'s model when its ops, tensors and weights are ``source``'s, or, for an
    Edge TPU build (whose weights the compiler packs into its own op), when its inputs and outputs
    have ``source``'s shapes, types and quantization. Every vessel model of one patch size has
    the same inputs and outputs, so a build's check tells kinds apart, not models; returns
    whether ``target`` is such a build.

    Raises:
        ModelError: either file is damaged, or the target is another model (the card, with its
            gate, would certify a model it was never measured on).
    """
    was, now = read_graph(source, source_name), read_graph(target, target_name)
    if (was.inputs, was.outputs) != (now.inputs, now.outputs):
        raise ModelError(
            f"{target_name}: its inputs or outputs (shape, type, quantization) are not those of "
            f"{source_name}; it is another model, and the card is not copied"
        )
    if not now.compiled and (was.ops, was.tensors, was.weights) != (
        now.ops,
        now.tensors,
        now.weights,
    ):
        raise ModelError(
            f"{target_name}: its ops, tensors or weights are not those of {source_name} (nor is "
            "it an Edge TPU build of it); it is another model, and the card is not copied"
        )
    return now.compiled
