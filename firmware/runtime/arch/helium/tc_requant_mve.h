/*
 * tc_requant_mve.h - TFLM's MultiplyByQuantizedMultiplier on the four int32
 * lanes of an MVE vector, bit for bit (tc_mbqm of src/tc_fixedpoint.h),
 * with one (multiplier, shift) per lane or one per layer broadcast.
 *
 * TFLM computes RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(
 * x << left, m), right) with left = max(shift, 0), right = max(-shift, 0):
 *  - VSHL by a non-negative register shift is x << left, wrapping as TFLM's
 *    int32 product does;
 *  - VQRDMULH.S32 is saturate((2 x m + 2^31) >> 32) = floor((x m + 2^30) /
 *    2^31), saturating only x = m = INT32_MIN to INT32_MAX. gemmlowp's form
 *    (nudge 2^30 or 1 - 2^30 by sign, divide truncating toward zero) is the
 *    same integer for either sign, so the high multiply needs no fix;
 *  - VRSHL by -e (e >= 1) is floor((y + 2^(e-1)) / 2^e), computed without
 *    overflow: ties go up, where TFLM rounds them away from zero. They
 *    differ only on negative ties (y = -k 2^e - 2^(e-1): VRSHL gives -k,
 *    TFLM -k - 1). For y < 0, floor((y - 1 + 2^(e-1)) / 2^e) is the
 *    away-from-zero result (write y = -z: it is -floor((z + 2^(e-1)) /
 *    2^e)), so one is subtracted from negative lanes first: y + (y >> 31).
 *    That cannot wrap: the high multiply's result is at least
 *    -2^31 + 1. With e = 0 VRSHL does nothing and the fix must not apply,
 *    so the general form masks it with (-e) >> 31 (all ones when e >= 1).
 * firmware/runtime/tests/tc_requant_mve_check.c checks these against
 * tc_mbqm on the core, on and next to every rounding tie.
 */
#ifndef TC_REQUANT_MVE_H
#define TC_REQUANT_MVE_H

#include <arm_mve.h>

#include "../../src/tc_fixedpoint.h"

#if !defined(__ARM_FEATURE_MVE)
#error "arch/helium needs a core with MVE (e.g. -mcpu=cortex-m55)"
#endif

/* RoundingDivideByPOT(y, -neg_exponent) per lane, neg_exponent in
 * [-31, 0]; y >= INT32_MIN + 1. */
static inline int32x4_t tc_rdbypot_mve(int32x4_t y, int32x4_t neg_exponent)
{
    const int32x4_t fix =
        vandq_s32(vshrq_n_s32(y, 31), vshrq_n_s32(neg_exponent, 31));
    return vrshlq_s32(vaddq_s32(y, fix), neg_exponent);
}

/* MultiplyByQuantizedMultiplier(x, multiplier, shift) per lane, any shift
 * in [-31, 30]. */
static inline int32x4_t tc_mbqm_mve(int32x4_t x, int32x4_t multiplier,
                                    int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t y =
        vqrdmulhq_s32(vshlq_s32(x, vmaxq_s32(shift, zero)), multiplier);
    return tc_rdbypot_mve(y, vminq_s32(shift, zero));
}

/* The same for shift <= -1 in every lane (every layer TFLM's converter
 * produces with int8 weights): no left shift and an unmasked tie fix. */
static inline int32x4_t tc_mbqm_mve_right(int32x4_t x, int32x4_t multiplier,
                                          int32x4_t shift)
{
    const int32x4_t y = vqrdmulhq_s32(x, multiplier);
    return vrshlq_s32(vaddq_s32(y, vshrq_n_s32(y, 31)), shift);
}

/* The output tail of four channels, bias already in acc:
 * clamp(MultiplyByQuantizedMultiplier(acc) + zp, lo, hi), as tc_out_s8. */
static inline int32x4_t tc_out_mve(int32x4_t acc, int32x4_t multiplier,
                                   int32x4_t shift, int32_t zp, int32_t lo,
                                   int32_t hi)
{
    const int32x4_t x =
        vaddq_n_s32(tc_mbqm_mve(acc, multiplier, shift), zp);
    return vminq_s32(vmaxq_s32(x, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}

/* tc_out_mve for shift <= -1 in every lane. */
static inline int32x4_t tc_out_mve_right(int32x4_t acc, int32x4_t multiplier,
                                         int32x4_t shift, int32_t zp,
                                         int32_t lo, int32_t hi)
{
    const int32x4_t x =
        vaddq_n_s32(tc_mbqm_mve_right(acc, multiplier, shift), zp);
    return vminq_s32(vmaxq_s32(x, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}

#endif /* TC_REQUANT_MVE_H */
