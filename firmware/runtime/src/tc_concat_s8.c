/*
 * tc_concat_s8.c - CONCATENATION, int8: copies bytes, as TFLM (whose Prepare
 * requires every input to be quantised exactly like the output).
 */
#include <string.h>

#include "tc_fixedpoint.h"

tc_status_t tc_concat_s8(const tc_concat_params_t *p,
                         const int8_t *const *inputs, int8_t *output)
{
    int32_t outer, i;

    if (p == NULL || inputs == NULL || output == NULL ||
        p->copy_size == NULL || p->num_inputs < 1 ||
        p->num_inputs > TC_CONCAT_MAX_INPUTS || p->outer_size < 1) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->num_inputs; ++i) {
        if (inputs[i] == NULL || p->copy_size[i] < 0) {
            return TC_ERR_ARG;
        }
    }
    for (outer = 0; outer < p->outer_size; ++outer) {
        for (i = 0; i < p->num_inputs; ++i) {
            const int32_t size = p->copy_size[i];
            memcpy(output, inputs[i] + outer * size, (size_t)size);
            output += size;
        }
    }
    return TC_OK;
}
