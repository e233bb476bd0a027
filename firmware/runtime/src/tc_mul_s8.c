/*
 * tc_mul_s8.c - MUL, int8, 4-D broadcasting (TFLM reference MulElementwise).
 */
#include "tc_broadcast.h"

tc_status_t tc_mul_s8(const tc_mul_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    int32_t n, h, w, c;

    if (p == NULL || input1 == NULL || input2 == NULL || output == NULL ||
        !tc_shape_valid(&p->input1) || !tc_shape_valid(&p->input2) ||
        !tc_shape_valid(&p->output) || !tc_shift_valid(p->output_shift) ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (!tc_broadcasts(&p->input1, &p->output) ||
        !tc_broadcasts(&p->input2, &p->output)) {
        return TC_ERR_SHAPE;
    }
    for (n = 0; n < p->output.n; ++n) {
        for (h = 0; h < p->output.h; ++h) {
            for (w = 0; w < p->output.w; ++w) {
                for (c = 0; c < p->output.c; ++c) {
                    const int32_t x =
                        input1[tc_boffset(&p->input1, n, h, w, c)] -
                        p->input1_zero_point;
                    const int32_t y =
                        input2[tc_boffset(&p->input2, n, h, w, c)] -
                        p->input2_zero_point;
                    const int32_t out =
                        tc_mbqm(x * y, p->output_multiplier, p->output_shift) +
                        p->output_zero_point;
                    output[tc_offset(&p->output, n, h, w, c)] =
                        (int8_t)tc_clamp(out, p->act_min, p->act_max);
                }
            }
        }
    }
    return TC_OK;
}
