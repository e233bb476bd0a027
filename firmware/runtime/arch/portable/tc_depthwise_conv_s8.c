/*
 * tc_depthwise_conv_s8.c (portable) - DEPTHWISE_CONV_2D, channel-innermost,
 * in plain C99 for any core.
 *
 * The reference walks taps per output channel, recomputing addresses for
 * every multiply. Here each output pixel's in-image tap range is found once
 * and every tap updates up to TC_DW_CHUNK channel accumulators from two
 * contiguous rows (input channels, weights), which the compiler turns into
 * plain load-multiply-accumulate sequences. The sums are the same exact
 * integers, and each pixel's outputs are written in increasing channel order
 * after that pixel's window is read, so results stay bit-identical with TFLM
 * and the shifted-overlap contract holds (a chunk is written before the
 * next chunk re-reads the same window, which the reference also does).
 */
#include "../../src/tc_depthwise_conv_common.h"
#include "tc_window.h"

#define TC_DW_CHUNK 32

static void tc_dw_taps(const tc_depthwise_conv_params_t *p,
                       const int8_t *input, int32_t b, int32_t iy0,
                       int32_t ix0, const int32_t range[4], int32_t oc0,
                       int32_t count, int32_t *acc)
{
    const int32_t cout = p->output.c;
    const int32_t dm = p->depth_multiplier;
    const int32_t zp = p->input_zero_point;
    int32_t ky, kx, j;

    for (j = 0; j < count; ++j) {
        acc[j] = 0;
    }
    for (ky = range[0]; ky < range[1]; ++ky) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        for (kx = range[2]; kx < range[3]; ++kx) {
            const int32_t ix = ix0 + p->dilation_w * kx;
            const int8_t *in = input + tc_offset(&p->input, b, iy, ix, 0);
            const int32_t tap = (ky * p->kernel_w + kx) * cout + oc0;
            if (p->weights.format == TC_WEIGHTS_S8 && dm == 1) {
                const int8_t *w = (const int8_t *)p->weights.data + tap;
                const int8_t *x = in + oc0;
                for (j = 0; j < count; ++j) {
                    acc[j] += (int32_t)w[j] * ((int32_t)x[j] - zp);
                }
            } else {
                for (j = 0; j < count; ++j) {
                    const int32_t oc = oc0 + j;
                    acc[j] += tc_weight_at(&p->weights, tap + j, oc) *
                              ((int32_t)in[oc / dm] - zp);
                }
            }
        }
    }
}

tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_dw_check(p, input, output);
    int32_t acc[TC_DW_CHUNK];
    int32_t b, oy, ox, oc0, j;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t range[4];
            tc_tap_range(iy0, p->dilation_h, p->kernel_h, p->input.h,
                         &range[0], &range[1]);
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w,
                             &range[2], &range[3]);
                for (oc0 = 0; oc0 < p->output.c; oc0 += TC_DW_CHUNK) {
                    const int32_t left = p->output.c - oc0;
                    const int32_t count = left < TC_DW_CHUNK ? left
                                                             : TC_DW_CHUNK;
                    tc_dw_taps(p, input, b, iy0, ix0, range, oc0, count, acc);
                    for (j = 0; j < count; ++j) {
                        const int32_t oc = oc0 + j;
                        const int32_t q = p->requant.per_channel ? oc : 0;
                        int32_t v = acc[j];
                        if (p->bias != NULL) {
                            v += p->bias[oc];
                        }
                        v = tc_mbqm(v, p->requant.multiplier[q],
                                    p->requant.shift[q]) +
                            p->output_zero_point;
                        out[oc] = (int8_t)tc_clamp(v, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return TC_OK;
}
