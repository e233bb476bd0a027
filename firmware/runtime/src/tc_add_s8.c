/*
 * tc_add_s8.c - ADD, int8, 4-D broadcasting (TFLM reference AddFunc:
 * inputs shifted left by left_shift, rescaled to a common scale, summed,
 * rescaled to the output).
 */
#include "tc_add_common.h"

tc_status_t tc_add_s8(const tc_add_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    const tc_status_t status = tc_add_check(p, input1, input2, output);

    if (status != TC_OK) {
        return status;
    }
    tc_add_broadcast(p, input1, input2, output);
    return TC_OK;
}
