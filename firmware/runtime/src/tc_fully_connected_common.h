/*
 * tc_fully_connected_common.h - FULLY_CONNECTED argument checks shared by
 * the reference kernel and the architecture-optimised variants.
 */
#ifndef TC_FULLY_CONNECTED_COMMON_H
#define TC_FULLY_CONNECTED_COMMON_H

#include "tc_weights.h"

static inline tc_status_t
tc_fully_connected_check(const tc_fully_connected_params_t *p,
                         const int8_t *input, const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL ||
        p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return TC_ERR_ARG;
    }
    if (p->batches < 1 || p->input_depth < 1 || p->output_depth < 1 ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (p->weights.format == TC_WEIGHTS_SPARSE8 &&
        p->weights_zero_point != 0) {
        return TC_ERR_UNSUPPORTED;
    }
    return tc_weights_check(&p->weights, p->input_depth * p->output_depth,
                            p->output_depth, 1);
}

#endif /* TC_FULLY_CONNECTED_COMMON_H */
