/*
 * tc_conv_1x1_s8.c - CONV_2D with a 1x1 filter and no padding (pointwise
 * layers of DS-CNN and MobileNet, ResNet's strided shortcuts), int8: each
 * output pixel is a row of weights times one input pixel, with no window
 * arithmetic (TFLM reference ConvPerChannel arithmetic). Other shapes go
 * to tc_conv_s8.
 */
#include "tc_conv_common.h"

tc_status_t tc_conv_1x1_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    int32_t b, oy, ox, oc;

    if (status != TC_OK) {
        return status;
    }
    if (!tc_conv_is_1x1(p)) {
        return tc_conv_s8(p, input, output);
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            for (ox = 0; ox < p->output.w; ++ox) {
                const int8_t *in = input + tc_offset(&p->input, b,
                                                     oy * p->stride_h,
                                                     ox * p->stride_w, 0);
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                for (oc = 0; oc < p->output.c; ++oc) {
                    const int32_t acc = tc_weights_dot(
                        &p->weights, oc * p->input.c, oc, in, p->input.c,
                        p->input_zero_point, 0);
                    out[oc] = tc_out_s8(acc, p->bias, oc, &p->requant,
                                        p->output_zero_point, p->act_min,
                                        p->act_max);
                }
            }
        }
    }
    return TC_OK;
}
