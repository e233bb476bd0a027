/*
 * tc_maxpool_s8.c - MAX_POOL_2D, int8 (TFLM reference MaxPool).
 */
#include "tc_pool_common.h"

tc_status_t tc_maxpool_s8(const tc_pool_params_t *p, const int8_t *input,
                          int8_t *output)
{
    const tc_status_t status = tc_pool_check(p, input, output);
    int32_t b, oy, ox, c;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int32_t fy0 = tc_max_i32(0, -iy0);
            const int32_t fy1 = tc_min_i32(p->filter_h, p->input.h - iy0);
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                const int32_t fx0 = tc_max_i32(0, -ix0);
                const int32_t fx1 = tc_min_i32(p->filter_w, p->input.w - ix0);
                for (c = 0; c < p->input.c; ++c) {
                    int32_t best = TC_INT8_MIN;
                    int32_t fy, fx;
                    for (fy = fy0; fy < fy1; ++fy) {
                        for (fx = fx0; fx < fx1; ++fx) {
                            best = tc_max_i32(
                                best, input[tc_offset(&p->input, b, iy0 + fy,
                                                      ix0 + fx, c)]);
                        }
                    }
                    output[tc_offset(&p->output, b, oy, ox, c)] =
                        (int8_t)tc_clamp(best, p->act_min, p->act_max);
                }
            }
        }
    }
    return TC_OK;
}
