/*
 * tc_mean_s8.c - MEAN, int8, 4-D, any set of axes (TFLM reference
 * QuantizedMeanOrSum: exact int32 sum, then one requantisation whose
 * multiplier absorbs 1/count; see tc_mean_common.h).
 */
#include "tc_mean_common.h"

tc_status_t tc_mean_s8(const tc_mean_params_t *p, const int8_t *input,
                       int8_t *output)
{
    tc_mean_plan_t m;
    const tc_status_t status = tc_mean_prepare(p, input, output, &m);

    if (status != TC_OK) {
        return status;
    }
    tc_mean_general(p, &m, input, output);
    return TC_OK;
}
