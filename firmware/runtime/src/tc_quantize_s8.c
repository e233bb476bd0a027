/*
 * tc_quantize_s8.c - QUANTIZE int8 -> int8 (TFLite reference Requantize).
 * In place allowed.
 */
#include "tc_fixedpoint.h"

tc_status_t tc_quantize_s8(const tc_requantize_params_t *p,
                           const int8_t *input, int8_t *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->size < 0 ||
        !tc_shift_valid(p->shift)) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t value =
            tc_mbqm(input[i] - p->input_zero_point, p->multiplier, p->shift) +
            p->output_zero_point;
        output[i] = (int8_t)tc_clamp(value, TC_INT8_MIN, TC_INT8_MAX);
    }
    return TC_OK;
}
