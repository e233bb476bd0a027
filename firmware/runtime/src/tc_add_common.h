/*
 * tc_add_common.h - ADD argument checks and the general broadcasting loop,
 * shared by the reference kernel and the architecture-optimised variants
 * (which fall back to it for shapes and constants their fast path does not
 * take).
 */
#ifndef TC_ADD_COMMON_H
#define TC_ADD_COMMON_H

#include "tc_broadcast.h"

/* One output element: TFLM reference AddFunc (inputs shifted left by
 * left_shift, rescaled to a common scale, summed, rescaled to the output). */
static inline int8_t tc_add_one(const tc_add_params_t *p, int32_t x, int32_t y)
{
    const int32_t a = tc_wrap_shl(x - p->input1_zero_point, p->left_shift);
    const int32_t b = tc_wrap_shl(y - p->input2_zero_point, p->left_shift);
    const int32_t sum =
        tc_wrap_add(tc_mbqm(a, p->input1_multiplier, p->input1_shift),
                    tc_mbqm(b, p->input2_multiplier, p->input2_shift));
    const int32_t out = tc_mbqm(sum, p->output_multiplier, p->output_shift) +
                        p->output_zero_point;
    return (int8_t)tc_clamp(out, p->act_min, p->act_max);
}

static inline tc_status_t tc_add_check(const tc_add_params_t *p,
                                       const int8_t *input1,
                                       const int8_t *input2,
                                       const int8_t *output)
{
    if (p == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !tc_shape_valid(&p->input1) || !tc_shape_valid(&p->input2) ||
        !tc_shape_valid(&p->output) || p->left_shift < 0 ||
        p->left_shift > 30 || p->input1_shift > 0 || p->input2_shift > 0 ||
        p->output_shift > 0 || !tc_shift_valid(p->input1_shift) ||
        !tc_shift_valid(p->input2_shift) || !tc_shift_valid(p->output_shift) ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (!tc_broadcasts(&p->input1, &p->output) ||
        !tc_broadcasts(&p->input2, &p->output)) {
        return TC_ERR_SHAPE;
    }
    return TC_OK;
}

/* Every output element in raster order, broadcasting size-1 input dims. */
static inline void tc_add_broadcast(const tc_add_params_t *p,
                                    const int8_t *input1,
                                    const int8_t *input2, int8_t *output)
{
    int32_t n, h, w, c;
    for (n = 0; n < p->output.n; ++n) {
        for (h = 0; h < p->output.h; ++h) {
            for (w = 0; w < p->output.w; ++w) {
                for (c = 0; c < p->output.c; ++c) {
                    output[tc_offset(&p->output, n, h, w, c)] = tc_add_one(
                        p, input1[tc_boffset(&p->input1, n, h, w, c)],
                        input2[tc_boffset(&p->input2, n, h, w, c)]);
                }
            }
        }
    }
}

#endif /* TC_ADD_COMMON_H */
