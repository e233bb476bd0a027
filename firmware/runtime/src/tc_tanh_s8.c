/*
 * tc_tanh_s8.c - TANH, int8 (TFLM reference integer Tanh: input rescaled to
 * Q4.27, gemmlowp tanh, output Q0.7 at zero point 0). In place allowed.
 */
#include "tc_fixedpoint.h"

#define TC_TANH_INPUT_BITS 4

tc_status_t tc_tanh_s8(const tc_tanh_params_t *p, const int8_t *input,
                       int8_t *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->size < 0 ||
        !tc_shift_valid(p->input_left_shift)) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t x = input[i] - p->input_zero_point;
        int32_t value;
        if (x <= -p->input_range_radius) {
            value = TC_INT8_MIN;
        } else if (x >= p->input_range_radius) {
            value = TC_INT8_MAX;
        } else {
            const int32_t q4 =
                tc_mbqm(x, p->input_multiplier, p->input_left_shift);
            const int32_t q0 = tc_fp_tanh(q4, TC_TANH_INPUT_BITS);
            value = tc_clamp(tc_rdbypot(q0, 24), TC_INT8_MIN, TC_INT8_MAX);
        }
        output[i] = (int8_t)value;
    }
    return TC_OK;
}
