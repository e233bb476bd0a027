/*
 * tc_conv_s8.c (Helium) - CONV_2D. Dense layers with small windows (the
 * MLPerf Tiny convs: 1 or 3 input channels, 3x3 on up to 64) take the DSP
 * column path of arch/cortex-m-dsp/tc_conv_columns.h, 2 to 10 times fewer
 * instructions on the M55 than per-tap vector dots over so few channels;
 * the others use 16-lane MVE dot products over the input channels. The
 * in-image tap range is computed once per output pixel; outputs are written
 * once each, in the reference's order, after their reads, with the same
 * exact integer sums: bit-exact with TFLM and safe for the planner's
 * shifted overlap. Packed weights with a decode scratch are decoded once
 * per call (tc_conv_decoded) and run as dense.
 */
#include "../../src/tc_conv_common.h"
#include "../cortex-m-dsp/tc_conv_columns.h"
#include "../portable/tc_window.h"
#include "tc_dot_mve.h"

/* One kernel tap: the dot product over the input channels (a scalar loop
 * when there are too few of them for a vector step to pay off). */
static int32_t tc_conv_tap(const tc_conv_params_t *p, int32_t start,
                           int32_t oc, const int8_t *in)
{
    if (p->weights.format == TC_WEIGHTS_S8 && p->input.c >= 4) {
        return tc_dot_s8_mve((const int8_t *)p->weights.data + start, in,
                             p->input.c, p->input_zero_point, 0);
    }
    return tc_weights_dot(&p->weights, start, oc, in, p->input.c,
                          p->input_zero_point, 0);
}

tc_status_t tc_conv_s8(const tc_conv_params_t *p, const int8_t *input,
                       int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    tc_conv_params_t dense;
    const int32_t c = p->input.c;
    int32_t b, oy, ox, oc, ky, kx;

    if (status != TC_OK) {
        return status;
    }
    p = tc_conv_decoded(p, &dense);  /* packed weights: once per call */
    if (tc_conv_columns_fit(p)) {
        tc_conv_columns(p, input, output);
        return TC_OK;
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
                for (oc = 0; oc < p->output.c; ++oc) {
                    const int32_t q = p->requant.per_channel ? oc : 0;
                    int32_t acc = 0;
                    for (ky = ky0; ky < ky1; ++ky) {
                        const int32_t iy = iy0 + p->dilation_h * ky;
                        for (kx = kx0; kx < kx1; ++kx) {
                            const int32_t ix = ix0 + p->dilation_w * kx;
                            const int8_t *in =
                                input + tc_offset(&p->input, b, iy, ix, 0);
                            const int32_t start =
                                ((oc * p->kernel_h + ky) * p->kernel_w + kx) *
                                c;
                            acc += tc_conv_tap(p, start, oc, in);
                        }
                    }
                    if (p->bias != NULL) {
                        acc += p->bias[oc];
                    }
                    acc = tc_mbqm(acc, p->requant.multiplier[q],
                                  p->requant.shift[q]) +
                          p->output_zero_point;
                    out[oc] = (int8_t)tc_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return TC_OK;
}
