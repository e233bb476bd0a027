/*
 * tc_conv_common.h - CONV_2D argument checks shared by the reference kernel
 * and the architecture-optimised variants in firmware/runtime/arch/.
 */
#ifndef TC_CONV_COMMON_H
#define TC_CONV_COMMON_H

#include "tc_output.h"
#include "tc_weights.h"

static inline tc_status_t tc_conv_check(const tc_conv_params_t *p,
                                        const int8_t *input,
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
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (p->output.n != p->input.n) {
        return TC_ERR_SHAPE;
    }
    return tc_weights_check(&p->weights,
                            p->output.c * p->kernel_h * p->kernel_w *
                                p->input.c,
                            p->output.c, p->kernel_h * p->kernel_w == 1);
}

/* A 1x1 filter with no padding whose every output pixel reads an input
 * pixel: what tc_conv_1x1_s8 computes directly (dilation does not matter
 * for one tap). */
static inline int32_t tc_conv_is_1x1(const tc_conv_params_t *p)
{
    return p->kernel_h == 1 && p->kernel_w == 1 && p->pad_top == 0 &&
           p->pad_left == 0 &&
           (p->output.h - 1) * p->stride_h < p->input.h &&
           (p->output.w - 1) * p->stride_w < p->input.w;
}

#endif /* TC_CONV_COMMON_H */
