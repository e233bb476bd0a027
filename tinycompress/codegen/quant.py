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
``dataclasses.asdict`` gives the designated initialisers to emit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tinycompress.errors import ModelFormatError, UnsupportedError

INT8_MIN = -128
INT8_MAX = 127

FUSED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
# TFLite's ActivationFunctionType enum values of the supported activations.
_FUSED_CODES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}

# Integer bits of the fixed-point inputs TFLM uses (softmax diff, logistic/tanh input).
_SOFTMAX_DIFF_INTEGER_BITS = 5
_SIGMOID_INPUT_INTEGER_BITS = 4
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
        if fused not in _FUSED_CODES:
            raise UnsupportedError(
                f"fused activation code {fused} is not supported; supported: {', '.join(FUSED_ACTIVATIONS)}"
            )
        fused = _FUSED_CODES[fused]
    if fused == "NONE":
        return INT8_MIN, INT8_MAX
    if fused == "RELU":
        return max(INT8_MIN, _quantize_f32(0.0, output_scale, output_zero_point)), INT8_MAX
    if fused == "RELU6":
        lo = max(INT8_MIN, _quantize_f32(0.0, output_scale, output_zero_point))
        return lo, min(INT8_MAX, _quantize_f32(6.0, output_scale, output_zero_point))
    if fused == "RELU_N1_TO_1":
        lo = max(INT8_MIN, _quantize_f32(-1.0, output_scale, output_zero_point))
        return lo, min(INT8_MAX, _quantize_f32(1.0, output_scale, output_zero_point))
    raise UnsupportedError(f"fused activation {fused!r} is not supported; supported: {', '.join(FUSED_ACTIVATIONS)}")


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
    real = float(np.float32(input_scale)) * float(1 << (31 - _SIGMOID_INPUT_INTEGER_BITS))
    mantissa, shift = math.frexp(real)
    mult = round_half_away(mantissa * (1 << 31))
    mult = int(np.array(mult, dtype=np.int64).astype(np.int32))
    radius = calculate_input_radius(_SIGMOID_INPUT_INTEGER_BITS, shift)
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
    act_min = max(INT8_MIN, _quantize_f32(0.0, output_scale, output_zero_point))
    return ReluParams(int(size), int(input_zero_point), int(output_zero_point), m, sh, act_min, INT8_MAX)


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


@dataclass(frozen=True)
class ConcatRequant:
    """One tc_concat_requant_t entry; multiplier 0 means plain copy."""

    input_zero_point: int
    multiplier: int
    shift: int


def concat_requant(
    input_scale: float, input_zero_point: int, output_scale: float, output_zero_point: int
) -> ConcatRequant:
    """Copy when quantisation matches the output's, else requantise."""
    if np.float32(input_scale) == np.float32(output_scale) and input_zero_point == output_zero_point:
        return ConcatRequant(int(input_zero_point), 0, 0)
    m, sh = _ratio(input_scale, output_scale)
    return ConcatRequant(int(input_zero_point), m, sh)


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


@dataclass(frozen=True)
class Palette4:
    """A weight tensor packed for TC_WEIGHTS_PALETTE4 (see tc_runtime.h)."""

    palette: np.ndarray  # int8 [channels, 16]; unused entries are 0
    indices: bytes  # two 4-bit indices per byte, low nibble first

    @property
    def nbytes(self) -> int:
        """Flash the packed form takes: palette plus indices."""
        return int(self.palette.size) + len(self.indices)


def pack_palette4(weights: np.ndarray, channel_axis: int) -> Palette4 | None:
    """Pack int8 weights with at most 16 distinct values per output channel.

    Clustered models (tfmot ``cluster_weights`` with <= 16 clusters) satisfy
    this even after per-channel quantisation; dense ones usually do not, and
    then ``None`` is returned so the caller keeps TC_WEIGHTS_S8. The element
    order is the dense layout order (row-major ``weights``), and
    ``channel_axis`` names the output-channel dimension (0 for CONV_2D and
    FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D).
    """
    w = np.asarray(weights, dtype=np.int8)
    axis = channel_axis % w.ndim
    moved = np.moveaxis(w, axis, 0)
    rows = moved.reshape(moved.shape[0], -1)
    palette = np.zeros((rows.shape[0], 16), np.int8)
    row_codes = np.empty(rows.shape, np.uint8)
    for c, row in enumerate(rows):
        values, inverse = np.unique(row, return_inverse=True)
        if values.size > 16:
            return None
        palette[c, : values.size] = values
        row_codes[c] = inverse.ravel()
    codes = np.moveaxis(row_codes.reshape(moved.shape), 0, axis).reshape(-1)
    if codes.size & 1:
        codes = np.append(codes, np.uint8(0))
    packed = (codes[0::2] | (codes[1::2] << 4)).astype(np.uint8)
    return Palette4(palette, packed.tobytes())


# --------------------------------------------------------------------------
# LOGISTIC / TANH as 256-entry tables. An int8 elementwise op is a function of
# the input byte alone, so the host can evaluate TFLM's gemmlowp fixed-point
# arithmetic once per possible input and the device only looks the result up
# (tc_lut_s8). The helpers below mirror firmware/runtime/src/tc_fixedpoint.c on
# int64 numpy arrays holding int32 values.

_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((x - _I32_MIN) & 0xFFFFFFFF) + _I32_MIN


def _srdhm(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul (C division truncates toward zero)."""
    a, b = np.broadcast_arrays(np.asarray(a, np.int64), np.asarray(b, np.int64))
    ab = a * b  # |ab| <= 2^62: exact in int64
    num = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(num >= 0, num >> 31, -((-num) >> 31))
    return np.where((a == b) & (a == _I32_MIN), _I32_MAX, q)


def _rdbypot(x: np.ndarray, exponent: int) -> np.ndarray:
    x = np.asarray(x, np.int64)
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def _sat_shl(x: np.ndarray, exponent: int) -> np.ndarray:
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, _I32_MAX, np.where(x < -threshold, _I32_MIN, _wrap32(x << exponent)))


def _rescale(x: np.ndarray, src_bits: int, dst_bits: int) -> np.ndarray:
    exponent = src_bits - dst_bits
    if exponent > 0:
        return _sat_shl(x, exponent)
    if exponent < 0:
        return _rdbypot(x, -exponent)
    return x


_EXP_BARREL = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)


def _exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod = _wrap32((a & (one_quarter - 1)) - one_quarter)
    remainder = _wrap32(a_mod - a)
    x = _wrap32(_rescale(a_mod, integer_bits, 0) + (1 << 28))
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4 = _srdhm(x2, x2)
    poly = _rdbypot(_wrap32(_srdhm(_wrap32(_rdbypot(x4, 2) + x3), 715827883) + x2), 1)
    result = _wrap32(1895147668 + _srdhm(np.int64(1895147668), _wrap32(x + poly)))
    for exponent, multiplier in zip(range(-2, 5), _EXP_BARREL):
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where(remainder & bit, _srdhm(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, _I32_MAX, result)


def _two_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    s = a + _I32_MAX  # RoundingHalfSum(a, 1.0): (s +/- 1) / 2 truncated toward zero
    half = np.where(s >= 0, (s + 1) >> 1, -((1 - s) >> 1))
    x = _wrap32(1515870810 + _srdhm(half, -1010580540))
    for _ in range(3):
        one_minus = _wrap32((1 << 29) - _srdhm(half, x))
        x = _wrap32(x + _rescale(_srdhm(x, one_minus), 4, 2))
    return x


def _logistic_q0(a: np.ndarray, integer_bits: int) -> np.ndarray:
    abs_a = np.where(a > 0, a, _wrap32(-a))
    pos = _rescale(_two_over_one_plus_x(_exp_on_negative_values(_wrap32(-abs_a), integer_bits)), 1, 0)
    return np.where(a == 0, 1 << 30, np.where(a > 0, pos, _wrap32(_I32_MAX - pos)))


def _tanh_q0(a: np.ndarray, integer_bits: int) -> np.ndarray:
    n = np.where(a < 0, a, _wrap32(-a))
    t = _rescale(_wrap32(_two_over_one_plus_x(_exp_on_negative_values(n, integer_bits + 1)) - (1 << 29)), 2, 0)
    return np.where(a == 0, 0, np.where(a < 0, _wrap32(-t), t))


def _mbqm(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    left, right = max(shift, 0), max(-shift, 0)
    return _rdbypot(_srdhm(_wrap32(x << left), multiplier), right)


def _sigmoid_table(p: SigmoidParams, tanh: bool) -> np.ndarray:
    x = np.arange(INT8_MIN, INT8_MAX + 1, dtype=np.int64) - p.input_zero_point
    q4 = _mbqm(x, p.input_multiplier, p.input_left_shift)
    if tanh:
        values = np.clip(_rdbypot(_tanh_q0(q4, _SIGMOID_INPUT_INTEGER_BITS), 24), INT8_MIN, INT8_MAX)
    else:
        values = np.clip(_rdbypot(_logistic_q0(q4, _SIGMOID_INPUT_INTEGER_BITS), 23) + INT8_MIN, INT8_MIN, INT8_MAX)
    values = np.where(x <= -p.input_range_radius, INT8_MIN, np.where(x >= p.input_range_radius, INT8_MAX, values))
    return values.astype(np.int8)


def logistic_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """tc_lut_s8 table of TFLM's int8 LOGISTIC: entry q + 128 is the output for input q."""
    return _sigmoid_table(logistic_params(input_scale, input_zero_point, 256), tanh=False)


def tanh_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """tc_lut_s8 table of TFLM's int8 TANH: entry q + 128 is the output for input q."""
    return _sigmoid_table(tanh_params(input_scale, input_zero_point, 256), tanh=True)


@dataclass(frozen=True)
class Sparse8:
    """A weight tensor packed for TC_WEIGHTS_SPARSE8 (see tc_runtime.h)."""

    bitmap: bytes  # bit i (LSB first) set when dense element i is nonzero
    values: np.ndarray  # int8 nonzero weights in dense order
    channel_start: np.ndarray  # uint32 [channels]: index of each row's first nonzero

    @property
    def nbytes(self) -> int:
        """Flash the packed form takes: bitmap, values and row starts."""
        return len(self.bitmap) + int(self.values.size) + 4 * int(self.channel_start.size)


def pack_sparse8(weights: np.ndarray) -> Sparse8:
    """Pack pruned int8 weights whose output channel is the leading axis.

    That is the layout of FULLY_CONNECTED ``[out, in]`` and CONV_2D
    ``[out, kh, kw, in]`` weights; the runtime accepts the format for FC and
    1x1 convolutions, where each output channel's weights form one row. The
    caller keeps whichever of dense, palette and sparse is smallest.
    """
    w = np.asarray(weights, dtype=np.int8)
    rows = w.reshape(w.shape[0], -1)
    nonzero = rows != 0
    counts = nonzero.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.uint32)
    bitmap = np.packbits(nonzero.ravel(), bitorder="little").tobytes()
    return Sparse8(bitmap, rows[nonzero].astype(np.int8), starts)
