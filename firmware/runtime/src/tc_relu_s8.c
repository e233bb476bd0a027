/*
 * tc_relu_s8.c - standalone RELU, int8 (TFLM ReluQuantized: requantise, then
 * clamp). In place allowed.
 */
#include "tc_fixedpoint.h"

tc_status_t tc_relu_s8(const tc_relu_params_t *p, const int8_t *input,
                       int8_t *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->size < 0 ||
        !tc_shift_valid(p->output_shift) ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t value =
            p->output_zero_point + tc_mbqm(input[i] - p->input_zero_point,
                                           p->output_multiplier,
                                           p->output_shift);
        output[i] = (int8_t)tc_clamp(value, p->act_min, p->act_max);
    }
    return TC_OK;
}
