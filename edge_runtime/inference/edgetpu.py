"""Edge TPU readiness audit of a LiteRT model, from its operators and tensors.

The Edge TPU runs a fully int8/uint8, static-shape, batch-1 model; the compiler maps operators in
execution order and stops at the first unsupported one: it and every operator after it run on the
CPU. The supported set follows Coral's operation table (coral.ai/docs/edgetpu/models-intro).
"""

import numpy as np

from edge_runtime.inference.interpreter import EDGETPU_CUSTOM_OP

EDGETPU_OPS = frozenset(
    {
        "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
        "EXPAND_DIMS", "FULLY_CONNECTED", "L2_NORMALIZATION", "LOGISTIC", "LSTM", "MAXIMUM",
        "MAX_POOL_2D", "MEAN", "MINIMUM", "MUL", "PACK", "PAD", "PRELU", "QUANTIZE",
        "REDUCE_MAX", "REDUCE_MIN", "RELU", "RELU6", "RELU_N1_TO_1", "RESHAPE",
        "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SLICE", "SOFTMAX",
        "SPACE_TO_DEPTH", "SPLIT", "SQUARED_DIFFERENCE", "SQUEEZE", "STRIDED_SLICE", "SUB",
        "SUM", "TANH", "TRANSPOSE", "TRANSPOSE_CONV", EDGETPU_CUSTOM_OP,
    }
)  # fmt: skip
"""Operators the Edge TPU compiler can map (DEQUANTIZE only as the model's last step)."""

INTEGER_TYPES = (np.int8, np.uint8)


def _ids(indices) -> set[int]:
    return {int(i) for i in indices}


def _is_final_dequantize(op: dict, output_ids: set[int]) -> bool:
    return op["op_name"] == "DEQUANTIZE" and _ids(op["outputs"]) <= output_ids


def _placement_issues(ops: list[dict], output_ids: set[int]) -> list[str]:
    cpu = [
        i
        for i, op in enumerate(ops)
        if op["op_name"] not in EDGETPU_OPS and not _is_final_dequantize(op, output_ids)
    ]
    if not cpu:
        return []
    first = ops[cpu[0]]["op_name"]
    others = sorted({ops[i]["op_name"] for i in cpu} - {first})
    return [
        f"{first} is not supported; it and every op after it "
        f"({len(ops) - cpu[0]} of {len(ops)} ops) would run on the CPU",
        *(f"{name} is not supported either" for name in others),
    ]


def _dtype_issues(
    ops: list[dict], tensors: dict[int, dict], input_ids: set[int], output_ids: set[int]
) -> list[str]:
    float_ends = {
        i for op in ops if op["op_name"] == "QUANTIZE" for i in _ids(op["inputs"]) & input_ids
    }
    float_ends |= {
        i for op in ops if _is_final_dequantize(op, output_ids) for i in _ids(op["outputs"])
    }
    activations = input_ids | {i for op in ops for i in _ids(op["outputs"])}
    issues = []
    for index in sorted(activations - float_ends):
        dtype = np.dtype(tensors[index]["dtype"])
        if dtype.type not in INTEGER_TYPES:
            issues.append(
                f"tensor '{tensors[index]['name']}' is {dtype.name}; "
                "the Edge TPU needs int8/uint8 activations (full-integer quantization)"
            )
    return issues


def audit_edgetpu(
    ops: list[dict], tensors: list[dict], inputs: list[dict], outputs: list[dict]
) -> list[str]:
    """Reasons a model would not run entirely on the Edge TPU; empty when it is ready.

    Args:
        ops: the interpreter's operator details in execution order (``_get_ops_details()`` of an
            interpreter created without default delegates).
        tensors: ``get_tensor_details()``.
        inputs: ``get_input_details()``.
        outputs: ``get_output_details()``.
    """
    input_ids = _ids(d["index"] for d in inputs)
    output_ids = _ids(d["index"] for d in outputs)
    by_index = {int(t["index"]): t for t in tensors}
    issues = _placement_issues(ops, output_ids)
    issues += _dtype_issues(ops, by_index, input_ids, output_ids)
    issues += [
        f"tensor '{t['name']}' has a dynamic shape {[int(d) for d in t['shape_signature']]}"
        for t in tensors
        if -1 in t["shape_signature"]
    ]
    issues += [
        f"input '{d['name']}' has batch {int(d['shape'][0])}, expected 1"
        for d in inputs
        if int(d["shape"][0]) != 1
    ]
    return issues
