/*
 * tc_softmax_s8.c - SOFTMAX, int8 -> int8 (TFLM reference Softmax: gemmlowp
 * exp of the scaled difference to the row maximum, Q12 accumulation,
 * fixed-point reciprocal).
 */
#include "tc_fixedpoint.h"

#define TC_SOFTMAX_DIFF_BITS 5
#define TC_SOFTMAX_ACC_BITS 12
/* Rows up to this depth (classifier heads: 2 to 12 classes) keep each
 * element's exp on the stack between the sum and the output pass instead of
 * computing it twice; the values are the same either way. */
#define TC_SOFTMAX_CACHE 64

static int32_t tc_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

static int32_t tc_softmax_exp(const tc_softmax_params_t *p, int32_t diff)
{
    const int32_t scaled = tc_srdhm(tc_wrap_shl(diff, p->input_left_shift),
                                    p->input_multiplier);
    return tc_fp_exp_on_negative_values(scaled, TC_SOFTMAX_DIFF_BITS);
}

tc_status_t tc_softmax_s8(const tc_softmax_params_t *p, const int8_t *input,
                          int8_t *output)
{
    int32_t r, i;

    if (p == NULL || input == NULL || output == NULL || p->rows < 1 ||
        p->depth < 1 || p->input_left_shift < 0 || p->input_left_shift > 30 ||
        p->diff_min > 0) {
        return TC_ERR_ARG;
    }
    for (r = 0; r < p->rows; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max_in_row = TC_INT8_MIN;
        int32_t sum = 0;
        int32_t headroom, bits_over_unit, scale;
        int32_t exps[TC_SOFTMAX_CACHE];
        const int32_t cached = p->depth <= TC_SOFTMAX_CACHE;

        for (i = 0; i < p->depth; ++i) {
            if (in[i] > max_in_row) {
                max_in_row = in[i];
            }
        }
        for (i = 0; i < p->depth; ++i) {
            const int32_t diff = in[i] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t e = tc_softmax_exp(p, diff);
                if (cached) {
                    exps[i] = e;
                }
                sum = tc_wrap_add(sum, tc_rescale(e, 0, TC_SOFTMAX_ACC_BITS));
            }
        }
        headroom = tc_clz32((uint32_t)sum);
        bits_over_unit = TC_SOFTMAX_ACC_BITS - headroom;
        scale = tc_fp_one_over_one_plus_x(
            (int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        for (i = 0; i < p->depth; ++i) {
            const int32_t diff = in[i] - max_in_row;
            int32_t value = TC_INT8_MIN;
            if (diff >= p->diff_min) {
                const int32_t e = cached ? exps[i] : tc_softmax_exp(p, diff);
                const int32_t prob = tc_srdhm(scale, e);
                value = tc_rdbypot(prob, bits_over_unit + 31 - 8) + TC_INT8_MIN;
                value = tc_clamp(value, TC_INT8_MIN, TC_INT8_MAX);
            }
            out[i] = (int8_t)value;
        }
    }
    return TC_OK;
}
