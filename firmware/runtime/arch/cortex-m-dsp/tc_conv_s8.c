/*
 * tc_conv_s8.c (Cortex-M DSP) - CONV_2D with SMLAD dot products.
 *
 * Differences from firmware/runtime/src/tc_conv_s8.c are only in how the
 * same exact integer sums are formed: the in-image tap range is computed
 * once per output pixel, and two output channels share each widened input
 * word. Outputs are still written once each, in increasing address order,
 * after all their reads, so the shifted-overlap contract and bit-exactness
 * with TFLM hold.
 */
#include "../../src/tc_conv_common.h"
#include "tc_dot_dsp.h"
#include "../portable/tc_window.h"

static int8_t tc_conv_out(const tc_conv_params_t *p, int32_t oc, int32_t acc)
{
    const int32_t q = p->requant.per_channel ? oc : 0;
    if (p->bias != NULL) {
        acc += p->bias[oc];
    }
    acc = tc_mbqm(acc, p->requant.multiplier[q], p->requant.shift[q]) +
          p->output_zero_point;
    return (int8_t)tc_clamp(acc, p->act_min, p->act_max);
}

/* Sums of output channels oc (and oc + 1 when `pair`) at one output pixel. */
static void tc_conv_pixel(const tc_conv_params_t *p, const int8_t *input,
                          int32_t b, int32_t iy0, int32_t ix0, int32_t ky0,
                          int32_t ky1, int32_t kx0, int32_t kx1, int32_t oc,
                          int32_t pair, int32_t acc[2])
{
    const int32_t c = p->input.c;
    const int32_t kstride = p->kernel_h * p->kernel_w * c;
    const int32_t fast = p->weights.format == TC_WEIGHTS_S8 && c >= 4;
    int32_t ky, kx;

    acc[0] = 0;
    acc[1] = 0;
    for (ky = ky0; ky < ky1; ++ky) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        for (kx = kx0; kx < kx1; ++kx) {
            const int32_t ix = ix0 + p->dilation_w * kx;
            const int8_t *in = input + tc_offset(&p->input, b, iy, ix, 0);
            const int32_t start =
                ((oc * p->kernel_h + ky) * p->kernel_w + kx) * c;
            if (fast) {
                const int8_t *w = (const int8_t *)p->weights.data + start;
                if (pair) {
                    tc_dot2_s8_dsp(w, w + kstride, in, c,
                                   p->input_zero_point, acc);
                } else {
                    acc[0] += tc_dot_s8_dsp(w, in, c, p->input_zero_point, 0);
                }
            } else {
                acc[0] += tc_weights_dot(&p->weights, start, oc, in, c,
                                         p->input_zero_point, 0);
                if (pair) {
                    acc[1] += tc_weights_dot(&p->weights, start + kstride,
                                             oc + 1, in, c,
                                             p->input_zero_point, 0);
                }
            }
        }
    }
}

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
            int32_t ky0, ky1;
            tc_tap_range(iy0, p->dilation_h, p->kernel_h, p->input.h, &ky0,
                         &ky1);
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                int32_t kx0, kx1;
                tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w,
                             &kx0, &kx1);
                for (oc = 0; oc < p->output.c; oc += 2) {
                    const int32_t pair = oc + 1 < p->output.c;
                    int32_t acc[2];
                    tc_conv_pixel(p, input, b, iy0, ix0, ky0, ky1, kx0, kx1,
                                  oc, pair, acc);
                    out[oc] = tc_conv_out(p, oc, acc[0]);
                    if (pair) {
                        out[oc + 1] = tc_conv_out(p, oc + 1, acc[1]);
                    }
                }
            }
        }
    }
    return TC_OK;
}
