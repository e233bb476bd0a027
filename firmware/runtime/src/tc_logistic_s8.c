/*
 * tc_logistic_s8.c - LOGISTIC, int8 (TFLM reference integer Logistic:
 * input rescaled to Q4.27, gemmlowp logistic, output Q0.8 at zero point
 * -128). In place allowed.
 */
#include "tc_sigmoid_common.h"

static int32_t tc_logistic_curve(int32_t q4)
{
    return tc_rdbypot(tc_fp_logistic(q4, TC_SIGMOID_INPUT_BITS), 23) +
           TC_INT8_MIN;
}

tc_status_t tc_logistic_s8(const tc_logistic_params_t *p, const int8_t *input,
                           int8_t *output)
{
    return tc_sigmoid_run(p, input, output, tc_logistic_curve);
}
