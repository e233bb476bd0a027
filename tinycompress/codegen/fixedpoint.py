"""LOGISTIC / TANH as 256-entry tables computed with TFLM's gemmlowp fixed point.

An int8 elementwise op is a function of the input byte alone, so the host can
evaluate TFLM's gemmlowp fixed-point arithmetic once per possible input and the
device only looks the result up (tc_lut_s8). The helpers below mirror
firmware/runtime/src/tc_fixedpoint.c on int64 numpy arrays holding int32 values.
"""

from __future__ import annotations

import numpy as np

from tinycompress.codegen.quantization import (
    INT8_MAX,
    INT8_MIN,
    SIGMOID_INPUT_INTEGER_BITS,
    SigmoidParams,
    logistic_params,
    tanh_params,
)

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
        values = np.clip(_rdbypot(_tanh_q0(q4, SIGMOID_INPUT_INTEGER_BITS), 24), INT8_MIN, INT8_MAX)
    else:
        values = np.clip(_rdbypot(_logistic_q0(q4, SIGMOID_INPUT_INTEGER_BITS), 23) + INT8_MIN, INT8_MIN, INT8_MAX)
    values = np.where(x <= -p.input_range_radius, INT8_MIN, np.where(x >= p.input_range_radius, INT8_MAX, values))
    return values.astype(np.int8)


def logistic_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """tc_lut_s8 table of TFLM's int8 LOGISTIC: entry q + 128 is the output for input q."""
    return _sigmoid_table(logistic_params(input_scale, input_zero_point, 256), tanh=False)


def tanh_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """tc_lut_s8 table of TFLM's int8 TANH: entry q + 128 is the output for input q."""
    return _sigmoid_table(tanh_params(input_scale, input_zero_point, 256), tanh=True)
