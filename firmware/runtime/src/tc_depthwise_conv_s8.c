/*
 * tc_depthwise_conv_s8.c - DEPTHWISE_CONV_2D, int8, any depth multiplier
 * (TFLM reference DepthwiseConvPerChannel arithmetic).
 */
#include "tc_depthwise_conv_common.h"

tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_dw_check(p, input, output);
    int32_t b, oy, ox, ic, m;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (ic = 0; ic < p->input.c; ++ic) {
                    for (m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        int32_t ky, kx;
                        for (ky = 0; ky < p->kernel_h; ++ky) {
                            const int32_t iy = iy0 + p->dilation_h * ky;
                            if (iy < 0 || iy >= p->input.h) {
                                continue;
                            }
                            for (kx = 0; kx < p->kernel_w; ++kx) {
                                const int32_t ix = ix0 + p->dilation_w * kx;
                                int32_t in;
                                if (ix < 0 || ix >= p->input.w) {
                                    continue;
                                }
                                in = input[tc_offset(&p->input, b, iy, ix, ic)];
                                acc += tc_weight_at(&p->weights,
                                                    (ky * p->kernel_w + kx) *
                                                            p->output.c +
                                                        oc,
                                                    oc) *
                                       (in - p->input_zero_point);
                            }
                        }
                        output[tc_offset(&p->output, b, oy, ox, oc)] =
                            tc_out_s8(acc, p->bias, oc, &p->requant,
                                      p->output_zero_point, p->act_min,
                                      p->act_max);
                    }
                }
            }
        }
    }
    return TC_OK;
}
