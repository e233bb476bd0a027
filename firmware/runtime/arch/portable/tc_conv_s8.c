/*
 * tc_conv_s8.c (portable) - CONV_2D in plain C99 for any core.
 *
 * The same exact integer sums as firmware/runtime/src/tc_conv_s8.c, formed
 * faster: the in-image tap range is computed once per output pixel, and two
 * output channels share each input load. Each pixel's outputs are written
 * once, in increasing channel order, after that pixel's window is read, so
 * results are bit-identical with TFLM and the shifted-overlap contract holds.
 * Packed weights with a decode scratch are decoded once per call
 * (tc_conv_decoded) and run as dense.
 */
#include "../../src/tc_conv_common.h"
#include "tc_window.h"

/* acc[0] += w0 . (in - zp), acc[1] += w1 . (in - zp) over n channels. */
static void tc_dot2_s8(const int8_t *w0, const int8_t *w1, const int8_t *in,
                       int32_t n, int32_t zp, int32_t acc[2])
{
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t j;
    for (j = 0; j < n; ++j) {
        const int32_t x = (int32_t)in[j] - zp;
        a0 += (int32_t)w0[j] * x;
        a1 += (int32_t)w1[j] * x;
    }
    acc[0] = a0;
    acc[1] = a1;
}

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

/* Sums of output channels oc and, when `pair`, oc + 1 at one output pixel
 * whose in-image taps are range = {ky0, ky1, kx0, kx1}. */
static void tc_conv_pixel(const tc_conv_params_t *p, const int8_t *input,
                          int32_t b, int32_t iy0, int32_t ix0,
                          const int32_t range[4], int32_t oc, int32_t pair,
                          int32_t acc[2])
{
    const int32_t c = p->input.c;
    const int32_t kstride = p->kernel_h * p->kernel_w * c;
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
            if (p->weights.format == TC_WEIGHTS_S8 && pair) {
                const int8_t *w = (const int8_t *)p->weights.data + start;
                tc_dot2_s8(w, w + kstride, in, c, p->input_zero_point, acc);
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
    tc_conv_params_t dense;
    int32_t b, oy, ox, oc;

    if (status != TC_OK) {
        return status;
    }
    p = tc_conv_decoded(p, &dense);  /* packed weights: once per call */
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
                    const int32_t pair = oc + 1 < p->output.c;
                    int32_t acc[2];
                    tc_conv_pixel(p, input, b, iy0, ix0, range, oc, pair,
                                  acc);
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
