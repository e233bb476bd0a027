/*
 * tc_conv_s8.c (Cortex-M DSP) - CONV_2D with SMLAD dot products.
 *
 * Differences from firmware/runtime/src/tc_conv_s8.c are only in how the
 * same exact integer sums are formed. Dense layers with windows of up to
 * TC_CONV_COL_MAX values (the MLPerf Tiny convs) take the column path of
 * tc_conv_columns.h; the others (palette weights, larger windows) the tap
 * path here: the in-image tap range once per pixel, two output channels per
 * input load, outputs written once each in increasing address order after
 * their reads. Packed weights with a decode scratch are decoded once per
 * call (tc_conv_decoded) and take the dense paths.
 */
#include "tc_conv_columns.h"

/* Sums of output channels oc and oc + 1 (acc[1] unused when oc is the
 * last) at one output pixel whose in-image taps are range = {ky0, ky1, kx0,
 * kx1}: one dot product per tap, any weight format. */
static void tc_conv_taps(const tc_conv_params_t *p, const int8_t *input,
                         int32_t b, int32_t iy0, int32_t ix0,
                         const int32_t range[4], int32_t oc, int32_t acc[2])
{
    const int32_t c = p->input.c;
    const int32_t kstride = p->kernel_h * p->kernel_w * c;
    const int32_t oc1 = oc + 1 < p->output.c ? oc + 1 : oc;
    int32_t ky, kx;

    acc[0] = 0;
    acc[1] = 0;
    for (ky = range[0]; ky < range[1]; ++ky) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        for (kx = range[2]; kx < range[3]; ++kx) {
            const int32_t ix = ix0 + p->dilation_w * kx;
            const int8_t *in = input + tc_offset(&p->input, b, iy, ix, 0);
            const int32_t start =
                ((oc * p->kernel_h + ky) * p->kernel_w + kx) * c;
            if (p->weights.format == TC_WEIGHTS_S8) {
                const int8_t *w = (const int8_t *)p->weights.data + start;
                tc_dot2_s8_dsp(w, w + (oc1 - oc) * kstride, in, c,
                               p->input_zero_point, acc);
            } else {
                acc[0] += tc_weights_dot(&p->weights, start, oc, in, c,
                                         p->input_zero_point, 0);
                if (oc1 != oc) {
                    acc[1] += tc_weights_dot(&p->weights, start + kstride,
                                             oc1, in, c, p->input_zero_point,
                                             0);
                }
            }
        }
    }
}

tc_status_t tc_conv_s8(const tc_conv_params_t *p, const int8_t *input,
                       int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    tc_conv_params_t dense;
    int32_t b, oy, ox, oc;

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
            int32_t range[4];
            tc_tap_range(iy0, p->dilation_h, p->kernel_h, p->input.h,
                         &range[0], &range[1]);
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w,
                             &range[2], &range[3]);
                for (oc = 0; oc < p->output.c; oc += 2) {
                    int32_t acc[2];
                    tc_conv_taps(p, input, b, iy0, ix0, range, oc, acc);
                    out[oc] = tc_conv_out(p, oc, acc[0]);
                    if (oc + 1 < p->output.c) {
                        out[oc + 1] = tc_conv_out(p, oc + 1, acc[1]);
                    }
                }
            }
        }
    }
    return TC_OK;
}
