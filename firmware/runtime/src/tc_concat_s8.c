/*
 * tc_concat_s8.c - CONCATENATION, int8. Inputs quantised like the output are
 * copied (TFLM); others are requantised with TFLite's Requantize arithmetic.
 */
#include <string.h>

#include "tc_fixedpoint.h"

static void tc_concat_part(const tc_concat_requant_t *rq, int32_t out_zp,
                           const int8_t *in, int8_t *out, int32_t size)
{
    int32_t i;
    if (rq == NULL || rq->multiplier == 0) {
        memcpy(out, in, (size_t)size);
        return;
    }
    for (i = 0; i < size; ++i) {
        const int32_t value =
            tc_mbqm(in[i] - rq->input_zero_point, rq->multiplier, rq->shift) +
            out_zp;
        out[i] = (int8_t)tc_clamp(value, TC_INT8_MIN, TC_INT8_MAX);
    }
}

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
        if (inputs[i] == NULL || p->copy_size[i] < 0 ||
            (p->requant != NULL && !tc_shift_valid(p->requant[i].shift))) {
            return TC_ERR_ARG;
        }
    }
    for (outer = 0; outer < p->outer_size; ++outer) {
        for (i = 0; i < p->num_inputs; ++i) {
            const int32_t size = p->copy_size[i];
            tc_concat_part(p->requant != NULL ? &p->requant[i] : NULL,
                           p->output_zero_point, inputs[i] + outer * size,
                           output, size);
            output += size;
        }
    }
    return TC_OK;
}
