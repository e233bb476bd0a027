/*
 * tc_dequantize_s8_f32.c - DEQUANTIZE int8 -> float32 (TFLite reference
 * Dequantize: product in double, then narrowed to float).
 */
#include "tc_fixedpoint.h"

tc_status_t tc_dequantize_s8_f32(const tc_dequantize_params_t *p,
                                 const int8_t *input, float *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->size < 0) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        output[i] = (float)(p->scale * (double)(input[i] - p->zero_point));
    }
    return TC_OK;
}
