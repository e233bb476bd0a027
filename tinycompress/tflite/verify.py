"""Semantic checks on a parsed model: is it a graph we can trust to compile?

The reader guarantees the bytes decode; these checks guarantee the decoded
graph is consistent (indices, ordering, quantization) and int8 at its edges
(or float32 behind a QUANTIZE / DEQUANTIZE pair of ops, as the converter
emits without int8 inference types), so codegen can index and divide without
further guards.
"""

from __future__ import annotations

import math

from tinycompress.errors import ModelFormatError, UnsupportedError
from tinycompress.tflite.ir import Model, Tensor

_MIN_SCALE = 1e-30  # far below any real scale, above float32 denormals
_MAX_SCALE = 1e30
_ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255)}
_INT8_HINT = (
    "convert with tf.lite.Optimize.DEFAULT, a representative dataset, TFLITE_BUILTINS_INT8 "
    "and inference_input_type = inference_output_type = tf.int8"
)


def verify(model: Model, what: str = "the model") -> Model:
    """Return ``model`` unchanged, or raise a ``TinyCompressError`` naming the first problem."""
    _check_graph(model, what)
    for tensor in model.tensors:
        _check_quantization(tensor, what)
    _check_edges(model, what)
    return model


def _bad(what: str, problem: str) -> ModelFormatError:
    return ModelFormatError(f"{what} is invalid: {problem}; re-export it with the TFLite converter")


def _check_graph(model: Model, what: str) -> None:
    n = len(model.tensors)
    if not model.operators:
        raise _bad(what, "it has no operators")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UnsupportedError(
            f"{what} has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
            "only single-input, single-output models are supported"
        )
    for kind, index in (("input", model.inputs[0]), ("output", model.outputs[0])):
        if not 0 <= index < n:
            raise _bad(what, f"graph {kind} refers to tensor {index} but there are {n} tensors")
    available = {model.inputs[0]} | {t.index for t in model.tensors if t.is_constant}
    produced: set[int] = set()
    for op in model.operators:
        for i in op.inputs:
            if not -1 <= i < n:
                raise _bad(what, f"node {op.index} ({op.op}) input refers to tensor {i} of {n}")
            if i >= 0 and i not in available:
                raise _bad(
                    what,
                    f"node {op.index} ({op.op}) reads tensor {i} ({model.tensors[i].name}) "
                    "before any node produces it",
                )
        if not op.outputs:
            raise _bad(what, f"node {op.index} ({op.op}) has no outputs")
        for o in op.outputs:
            if not 0 <= o < n:
                raise _bad(what, f"node {op.index} ({op.op}) output refers to tensor {o} of {n}")
            if o in produced or o in available:
                raise _bad(what, f"tensor {o} ({model.tensors[o].name}) is written twice")
            produced.add(o)
            available.add(o)
    if model.outputs[0] not in produced:
        raise _bad(what, "no node produces the graph output")


def _check_quantization(tensor: Tensor, what: str) -> None:
    q = tensor.quant
    if q is None:
        return
    label = f"tensor {tensor.index} ({tensor.name})"
    if not all(math.isfinite(s) and _MIN_SCALE <= s <= _MAX_SCALE for s in q.scale):
        raise _bad(what, f"{label} has a zero, negative, non-finite or extreme quantization scale")
    if len(q.zero_point) not in (1, len(q.scale)):
        raise _bad(what, f"{label} has {len(q.scale)} scales but {len(q.zero_point)} zero points")
    if q.per_channel:
        if not 0 <= q.axis < len(tensor.shape) or tensor.shape[q.axis] != len(q.scale):
            raise _bad(
                what,
                f"{label} has {len(q.scale)} per-channel scales along axis {q.axis} "
                f"of shape {list(tensor.shape)}",
            )
    low, high = _ZERO_POINT_RANGE.get(tensor.dtype, (0, 0))
    for zp in q.zero_point:
        if not low <= zp <= high:
            raise _bad(what, f"{label} ({tensor.dtype}) has zero point {zp} outside [{low}, {high}]")


def _float_edge(model: Model, kind: str, tensor: Tensor) -> bool:
    """A float32 edge of a full-int8 model converted without int8 I/O types: the input
    feeds only QUANTIZE ops, the output comes from a DEQUANTIZE."""
    if tensor.dtype != "float32":
        return False
    if kind == "input":
        readers = [op.op for op in model.operators if tensor.index in op.inputs]
        return bool(readers) and all(op == "QUANTIZE" for op in readers)
    return any(op.op == "DEQUANTIZE" and tensor.index in op.outputs for op in model.operators)


def _check_edges(model: Model, what: str) -> None:
    for kind, tensor in (("input", model.input), ("output", model.output)):
        if _float_edge(model, kind, tensor):
            continue
        if tensor.dtype != "int8":
            raise UnsupportedError(
                f"{what} has a {tensor.dtype} {kind} ({tensor.name}); an int8 model is "
                f"expected: {_INT8_HINT}"
            )
        if tensor.quant is None:
            raise ModelFormatError(
                f"{what}: the int8 {kind} {tensor.name} has no quantization parameters (scale, zero point), "
                f"so its values have no real meaning; re-export it fully quantized: {_INT8_HINT}"
            )
        if tensor.quant.per_channel:
            raise _bad(what, f"graph {kind} {tensor.name} has per-channel quantization")
