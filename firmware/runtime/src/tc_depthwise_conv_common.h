/*
 * tc_depthwise_conv_common.h - DEPTHWISE_CONV_2D argument checks shared by
 * the reference kernel and the architecture-optimised variants.
 */
#ifndef TC_DEPTHWISE_CONV_COMMON_H
#define TC_DEPTHWISE_CONV_COMMON_H

#include "tc_output.h"
#include "tc_weights.h"

static inline tc_status_t
tc_dw_check(const tc_depthwise_conv_params_t *p, const int8_t *input,
            const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL ||
        p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return TC_ERR_ARG;
    }
    if (!tc_shape_valid(&p->input) ||
        !tc_shape_valid(&p->output) || p->kernel_h < 1 || p->kernel_w < 1 ||
        p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 ||
        p->dilation_w < 1 || p->pad_top < 0 || p->pad_left < 0 ||
        p->depth_multiplier < 1 || !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (p->output.n != p->input.n ||
        p->output.c != p->input.c * p->depth_multiplier) {
        return TC_ERR_SHAPE;
    }
    return tc_weights_check(&p->weights,
                            p->kernel_h * p->kernel_w * p->output.c,
                            p->output.c, 0);
}

#endif /* TC_DEPTHWISE_CONV_COMMON_H */
