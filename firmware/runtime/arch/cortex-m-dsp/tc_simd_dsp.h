/*
 * tc_simd_dsp.h - Armv7E-M DSP building blocks for the depthwise, 1x1 conv
 * and fully connected kernels: byte-lane widening with the free rotate of
 * SXTB16/SXTAB16, and the exact output requantisation in few instructions.
 */
#ifndef TC_SIMD_DSP_H
#define TC_SIMD_DSP_H

#include "tc_dot_dsp.h"

/* Lanes 1 and 3 of `v`, sign-extended: (int16)v[1] | (int16)v[3] << 16.
 * One SXTB16 with its ROR #8 operand (GCC emits a separate ROR for the C
 * spelling __sxtb16(tc_ror8(v))). */
static inline int16x2_t tc_sxtb16_odd(uint32_t v)
{
    int16x2_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* Lanes 1 and 3 of `v`, sign-extended, plus `offset` lane by lane. */
static inline int16x2_t tc_sxtab16_odd(int16x2_t offset, uint32_t v)
{
    int16x2_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(offset), "r"(v));
    return r;
}

/* Output stage of a layer (bias + requantise + clamp), set up once per
 * call by tc_out_stage(). */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t qstep;    /* 1: per-channel requantisation, 0: per-tensor */
    int32_t zp;       /* output zero point */
    int32_t zp2;      /* 2 * zp + 1, for the fast rounding shift */
    int32_t act_min, act_max;
    int32_t fast;     /* every channel can take the short form below */
} tc_out_stage_t;

/* `terms` products of int8 weights and (input - zero point), at most
 * 128 * 255 each, are summed per output; with at most 2^14 of them and
 * |bias| < 2^29 every accumulator stays below 2^30 in magnitude. */
static inline tc_out_stage_t tc_out_stage(const tc_requant_t *rq,
                                          const int32_t *bias,
                                          int32_t channels, int32_t terms,
                                          int32_t zp, int32_t act_min,
                                          int32_t act_max)
{
    tc_out_stage_t o;
    int32_t c;
    o.multiplier = rq->multiplier;
    o.shift = rq->shift;
    o.qstep = rq->per_channel ? 1 : 0;
    o.zp = zp;
    o.zp2 = 2 * zp + 1;
    o.act_min = act_min;
    o.act_max = act_max;
    o.fast = terms <= (1 << 14);
    for (c = 0; c < channels && o.fast; ++c) {
        const int32_t b = bias != NULL ? bias[c] : 0;
        o.fast = rq->shift[c * o.qstep] < 0 && b > -(1 << 29) &&
                 b < (1 << 29);
    }
    return o;
}

/* round(a * b / 2^32) (SMMULR). */
static inline int32_t tc_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* Output channel c for accumulator `acc` (bias included):
 * clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + zp), the
 * TFLM result bit for bit.
 *
 * Short form, for |acc| < 2^30 and shift <= -1 (o->fast): with a
 * non-negative multiplier, SaturatingRoundingDoublingHighMul never
 * saturates and its "add +-2^30, divide by 2^31 truncating toward zero"
 * equals floor((acc * multiplier + 2^30) / 2^31) = SMMULR(2 * acc,
 * multiplier). RoundingDivideByPOT(x, e) (half away from zero) equals
 * (((x - (x < 0)) >> (e - 1)) + 1) >> 1, and e - 1 = ~shift; the zero
 * point joins the last shift as 2 * zp + 1. Otherwise TFLM's general
 * form (tc_mbqm). */
static inline int8_t tc_out_dsp(const tc_out_stage_t *o, int32_t c,
                                int32_t acc)
{
    const int32_t q = c * o->qstep;
    int32_t x;
    if (o->fast) {
        x = tc_smmulr(acc * 2, o->multiplier[q]);
        x -= (int32_t)((uint32_t)x >> 31);
        x = ((x >> ~o->shift[q]) + o->zp2) >> 1;
    } else {
        x = tc_mbqm(acc, o->multiplier[q], o->shift[q]) + o->zp;
    }
    x = x < o->act_min ? o->act_min : x;
    return (int8_t)(x > o->act_max ? o->act_max : x);
}

/* clamp(x >> 1, -128, 127) in one SSAT with its shifted operand. */
static inline int32_t tc_ssat8_half(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #8, %1, asr #1" : "=r"(r) : "r"(x));
    return r;
}

/* out[c] = tc_out_dsp(o, c0 + c, acc[c]) for c < n. The stage is copied
 * into locals first: through `o`, GCC would reload every field after each
 * byte store (which may alias it), doubling the cost per output. In the
 * short form the last shift and the clamp to int8 are one SSAT; a fused
 * activation range (inside int8) then clamps further. */
static inline void tc_out_run_dsp(const tc_out_stage_t *o, int32_t c0,
                                  const int32_t *acc, int32_t n, int8_t *out)
{
    const int32_t step = o->qstep;
    const int32_t *m = o->multiplier + c0 * step;
    const int32_t *s = o->shift + c0 * step;
    const int32_t zp2 = o->zp2;
    const int32_t lo = o->act_min;
    const int32_t hi = o->act_max;
    int32_t c;

    if (!o->fast) {
        for (c = 0; c < n; ++c) {
            out[c] = tc_out_dsp(o, c0 + c, acc[c]);
        }
        return;
    }
    if (lo == -128 && hi == 127) {
        for (c = 0; c < n; ++c) {
            int32_t x = tc_smmulr(acc[c] * 2, m[c * step]);
            x -= (int32_t)((uint32_t)x >> 31);
            out[c] = (int8_t)tc_ssat8_half((x >> ~s[c * step]) + zp2);
        }
        return;
    }
    if (hi == 127) { /* ReLU: the lower bound only */
        for (c = 0; c < n; ++c) {
            int32_t x = tc_smmulr(acc[c] * 2, m[c * step]);
            x -= (int32_t)((uint32_t)x >> 31);
            x = tc_ssat8_half((x >> ~s[c * step]) + zp2);
            out[c] = (int8_t)(x < lo ? lo : x);
        }
        return;
    }
    for (c = 0; c < n; ++c) {
        int32_t x = tc_smmulr(acc[c] * 2, m[c * step]);
        x -= (int32_t)((uint32_t)x >> 31);
        x = tc_ssat8_half((x >> ~s[c * step]) + zp2);
        x = x < lo ? lo : x;
        out[c] = (int8_t)(x > hi ? hi : x);
    }
}

#endif /* TC_SIMD_DSP_H */
