/*
 * tc_avgpool_s8.c (Cortex-M DSP) - AVERAGE_POOL_2D, 4 channels per pass.
 *
 * Global pools of DS-CNN (25x5x64) and ResNet-8 (8x8x64) sum each window
 * four channels at a time: one load and two SXTAB16 per tap add bytes
 * 0, 2 and 1, 3 into the int16 lanes of two accumulators. A window of at
 * most 255 in-image taps cannot overflow an int16 lane (|sum| <= 255 * 128),
 * so the sums are exact; larger windows and the channels left over after
 * the groups of 4 take the per-channel loop. The division rounds half away
 * from zero, as src/tc_avgpool_s8.c and TFLM.
 *
 * Shifted overlap: a pixel's outputs are written in increasing channel
 * order, each after all reads of its channel, and pixels go in raster
 * order: every output is written after its reads and, when written, no read
 * of a lower address is still to come.
 */
#include "../../src/tc_pool_common.h"
#include "tc_dot_dsp.h"

#define TC_AVGPOOL_MAX_TAPS 255

static int8_t tc_avg_out(const tc_pool_params_t *p, int32_t sum, int32_t count)
{
    sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return (int8_t)tc_clamp(sum, p->act_min, p->act_max);
}

tc_status_t tc_avgpool_s8(const tc_pool_params_t *p, const int8_t *input,
                          int8_t *output)
{
    const tc_status_t status = tc_pool_check(p, input, output);
    const int32_t channels = p->input.c;
    const int32_t row = p->input.w * channels;
    int32_t b, oy, ox, c, fy, fx;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const tc_pool_span_t wy = tc_pool_rows(p, oy);
            for (ox = 0; ox < p->output.w; ++ox) {
                const tc_pool_span_t wx = tc_pool_cols(p, ox);
                const int32_t count =
                    (wy.end - wy.first) * (wx.end - wx.first);
                const int8_t *window;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                if (wy.end <= wy.first || wx.end <= wx.first) {
                    return TC_ERR_SHAPE;
                }
                window = input + tc_offset(&p->input, b, wy.origin + wy.first,
                                           wx.origin + wx.first, 0);
                c = 0;
                for (; count <= TC_AVGPOOL_MAX_TAPS && c + 4 <= channels;
                     c += 4) {
                    uint32_t even = 0, odd = 0;
                    for (fy = wy.first; fy < wy.end; ++fy) {
                        const int8_t *in = window + (fy - wy.first) * row + c;
                        for (fx = wx.first; fx < wx.end;
                             ++fx, in += channels) {
                            const uint32_t x = tc_load4(in);
                            even = (uint32_t)__sxtab16((int16x2_t)even,
                                                       (int8x4_t)x);
                            odd = (uint32_t)__sxtab16((int16x2_t)odd,
                                                      (int8x4_t)tc_ror8(x));
                        }
                    }
                    out[c] = tc_avg_out(p, (int16_t)(even & 0xFFFFu),
                                        count);
                    out[c + 1] = tc_avg_out(p, (int16_t)(odd & 0xFFFFu),
                                            count);
                    out[c + 2] = tc_avg_out(p, (int16_t)(even >> 16), count);
                    out[c + 3] = tc_avg_out(p, (int16_t)(odd >> 16), count);
                }
                for (; c < channels; ++c) {
                    int32_t sum = 0;
                    for (fy = wy.first; fy < wy.end; ++fy) {
                        const int8_t *in = window + (fy - wy.first) * row + c;
                        for (fx = wx.first; fx < wx.end;
                             ++fx, in += channels) {
                            sum += *in;
                        }
                    }
                    out[c] = tc_avg_out(p, sum, count);
                }
            }
        }
    }
    return TC_OK;
}
