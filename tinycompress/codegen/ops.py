"""The op support table: TFLite op -> C kernel -> constraints.

One row per supported op. ``kernel`` is the runtime function the generated
code calls (``None`` = a view: no code, the output shares the input's arena
bytes). A later per-layer choice of kernel (an arch-optimised variant, a
packed weight format) only has to change what a row's ``params`` returns and
which symbol is called; the planner and emitter stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinycompress.codegen import layers as L
from tinycompress.errors import TinyCompressError, UnsupportedError
from tinycompress.tflite.ir import Model


@dataclass(frozen=True)
class OpSpec:
    kernel: str | None
    constraints: str
    check: Callable[[L.Ctx], None]
    params: Callable[[L.Ctx], L.Layer] | None
    macs: Callable[[L.Ctx], int]
    gaps: Callable[[L.Ctx], dict[int, int]]


_ACT = "fused NONE/RELU/RELU6/RELU_N1_TO_1"
_EW = "int8, per-tensor, same element count; in place"

OPS: dict[str, OpSpec] = {
    "CONV_2D": OpSpec(
        "tc_conv_s8",
        f"int8 NHWC; int8 OHWI filter, per-channel or per-tensor; optional int32 bias; "
        f"any stride/dilation; SAME/VALID; {_ACT}; output overlaps input in raster order",
        L.check_conv, L.params_conv, L.macs_conv, L.gaps_conv),
    "DEPTHWISE_CONV_2D": OpSpec(
        "tc_depthwise_conv_s8",
        f"int8 NHWC; any depth multiplier; per-channel filter; any stride/dilation; {_ACT}",
        L.check_depthwise, L.params_depthwise, L.macs_depthwise, L.gaps_depthwise),
    "FULLY_CONNECTED": OpSpec(
        "tc_fully_connected_s8",
        f"int8 input of any rank (batches = size / depth); int8 [units, depth] weights; {_ACT}",
        L.check_fully_connected, L.params_fully_connected, L.macs_fully_connected, L.gaps_none),
    "AVERAGE_POOL_2D": OpSpec(
        "tc_avgpool_s8", f"int8 NHWC, same input/output quantization; SAME/VALID; {_ACT}",
        L.check_pool, L.params_pool, L.macs_pool, L.gaps_pool),
    "MAX_POOL_2D": OpSpec(
        "tc_maxpool_s8", f"int8 NHWC, same input/output quantization; SAME/VALID; {_ACT}",
        L.check_pool, L.params_pool, L.macs_pool, L.gaps_pool),
    "ADD": OpSpec("tc_add_s8", f"int8, 4-D broadcasting; {_ACT}; in place",
                  L.check_binary, L.params_add, L.macs_elementwise, L.gaps_binary),
    "MUL": OpSpec("tc_mul_s8", f"int8, 4-D broadcasting; {_ACT}; in place",
                  L.check_binary, L.params_mul, L.macs_elementwise, L.gaps_binary),
    "SOFTMAX": OpSpec("tc_softmax_s8", "int8 over the last axis; output scale 1/256, zp -128",
                      L.check_softmax, L.params_softmax, L.macs_elementwise, L.gaps_unary),
    "LOGISTIC": OpSpec("tc_lut_s8", f"{_EW}; output scale 1/256, zp -128; 256-entry table",
                       L.check_logistic, L.params_logistic, L.macs_elementwise, L.gaps_unary),
    "TANH": OpSpec("tc_lut_s8", f"{_EW}; output scale 1/128, zp 0; 256-entry table",
                   L.check_tanh, L.params_tanh, L.macs_elementwise, L.gaps_unary),
    "RELU": OpSpec("tc_relu_s8", _EW, L.check_unary, L.params_relu, L.macs_elementwise, L.gaps_unary),
    "RELU6": OpSpec("tc_relu6_s8", _EW, L.check_unary, L.params_relu6, L.macs_elementwise,
                    L.gaps_unary),
    "QUANTIZE": OpSpec("tc_quantize_s8", f"int8 -> int8 requantization; {_EW}",
                       L.check_unary, L.params_requantize, L.macs_elementwise, L.gaps_unary),
    "RESHAPE": OpSpec(None, "int8, same quantization: a view", L.check_view, None, L.macs_none,
                      L.gaps_none),
    "SQUEEZE": OpSpec(None, "int8, same quantization: a view", L.check_view, None, L.macs_none,
                      L.gaps_none),
    "EXPAND_DIMS": OpSpec(None, "int8, same quantization: a view", L.check_view, None,
                          L.macs_none, L.gaps_none),
    "PAD": OpSpec("tc_pad_s8", "int8 rank <= 4, constant int32 paddings",
                  L.check_pad, L.params_pad, L.macs_none, L.gaps_none),
    "PADV2": OpSpec("tc_pad_s8", "int8 rank <= 4, constant paddings and int8 constant value",
                    L.check_pad, L.params_pad, L.macs_none, L.gaps_none),
    "MEAN": OpSpec("tc_mean_s8", "int8 rank <= 4, constant axes", L.check_mean, L.params_mean,
                   L.macs_mean, L.gaps_none),
    "CONCATENATION": OpSpec("tc_concat_s8", "int8, 1..16 inputs, rank <= 4, no fused activation",
                            L.check_concat, L.params_concat, L.macs_none, L.gaps_none),
}

_HINT = (
    "replace them with supported layers (e.g. Conv2D, DepthwiseConv2D, Dense, pooling, Add, "
    "ReLU, Softmax) and convert again"
)


def check_supported(model: Model) -> None:
    """Raise one error listing every unsupported op with its node index, or nothing."""
    missing = [f"{op.op} (node {op.index})" for op in model.operators if op.op not in OPS]
    if missing:
        raise UnsupportedError(
            f"{'op' if len(missing) == 1 else 'ops'} {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not supported; supported ops: "
            f"{', '.join(sorted(OPS))}; {_HINT}"
        )
    for op in model.operators:
        spec = OPS[op.op]
        ctx = L.Ctx(model, op)
        try:
            spec.check(ctx)
            if spec.params is not None:
                _check_ranges(ctx, spec.params(ctx))
        except (ValueError, OverflowError, ZeroDivisionError) as exc:
            raise ctx.fail(f"has quantization parameters the int8 kernels cannot represent ({exc})") from None
        except TinyCompressError as exc:
            if f"(node {op.index})" in str(exc):
                raise
            raise type(exc)(f"op {op.op} (node {op.index}): {exc}") from None


def _check_ranges(ctx: L.Ctx, layer: L.Layer) -> None:
    """Shifts and multipliers must be in the ranges tc_runtime.h documents."""
    values: list[tuple[str, int]] = []
    for key, value in layer.params.items():
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            values.append((key, int(value)))
    for suffix, (dtype, array) in layer.arrays.items():
        if dtype == "int32" and suffix in ("mult", "shift"):
            values.extend((suffix, int(v)) for v in np.asarray(array).ravel())
    for key, value in values:
        if "shift" in key and not -31 <= value <= 30:
            raise ctx.fail(f"needs a requantization shift of {value} (outside -31..30): "
                           "its scales are extreme")
        if not -(2**31) <= value < 2**31:
            raise ctx.fail(f"has {key} = {value}, outside int32")
