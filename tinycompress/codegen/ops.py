"""The op support table: TFLite op -> C kernel -> constraints -> prepare.

One row per supported op. ``kernel`` is the runtime function the generated
code calls (``None`` = a view: no code, the output shares the input's arena
bytes). ``prepare`` validates the node and builds its kernel call, MACs and
overlap gaps in one pass; :func:`prepare` is the one place it is called from.
A per-layer choice of kernel (an arch-optimised variant, a packed weight
format) only changes what a row's ``prepare`` returns; the planner and emitter
stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinycompress.codegen import layers as L
from tinycompress.codegen.quantization import FUSED_ACTIVATIONS
from tinycompress.codegen.storage import DEFAULT_ARCH, DEFAULT_OBJECTIVE
from tinycompress.errors import TinyCompressError, UnsupportedError
from tinycompress.tflite.ir import Model, Operator


@dataclass(frozen=True)
class OpSpec:
    kernel: str | None
    constraints: str
    prepare: Callable[[L.Ctx], L.Layer | None]  # validates and builds the call in one pass


_ACT = f"fused {'/'.join(FUSED_ACTIVATIONS)}"
_EW = "int8, per-tensor, same element count; in place"
_VIEW = "int8, same quantization: a view"

OPS: dict[str, OpSpec] = {
    "CONV_2D": OpSpec(
        "tc_conv_s8",
        f"int8 NHWC; int8 OHWI filter, per-channel or per-tensor; optional int32 bias; "
        f"any stride/dilation; SAME/VALID; {_ACT}; output overlaps input in raster order; "
        "1x1 unpadded layers call tc_conv_1x1_s8",
        L.prepare_conv),
    "DEPTHWISE_CONV_2D": OpSpec(
        "tc_depthwise_conv_s8",
        f"int8 NHWC; any depth multiplier; per-channel filter; any stride/dilation; {_ACT}",
        L.prepare_depthwise),
    "FULLY_CONNECTED": OpSpec(
        "tc_fully_connected_s8",
        f"int8 input of any rank (batches = size / depth); int8 [units, depth] weights; {_ACT}",
        L.prepare_fully_connected),
    "AVERAGE_POOL_2D": OpSpec(
        "tc_avgpool_s8", f"int8 NHWC, same input/output quantization; SAME/VALID; {_ACT}", L.prepare_pool),
    "MAX_POOL_2D": OpSpec(
        "tc_maxpool_s8", f"int8 NHWC, same input/output quantization; SAME/VALID; {_ACT}", L.prepare_pool),
    "ADD": OpSpec("tc_add_s8", f"int8, 4-D broadcasting; {_ACT}; in place", L.prepare_add),
    "MUL": OpSpec("tc_mul_s8", f"int8, 4-D broadcasting; {_ACT}; in place", L.prepare_mul),
    "SOFTMAX": OpSpec("tc_softmax_s8", "int8 over the last axis; output scale 1/256, zp -128",
                      L.prepare_softmax),
    "LOGISTIC": OpSpec("tc_lut_s8", f"{_EW}; output scale 1/256, zp -128; 256-entry table",
                       L.prepare_logistic),
    "TANH": OpSpec("tc_lut_s8", f"{_EW}; output scale 1/128, zp 0; 256-entry table", L.prepare_tanh),
    "RELU": OpSpec("tc_relu_s8", _EW, L.prepare_relu),
    "RELU6": OpSpec("tc_relu6_s8", _EW, L.prepare_relu6),
    "QUANTIZE": OpSpec("tc_quantize_s8",
                       f"int8 -> int8 requantization ({_EW}); float32 -> int8 (a float-I/O model's "
                       "input) calls tc_quantize_f32_s8",
                       L.prepare_quantize),
    "DEQUANTIZE": OpSpec("tc_dequantize_s8_f32", "int8 -> float32 (a float-I/O model's output)",
                         L.prepare_dequantize),
    "RESHAPE": OpSpec(None, _VIEW, L.prepare_view),
    "SQUEEZE": OpSpec(None, _VIEW, L.prepare_view),
    "EXPAND_DIMS": OpSpec(None, _VIEW, L.prepare_view),
    "PAD": OpSpec("tc_pad_s8", "int8 rank <= 4, constant int32 paddings", L.prepare_pad),
    "PADV2": OpSpec("tc_pad_s8", "int8 rank <= 4, constant paddings and int8 constant value",
                    L.prepare_pad),
    "MEAN": OpSpec("tc_mean_s8", "int8 rank <= 4, constant axes", L.prepare_mean),
    "CONCATENATION": OpSpec("tc_concat_s8",
                            "int8, 1..10 inputs quantized like the output (copied as TFLM does), "
                            "rank <= 4, no fused activation",
                            L.prepare_concat),
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


def prepare(model: Model, op: Operator, optimize: str = DEFAULT_OBJECTIVE,
            scratch_ok: bool = False, runtime_arch: str = DEFAULT_ARCH) -> L.Layer | None:
    """Validate one supported op and build its kernel call (``None`` for a view), or raise one
    error naming the node: the only place an op is checked. Weight storage is ranked for the
    ``runtime_arch`` kernel chain (codegen.storage)."""
    ctx = L.Ctx(model, op, optimize, scratch_ok, runtime_arch)
    try:
        layer = OPS[op.op].prepare(ctx)
        if layer is not None:
            _check_ranges(ctx, layer)
        return layer
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
