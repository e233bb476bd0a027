/*
 * tc_dot_mve.h - int8 dot product with Helium (M-profile Vector Extension).
 *
 * sum_j (w_j - w_zp)(x_j - x_zp) is expanded into
 * sum w*x - x_zp * sum w - w_zp * sum x + n * w_zp * x_zp, each term an exact
 * int32 sum that VMLADAVA / VADDVA form 16 lanes at a time (tail-predicated),
 * so the result is the same integer the reference loop computes.
 */
#ifndef TC_DOT_MVE_H
#define TC_DOT_MVE_H

#include <arm_mve.h>

#include "../../src/tc_fixedpoint.h"

#if !defined(__ARM_FEATURE_MVE)
#error "arch/helium needs a core with MVE (e.g. -mcpu=cortex-m55)"
#endif

static inline int32_t tc_dot_s8_mve(const int8_t *w, const int8_t *in,
                                    int32_t n, int32_t in_zp, int32_t w_zp)
{
    int32_t wx = 0;
    int32_t sum_w = 0;
    int32_t sum_x = 0;
    int32_t left = n;
    while (left > 0) {
        const mve_pred16_t pred = vctp8q((uint32_t)left);
        const int8x16_t wv = vldrbq_z_s8(w, pred);
        const int8x16_t xv = vldrbq_z_s8(in, pred);
        wx = vmladavaq_p_s8(wx, wv, xv, pred);
        sum_w = vaddvaq_p_s8(sum_w, wv, pred);
        sum_x = vaddvaq_p_s8(sum_x, xv, pred);
        w += 16;
        in += 16;
        left -= 16;
    }
    return wx - in_zp * sum_w - w_zp * sum_x + n * w_zp * in_zp;
}

#endif /* TC_DOT_MVE_H */
