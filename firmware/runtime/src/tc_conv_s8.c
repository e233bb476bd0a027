/*
 * tc_conv_s8.c - CONV_2D, int8, per-channel requantisation (TFLM reference
 * ConvPerChannel arithmetic).
 */
#include "tc_conv_common.h"

tc_status_t tc_conv_s8(const tc_conv_params_t *p, const int8_t *input,
                       int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    int32_t b, oy, ox, oc;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (oc = 0; oc < p->output.c; ++oc) {
                    int32_t acc = 0;
                    int32_t ky, kx;
                    for (ky = 0; ky < p->kernel_h; ++ky) {
                        const int32_t iy = iy0 + p->dilation_h * ky;
                        if (iy < 0 || iy >= p->input.h) {
                            continue;
                        }
                        for (kx = 0; kx < p->kernel_w; ++kx) {
                            const int32_t ix = ix0 + p->dilation_w * kx;
                            if (ix < 0 || ix >= p->input.w) {
                                continue;
                            }
                            acc += tc_weights_dot(
                                &p->weights,
                                ((oc * p->kernel_h + ky) * p->kernel_w + kx) *
                                    p->input.c,
                                oc, input + tc_offset(&p->input, b, iy, ix, 0),
                                p->input.c, p->input_zero_point, 0);
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
    return TC_OK;
}
