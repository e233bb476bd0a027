/*
 * tc_fixedpoint.h - internal integer arithmetic shared by the kernels.
 *
 * These reproduce the fixed-point primitives TFLM's reference kernels are
 * built on (gemmlowp's SaturatingRoundingDoublingHighMul, RoundingDivideByPOT,
 * exp_on_negative_values, logistic, tanh, 1/(1+x)), so every kernel rounds
 * exactly where TFLM rounds. Raw values are int32; a "Qn" value has n integer
 * bits and 31 - n fractional bits. Wrapping arithmetic goes through uint32_t
 * so that it is defined behaviour in C99.
 */
#ifndef TC_FIXEDPOINT_H
#define TC_FIXEDPOINT_H

#include <stdint.h>

#include "tc_runtime.h"

#define TC_INT8_MIN (-128)
#define TC_INT8_MAX 127

static inline int32_t tc_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t tc_wrap_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

static inline int32_t tc_wrap_shl(int32_t a, int32_t n)
{
    return (int32_t)((uint32_t)a << n);
}

static inline int32_t tc_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* round(a * b / 2^31), saturating the single overflow case. gemmlowp adds
 * 2^30 (1 - 2^30 when a * b < 0) and divides truncating toward zero; for
 * either sign that equals floor((a * b + 2^30) / 2^31), which an arithmetic
 * shift computes without the sign-dependent nudge and division fix-up. */
static inline int32_t tc_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded half away from zero; exponent in [0, 31]. */
static inline int32_t tc_rdbypot(int32_t x, int32_t exponent)
{
    /* 2^exponent - 1 in 32 bits (exponent 31 gives INT32_MAX): no 64-bit
     * shift, which costs a branch and several instructions on 32-bit cores */
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite's MultiplyByQuantizedMultiplier (double-rounding form). */
static inline int32_t tc_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return tc_rdbypot(tc_srdhm(tc_wrap_shl(x, left), multiplier), right);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
static inline int32_t tc_sat_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return tc_wrap_shl(x, exponent);
}

/* Change the number of integer bits of a raw value (gemmlowp Rescale). */
static inline int32_t tc_rescale(int32_t x, int32_t src_bits, int32_t dst_bits)
{
    const int32_t exponent = src_bits - dst_bits;
    if (exponent > 0) {
        return tc_sat_shl(x, exponent);
    }
    if (exponent < 0) {
        return tc_rdbypot(x, -exponent);
    }
    return x;
}

int32_t tc_fp_exp_on_negative_values(int32_t a, int32_t integer_bits);
int32_t tc_fp_one_over_one_plus_x(int32_t a);
int32_t tc_fp_logistic(int32_t a, int32_t integer_bits);
int32_t tc_fp_tanh(int32_t a, int32_t integer_bits);

/* Offset of element (n, h, w, c) in an NHWC tensor. */
static inline int32_t tc_offset(const tc_shape_t *s, int32_t n, int32_t h,
                                int32_t w, int32_t c)
{
    return ((n * s->h + h) * s->w + w) * s->c + c;
}

static inline int32_t tc_shape_valid(const tc_shape_t *s)
{
    return s->n >= 1 && s->h >= 1 && s->w >= 1 && s->c >= 1;
}

static inline int32_t tc_act_valid(int32_t act_min, int32_t act_max)
{
    return act_min >= TC_INT8_MIN && act_min <= act_max &&
           act_max <= TC_INT8_MAX;
}

static inline int32_t tc_shift_valid(int32_t shift)
{
    return shift >= -31 && shift <= 30;
}

#endif /* TC_FIXEDPOINT_H */
