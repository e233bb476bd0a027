/*
 * tc_sigmoid_common.h - the TFLM reference integer loop shared by LOGISTIC
 * and TANH: saturate outside the input range radius, else rescale the input
 * to Q4.27 and map it through the kernel's curve (Q4.27 -> int8 value
 * before clamping). Static inline, so each kernel's curve is inlined.
 * In place allowed.
 */
#ifndef TC_SIGMOID_COMMON_H
#define TC_SIGMOID_COMMON_H

#include "tc_fixedpoint.h"

#define TC_SIGMOID_INPUT_BITS 4

static inline tc_status_t tc_sigmoid_run(const tc_logistic_params_t *p,
                                         const int8_t *input, int8_t *output,
                                         int32_t (*curve)(int32_t q4))
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
            value = tc_clamp(curve(tc_mbqm(x, p->input_multiplier,
                                           p->input_left_shift)),
                             TC_INT8_MIN, TC_INT8_MAX);
        }
        output[i] = (int8_t)value;
    }
    return TC_OK;
}

#endif /* TC_SIGMOID_COMMON_H */
