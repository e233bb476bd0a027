/*
 * tc_pool_common.h - argument checks shared by the two pooling kernels.
 */
#ifndef TC_POOL_COMMON_H
#define TC_POOL_COMMON_H

#include "tc_fixedpoint.h"

static inline tc_status_t tc_pool_check(const tc_pool_params_t *p,
                                        const int8_t *input,
                                        const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL ||
        !tc_shape_valid(&p->input) || !tc_shape_valid(&p->output) ||
        p->filter_h < 1 || p->filter_w < 1 || p->stride_h < 1 ||
        p->stride_w < 1 || p->pad_top < 0 || p->pad_left < 0 ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (p->output.n != p->input.n || p->output.c != p->input.c) {
        return TC_ERR_SHAPE;
    }
    return TC_OK;
}

static inline int32_t tc_max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static inline int32_t tc_min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

#endif /* TC_POOL_COMMON_H */
