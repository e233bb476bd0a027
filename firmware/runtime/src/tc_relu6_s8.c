/*
 * tc_relu6_s8.c - standalone RELU6, int8 (TFLM Relu6Quantized: clamp to
 * [quantised 0, quantised 6] in the input's domain). In place allowed.
 */
#include "tc_fixedpoint.h"

tc_status_t tc_relu6_s8(const tc_relu6_params_t *p, const int8_t *input,
                        int8_t *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->size < 0 ||
        !tc_act_valid(p->lower, TC_INT8_MAX) ||
        !tc_act_valid(TC_INT8_MIN, p->upper)) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t value = input[i];
        output[i] = (int8_t)(value > p->upper ? p->upper
                                              : (value < p->lower ? p->lower
                                                                  : value));
    }
    return TC_OK;
}
