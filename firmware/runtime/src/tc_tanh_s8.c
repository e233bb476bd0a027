/*
 * tc_tanh_s8.c - TANH, int8 (TFLM reference integer Tanh: input rescaled to
 * Q4.27, gemmlowp tanh, output Q0.7 at zero point 0). In place allowed.
 */
#include "tc_sigmoid_common.h"

static int32_t tc_tanh_curve(int32_t q4)
{
    return tc_rdbypot(tc_fp_tanh(q4, TC_SIGMOID_INPUT_BITS), 24);
}

tc_status_t tc_tanh_s8(const tc_tanh_params_t *p, const int8_t *input,
                       int8_t *output)
{
    return tc_sigmoid_run(p, input, output, tc_tanh_curve);
}
