/*
 * tc_dot_dsp.h - int8 dot product with the Armv7E-M / Armv8-M DSP extension.
 *
 * SXTAB16 widens two int8 lanes to int16 while adding the zero-point offset,
 * SMLAD multiplies two lane pairs and accumulates: 4 MACs in 2 SMLADs. The
 * sum is the same exact integer the reference loop forms, so results stay
 * bit-identical with TFLM.
 */
#ifndef TC_DOT_DSP_H
#define TC_DOT_DSP_H

#include <arm_acle.h>
#include <string.h>

#include "../../src/tc_fixedpoint.h"

#if !defined(__ARM_FEATURE_SIMD32) || !defined(__ARM_FEATURE_DSP)
#error "arch/cortex-m-dsp needs the DSP extension (e.g. -mcpu=cortex-m4)"
#endif

static inline uint32_t tc_load4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t tc_ror8(uint32_t v)
{
    return (v >> 8) | (v << 24);
}

/* Both int16 lanes set to `value` (|value| <= 128). */
static inline int16x2_t tc_dup16(int32_t value)
{
    const uint32_t half = (uint32_t)value & 0xFFFFu;
    return (int16x2_t)(half | (half << 16));
}

/* sum_j (w[j] - w_zp) * (in[j] - in_zp), j < n. */
static inline int32_t tc_dot_s8_dsp(const int8_t *w, const int8_t *in,
                                    int32_t n, int32_t in_zp, int32_t w_zp)
{
    const int16x2_t in_off = tc_dup16(-in_zp);
    const int16x2_t w_off = tc_dup16(-w_zp);
    int32_t acc = 0;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const uint32_t x = tc_load4(in + j);
        const uint32_t k = tc_load4(w + j);
        const int16x2_t x02 = __sxtab16(in_off, (int8x4_t)x);
        const int16x2_t x13 = __sxtab16(in_off, (int8x4_t)tc_ror8(x));
        const int16x2_t k02 = __sxtab16(w_off, (int8x4_t)k);
        const int16x2_t k13 = __sxtab16(w_off, (int8x4_t)tc_ror8(k));
        acc = __smlad(x02, k02, acc);
        acc = __smlad(x13, k13, acc);
    }
    for (; j < n; ++j) {
        acc += ((int32_t)w[j] - w_zp) * ((int32_t)in[j] - in_zp);
    }
    return acc;
}

/* Two output channels sharing one input row (weight zero point 0, as for
 * CONV_2D): each input word is loaded and widened once for both.
 * acc[0] += sum_j w0[j] * (in[j] - in_zp), acc[1] likewise with w1. */
static inline void tc_dot2_s8_dsp(const int8_t *w0, const int8_t *w1,
                                  const int8_t *in, int32_t n, int32_t in_zp,
                                  int32_t acc[2])
{
    const int16x2_t in_off = tc_dup16(-in_zp);
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const uint32_t x = tc_load4(in + j);
        const uint32_t k0 = tc_load4(w0 + j);
        const uint32_t k1 = tc_load4(w1 + j);
        const int16x2_t x02 = __sxtab16(in_off, (int8x4_t)x);
        const int16x2_t x13 = __sxtab16(in_off, (int8x4_t)tc_ror8(x));
        a0 = __smlad(x02, __sxtb16((int8x4_t)k0), a0);
        a0 = __smlad(x13, __sxtb16((int8x4_t)tc_ror8(k0)), a0);
        a1 = __smlad(x02, __sxtb16((int8x4_t)k1), a1);
        a1 = __smlad(x13, __sxtb16((int8x4_t)tc_ror8(k1)), a1);
    }
    for (; j < n; ++j) {
        const int32_t v = (int32_t)in[j] - in_zp;
        a0 += (int32_t)w0[j] * v;
        a1 += (int32_t)w1[j] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
}

#endif /* TC_DOT_DSP_H */
