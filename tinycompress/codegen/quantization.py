"""Host-side precomputation of the per-layer integer constants.

TFLM computes requantisation multipliers, activation clamps and the softmax /
logistic / tanh parameters in each kernel's ``Prepare`` step, on the device,
from the float scales in the model. We compute the very same integers here, in
Python, so the generated C carries only constants. Bit-exactness depends on
reproducing TFLM's arithmetic *including its choice of float vs double*: the
product of scales is formed in double, the activation clamp divides in single
precision, and rounding is half away from zero (``std::round``), not Python's
banker's rounding.

Every ``*_params`` function returns a dataclass whose field names are exactly
the fields of the matching C struct in ``firmware/runtime/include/tc_runtime.h``
(shapes and sizes excluded; the code generator adds those), so
``dataclasses.asdict`` gives the designated initialisers to emit. The
gemmlowp fixed-point tables of LOGISTIC/TANH are in ``fixedpoint`` and the
packed weight formats in ``packing``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tinycompress.errors import ModelFormatError, UnsupportedError
from tinycompress.tflite.schema import ACTIVATIONS

INT8_MIN = -128
INT8_MAX = 127

# The one table of fused activations the kernels support: name -> the real interval
# it clamps to (None = unbounded). TFLite's enum code -> name is schema.ACTIVATIONS.
FUSED_ACTIVATIONS: dict[str, tuple[float | None, float | None]] = {
    "NONE": (None, None),
    "RELU": (0.0, None),
    "RELU6": (0.0, 6.0),
    "RELU_N1_TO_1": (-1.0, 1.0),
}

# Integer bits of the fixed-point inputs TFLM uses (softmax diff, logistic/tanh input).
_SOFTMAX_DIFF_INTEGER_BITS = 5
SIGMOID_INPUT_INTEGER_BITS = 4
_ADD_LEFT_SHIFT = 20


def round_half_away(x: float) -> int:
    """``std::round`` for doubles: halves go away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def round_half_away_f32(x: np.float32) -> int:
    """``std::round`` on a float32 value (the result is exact in float32)."""
    return round_half_away(float(np.float32(x)))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's ``QuantizeMultiplier``: real = multiplier * 2^(shift - 31).

    Returns a Q31 multiplier in [2^30, 2^31) (or 0) and a shift; a mantissa
    that rounds up to 2^31 is halved with the exponent bumped, and values too
    small to represent (shift < -31) flush to (0, 0), as TFLite does.
    """
    real = float(real)
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real) or real < 0.0:
        raise ModelFormatError(
            f"quantization scale ratio {real!r} is not a finite positive number; re-export the model with valid scales"
        )
    mantissa, shift = math.frexp(real)
    q_fixed = round_half_away(mantissa * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise UnsupportedError(
            f"requantization multiplier {real!r} exceeds 2^30; check the tensor scales or re-run quantization"
        )
    return int(q_fixed), int(shift)


def compute_padding(
    in_size: int, filter_size: int, stride: int, dilation: int, padding: str
) -> tuple[int, int]:
    """TFLite's output size and leading padding for one spatial dimension.

    ``padding`` is "SAME" or "VALID". Returns ``(out_size, pad_before)``; the
    odd extra pad of SAME goes after (bottom/right), as in TFLite.
    """
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out_size = (in_size + stride - 1) // stride
    elif padding == "VALID":
        out_size = (in_size + stride - effective) // stride
    else:
        raise ModelFormatError(f"padding must be SAME or VALID, got {padding!r}")
    total = max(0, (out_size - 1) * stride + effective - in_size)
    return out_size, total // 2


def _quantize_f32(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale), the division done in float32."""
    q = np.float32(value) / np.float32(scale)
    return int(zero_point) + round_half_away_f32(q)


def activation_range(fused: str | int, output_scale: float, output_zero_point: int) -> tuple[int, int]:
    """int8 clamp of a fused activation (TFLite CalculateActivationRangeQuantized).

    ``fused`` is a name from FUSED_ACTIVATIONS or TFLite's enum value.
    """
    if isinstance(fused, int) and not isinstance(fused, bool):
        fused = ACTIVATIONS[fused] if 0 <= fused < len(ACTIVATIONS) else str(fused)
    if fused not in FUSED_ACTIVATIONS:
        raise UnsupportedError(
            f"fused activation {fused} is not supported; supported: {', '.join(FUSED_ACTIVATIONS)}"
        )
    low, high = FUSED_ACTIVATIONS[fused]
    lo = INT8_MIN if low is None else max(INT8_MIN, _quantize_f32(low, output_scale, output_zero_point))
    hi = INT8_MAX if high is None else min(INT8_MAX, _quantize_f32(high, output_scale, output_zero_point))
    return lo, hi


def conv_requant(
    input_scale: float, filter_scales: Sequence[float], output_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (or per-tensor, one entry) multipliers and shifts.

    Used for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: the effective
    scale input_scale * filter_scale / output_scale is formed in double from
    the float32 scales, as TFLM's PopulateConvolutionQuantizationParams.
    """
    mults, shifts = [], []
    for fs in filter_scales:
        real = float(np.float32(input_scale)) * float(np.float32(fs)) / float(np.float32(output_scale))
        m, s = quantize_multiplier(real)
        mults.append(m)
        shifts.append(s)
    return np.asarray(mults, dtype=np.int32), np.asarray(shifts, dtype=np.int32)


def _ratio(numerator: float, denominator: float) -> tuple[int, int]:
    return quantize_multiplier(float(np.float32(numerator)) / float(np.float32(denominator)))


@dataclass(frozen=True)
class AddParams:
    """Fields of tc_add_params_t except shapes and the activation clamp."""

    input1_zero_point: int
    input2_zero_point: int
    output_zero_point: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int


def add_params(s1: float, zp1: int, s2: float, zp2: int, so: float, zpo: int) -> AddParams:
    """ADD constants as TFLM's PrepareAdd computes them for int8."""
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    m1, sh1 = quantize_multiplier(float(np.float32(s1)) / twice_max)
    m2, sh2 = quantize_multiplier(float(np.float32(s2)) / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << _ADD_LEFT_SHIFT) * float(np.float32(so))))
    return AddParams(int(zp1), int(zp2), int(zpo), _ADD_LEFT_SHIFT, m1, sh1, m2, sh2, mo, sho)


@dataclass(frozen=True)
class MulParams:
    """Fields of tc_mul_params_t except shapes and the activation clamp."""

    input1_zero_point: int
    input2_zero_point: int
    output_zero_point: int
    output_multiplier: int
    output_shift: int


def mul_params(s1: float, zp1: int, s2: float, zp2: int, so: float, zpo: int) -> MulParams:
    """MUL constants: s1 * s2 / so in double, as TFLM."""
    real = float(np.float32(s1)) * float(np.float32(s2)) / float(np.float32(so))
    m, sh = quantize_multiplier(real)
    return MulParams(int(zp1), int(zp2), int(zpo), m, sh)


def calculate_input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """TFLite's CalculateInputRadius: largest |input| the fixed-point path takes."""
    rescaled = (
        1.0 * ((1 << integer_bits) - 1) * (1 << (total_signed_bits - integer_bits)) / (1 << left_shift)
    )
    return int(math.floor(rescaled))


@dataclass(frozen=True)
class SoftmaxParams:
    """Fields of tc_softmax_params_t except rows and depth."""

    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_params(beta: float, input_scale: float) -> SoftmaxParams:
    """TFLM's int8 softmax Prepare (PreprocessSoftmaxScaling + diff_min)."""
    real = float(np.float32(beta)) * float(np.float32(input_scale)) * float(1 << (31 - _SOFTMAX_DIFF_INTEGER_BITS))
    real = min(real, float((1 << 31) - 1))
    mult, shift = quantize_multiplier(real)
    if shift < 0:
        raise UnsupportedError(f"softmax beta * input scale {real!r} is too small for TFLM's fixed-point softmax")
    radius = calculate_input_radius(_SOFTMAX_DIFF_INTEGER_BITS, shift)
    return SoftmaxParams(mult, shift, -radius)


@dataclass(frozen=True)
class SigmoidParams:
    """Fields of tc_logistic_params_t / tc_tanh_params_t."""

    size: int
    input_zero_point: int
    input_range_radius: int
    input_multiplier: int
    input_left_shift: int


def _sigmoid_params(input_scale: float, input_zero_point: int, size: int) -> SigmoidParams:
    real = float(np.float32(input_scale)) * float(1 << (31 - SIGMOID_INPUT_INTEGER_BITS))
    mantissa, shift = math.frexp(real)
    mult = round_half_away(mantissa * (1 << 31))
    mult = int(np.array(mult, dtype=np.int64).astype(np.int32))
    radius = calculate_input_radius(SIGMOID_INPUT_INTEGER_BITS, shift)
    return SigmoidParams(int(size), int(input_zero_point), radius, mult, int(shift))


def logistic_params(input_scale: float, input_zero_point: int, size: int) -> SigmoidParams:
    """TFLM's int8 LOGISTIC Prepare (Q4.27 input via frexp, not QuantizeMultiplier)."""
    return _sigmoid_params(input_scale, input_zero_point, size)


def tanh_params(input_scale: float, input_zero_point: int, size: int) -> SigmoidParams:
    """TFLM's int8 TANH Prepare (same constants as LOGISTIC)."""
    return _sigmoid_params(input_scale, input_zero_point, size)


@dataclass(frozen=True)
class ReluParams:
    """Fields of tc_relu_params_t."""

    size: int
    input_zero_point: int
    output_zero_point: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def relu_params(
    input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int, size: int
) -> ReluParams:
    """Standalone RELU: requantise then clamp at quantised 0 (TFLM CalculateReluOpData)."""
    m, sh = _ratio(input_scale, output_scale)
    act_min, act_max = activation_range("RELU", output_scale, output_zero_point)
    return ReluParams(int(size), int(input_zero_point), int(output_zero_point), m, sh, act_min, act_max)


@dataclass(frozen=True)
class Relu6Params:
    """Fields of tc_relu6_params_t."""

    size: int
    lower: int
    upper: int


def relu6_params(input_scale: float, input_zero_point: int, size: int) -> Relu6Params:
    """Standalone RELU6: TFLM clamps to [zp, quantised 6] in the input's scale."""
    six = _quantize_f32(6.0, input_scale, input_zero_point)
    return Relu6Params(int(size), int(input_zero_point), min(INT8_MAX, max(INT8_MIN, six)))


@dataclass(frozen=True)
class RequantizeParams:
    """Fields of tc_requantize_params_t (QUANTIZE int8 -> int8)."""

    size: int
    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


def requantize_params(
    input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int, size: int
) -> RequantizeParams:
    """QUANTIZE int8 -> int8: multiplier for input_scale / output_scale."""
    m, sh = _ratio(input_scale, output_scale)
    return RequantizeParams(int(size), int(input_zero_point), int(output_zero_point), m, sh)


@dataclass(frozen=True)
class MeanParams:
    """Fields of tc_mean_params_t except the input shape and axis mask."""

    input_zero_point: int
    output_zero_point: int
    multiplier: int
    shift: int


def mean_params(input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int) -> MeanParams:
    """MEAN: input_scale / output_scale; the kernel folds in 1/count like TFLM."""
    m, sh = _ratio(input_scale, output_scale)
    return MeanParams(int(input_zero_point), int(output_zero_point), m, sh)


def axis_mask(axes: Sequence[int], rank: int) -> int:
    """tc_mean_params_t.axis_mask for TFLite axes of a rank-``rank`` tensor.

    The tensor is viewed as NHWC with leading dims of 1 added, so axis ``a``
    of a rank-r tensor is 4-D dim ``a + 4 - r``; negative axes count from the
    end. Duplicate axes are allowed (TFLite ignores them).
    """
    if not 1 <= rank <= 4:
        raise UnsupportedError(f"MEAN supports tensors of rank 1..4, got rank {rank}; reshape to 4-D first")
    mask = 0
    for a in axes:
        a = int(a)
        if not -rank <= a < rank:
            raise ModelFormatError(f"MEAN axis {a} is out of range for a rank-{rank} tensor")
        mask |= 1 << ((a % rank) + 4 - rank)
    return mask
