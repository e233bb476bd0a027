/*
 * tc_rows_dsp.h - int8 weight rows times one input vector with SMLAD, the
 * inner loop of FULLY_CONNECTED and 1x1 CONV_2D on the Armv7E-M DSP.
 *
 * Three rows per pass: each input word is loaded and widened once (SXTAB16
 * adds the input zero point for free) and feeds two SMLADs per row, so the
 * zero point costs nothing and needs no folding into the bias. The sums
 * are the reference's exact integers.
 */
#ifndef TC_ROWS_DSP_H
#define TC_ROWS_DSP_H

#include "tc_simd_dsp.h"

/* acc[r] += sum_j w[r * n + j] * (in[j] - zp) for rows r < 3, j < n.
 * Three rows keep every pointer and accumulator in a register (with four,
 * GCC spills pointers inside the loop). */
static inline void tc_rows3_dsp(const int8_t *w, int32_t n, const int8_t *in,
                                int16x2_t offset, int32_t acc[3])
{
    const int8_t *w1 = w + n;
    const int8_t *w2 = w1 + n;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2];
    int32_t j;

    for (j = 0; j + 4 <= n; j += 4) {
        const uint32_t x = tc_load4(in + j);
        const int16x2_t x02 = __sxtab16(offset, (int8x4_t)x);
        const int16x2_t x13 = tc_sxtab16_odd(offset, x);
        uint32_t k = tc_load4(w + j);
        a0 = __smlad(x02, __sxtb16((int8x4_t)k), a0);
        a0 = __smlad(x13, tc_sxtb16_odd(k), a0);
        k = tc_load4(w1 + j);
        a1 = __smlad(x02, __sxtb16((int8x4_t)k), a1);
        a1 = __smlad(x13, tc_sxtb16_odd(k), a1);
        k = tc_load4(w2 + j);
        a2 = __smlad(x02, __sxtb16((int8x4_t)k), a2);
        a2 = __smlad(x13, tc_sxtb16_odd(k), a2);
    }
    for (; j < n; ++j) {
        const int32_t v = (int32_t)(int16_t)offset + in[j];
        a0 += w[j] * v;
        a1 += w1[j] * v;
        a2 += w2[j] * v;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
}

/* acc += sum_j w[j] * (in[j] - zp), j < n: one row (the last rows % 3). */
static inline int32_t tc_row1_dsp(const int8_t *w, int32_t n,
                                  const int8_t *in, int16x2_t offset,
                                  int32_t acc)
{
    int32_t j;
    for (j = 0; j + 4 <= n; j += 4) {
        const uint32_t x = tc_load4(in + j);
        const uint32_t k = tc_load4(w + j);
        acc = __smlad(__sxtab16(offset, (int8x4_t)x), __sxtb16((int8x4_t)k),
                      acc);
        acc = __smlad(tc_sxtab16_odd(offset, x), tc_sxtb16_odd(k), acc);
    }
    for (; j < n; ++j) {
        acc += w[j] * ((int32_t)(int16_t)offset + in[j]);
    }
    return acc;
}

/* out[r] for rows r < rows of one input vector: dense int8 rows of n
 * weights starting at w, accumulators starting at the bias, then the
 * output stage. Outputs are written in increasing order, each after all
 * the input reads of its pass of three. */
static inline void tc_rows_out_dsp(const int8_t *w, int32_t rows, int32_t n,
                                   const int8_t *in, int32_t in_zp,
                                   const int32_t *bias,
                                   const tc_out_stage_t *o, int8_t *out)
{
    const int16x2_t offset = tc_dup16(-in_zp);
    int32_t r = 0;
    for (; r + 3 <= rows; r += 3) {
        int32_t acc[3];
        int32_t j;
        for (j = 0; j < 3; ++j) {
            acc[j] = bias != NULL ? bias[r + j] : 0;
        }
        tc_rows3_dsp(w + r * n, n, in, offset, acc);
        {
            const int8_t r0 = tc_out_dsp(o, r, acc[0]);
            const int8_t r1 = tc_out_dsp(o, r + 1, acc[1]);
            const int8_t r2 = tc_out_dsp(o, r + 2, acc[2]);
            out[r] = r0;
            out[r + 1] = r1;
            out[r + 2] = r2;
        }
    }
    for (; r < rows; ++r) {
        out[r] = tc_out_dsp(o, r,
                            tc_row1_dsp(w + r * n, n, in, offset,
                                        bias != NULL ? bias[r] : 0));
    }
}

#endif /* TC_ROWS_DSP_H */
