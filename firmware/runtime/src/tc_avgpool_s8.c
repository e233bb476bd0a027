/*
 * tc_avgpool_s8.c - AVERAGE_POOL_2D, int8 (TFLM reference AveragePool:
 * divide by the number of in-image taps, round half away from zero).
 */
#include "tc_pool_common.h"

tc_status_t tc_avgpool_s8(const tc_pool_params_t *p, const int8_t *input,
                          int8_t *output)
{
    const tc_status_t status = tc_pool_check(p, input, output);
    int32_t b, oy, ox, c;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const tc_pool_span_t wy = tc_pool_rows(p, oy);
            for (ox = 0; ox < p->output.w; ++ox) {
                const tc_pool_span_t wx = tc_pool_cols(p, ox);
                for (c = 0; c < p->input.c; ++c) {
                    int32_t acc = 0;
                    int32_t count = 0;
                    int32_t fy, fx;
                    for (fy = wy.first; fy < wy.end; ++fy) {
                        for (fx = wx.first; fx < wx.end; ++fx) {
                            acc += input[tc_offset(&p->input, b,
                                                   wy.origin + fy,
                                                   wx.origin + fx, c)];
                            ++count;
                        }
                    }
                    if (count == 0) {
                        return TC_ERR_SHAPE;
                    }
                    acc = acc > 0 ? (acc + count / 2) / count
                                  : (acc - count / 2) / count;
                    output[tc_offset(&p->output, b, oy, ox, c)] =
                        (int8_t)tc_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return TC_OK;
}
