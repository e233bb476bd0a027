/*
 * tc_output.h - the output tail of every conv, depthwise and fully
 * connected kernel, for one output value: add the bias, requantise with
 * TFLM's MultiplyByQuantizedMultiplier, add the output zero point, clamp to
 * the fused activation. TFLM's reference kernels end each output this way,
 * so keeping it in one place keeps every kernel's rounding identical.
 *
 * Scalar form (here): the reference kernels in src/ and any optimised
 * kernel that finishes outputs one at a time call tc_out_s8().
 * Vector forms: kernels that finish a run of outputs at once keep their
 * own output stage, written to produce the same bytes faster on their
 * core: arch/portable/tc_out_c.h (short exact requantisation in plain C),
 * arch/cortex-m-dsp/tc_simd_dsp.h (SSAT/SMMLAR forms) and
 * arch/helium/tc_requant_mve.h (MVE lanes). The kernels using them are
 * checked against the reference kernels, hence against this tail, by
 * firmware/runtime/tests/tc_arch_check.c.
 */
#ifndef TC_OUTPUT_H
#define TC_OUTPUT_H

#include "tc_fixedpoint.h"

/* Output channel oc of a layer for accumulator `acc` (bias not yet added):
 * bias may be NULL; rq->per_channel selects multiplier/shift[oc] or [0]. */
static inline int8_t tc_out_s8(int32_t acc, const int32_t *bias, int32_t oc,
                               const tc_requant_t *rq, int32_t zp,
                               int32_t act_min, int32_t act_max)
{
    const int32_t q = rq->per_channel ? oc : 0;
    if (bias != NULL) {
        acc += bias[oc];
    }
    acc = tc_mbqm(acc, rq->multiplier[q], rq->shift[q]) + zp;
    return (int8_t)tc_clamp(acc, act_min, act_max);
}

#endif /* TC_OUTPUT_H */
