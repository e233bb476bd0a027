/*
 * tc_conv_s8.c (portable) - CONV_2D in plain C99 for any core.
 *
 * The same exact integer sums as firmware/runtime/src/tc_conv_s8.c, formed
 * faster. Dense weights (packed ones with a decode scratch are decoded once
 * per call by tc_conv_decoded and run as dense), windows of up to
 * TC_COLUMN_MAX values and up to TC_COLUMN_CHANNELS_MAX output channels
 * take the column path (tc_columns.h): the windows of two output pixels
 * are copied to the stack once, as int16 minus the input zero point with
 * zeros for out-of-image taps, and four output channels of both pixels
 * share every weight and window load. Other layers take the pixel path:
 * the in-image tap range is computed once per output pixel and two output
 * channels share each input load. Either way each output is written once,
 * in raster order, after every read that precedes it, so results are
 * bit-identical with TFLM and the shifted-overlap contract holds.
 */
#include "../../src/tc_conv_common.h"
#include "tc_columns.h"
#include "tc_window.h"

/* The window of the output pixel whose top-left tap is (iy0, ix0) in
 * `image` (one batch), in weight order (ky, kx, channel), minus the input
 * zero point, 0 for out-of-image taps: every second int16 of col, so two
 * windows interleave (tc_dot4x2_s16). The in-image taps of a kernel row
 * are found once per pixel; without dilation they are one contiguous run
 * of the input row, copied in one loop. */
static void tc_conv_column(const tc_conv_params_t *p, const int8_t *image,
                           int32_t iy0, int32_t ix0, int16_t *col)
{
    const int32_t c = p->input.c;
    const int32_t row = p->kernel_w * c;
    int32_t kx0, kx1, ky, kx;

    tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w, &kx0, &kx1);
    kx0 = kx0 < p->kernel_w ? kx0 : p->kernel_w;
    kx1 = kx1 > kx0 ? kx1 : kx0;
    for (ky = 0; ky < p->kernel_h; ++ky, col += 2 * row) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        if (iy < 0 || iy >= p->input.h) {
            tc_column_zero(col, row);
            continue;
        }
        tc_column_zero(col, kx0 * c);
        if (p->dilation_w == 1 && kx1 > kx0) {
            tc_column_copy(image + (iy * p->input.w + ix0 + kx0) * c,
                           (kx1 - kx0) * c, p->input_zero_point,
                           col + 2 * kx0 * c);
        } else {
            for (kx = kx0; kx < kx1; ++kx) {
                tc_column_copy(
                    image + (iy * p->input.w + ix0 + kx * p->dilation_w) * c,
                    c, p->input_zero_point, col + 2 * kx * c);
            }
        }
        tc_column_zero(col + 2 * kx1 * c, row - kx1 * c);
    }
}

/* The column path over every output pixel, two at a time in raster order
 * (a pair may span two output rows). */
static void tc_conv_columns(const tc_conv_params_t *p, const int8_t *input,
                            int8_t *output)
{
    const int32_t n = p->kernel_h * p->kernel_w * p->input.c;
    const int32_t pixels = p->output.h * p->output.w;
    int16_t xy[2 * TC_COLUMN_MAX];
    tc_out_c_t o = tc_out_c_setup(&p->requant, p->bias, p->output_zero_point,
                                  p->act_min, p->act_max);
    int32_t b, q;

    tc_out_c_allow_fast(&o, p->output.c, n);
    for (b = 0; b < p->input.n; ++b) {
        const int8_t *image = input + tc_offset(&p->input, b, 0, 0, 0);
        int8_t *out = output + tc_offset(&p->output, b, 0, 0, 0);
        for (q = 0; q < pixels; q += 2, out += 2 * p->output.c) {
            const int32_t r = q + 1 < pixels ? q + 1 : q;
            tc_conv_column(p, image,
                           q / p->output.w * p->stride_h - p->pad_top,
                           q % p->output.w * p->stride_w - p->pad_left, xy);
            tc_conv_column(p, image,
                           r / p->output.w * p->stride_h - p->pad_top,
                           r % p->output.w * p->stride_w - p->pad_left,
                           xy + 1);
            tc_columns_out((const int8_t *)p->weights.data, p->output.c, &o,
                           xy, n, out, r != q ? out + p->output.c : NULL);
        }
    }
}

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
    if (p->weights.format == TC_WEIGHTS_S8 &&
        p->kernel_h * p->kernel_w * p->input.c <= TC_COLUMN_MAX &&
        p->output.c <= TC_COLUMN_CHANNELS_MAX) {
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
                    const int32_t pair = oc + 1 < p->output.c;
                    int32_t acc[2];
                    tc_conv_pixel(p, input, b, iy0, ix0, range, oc, pair,
                                  acc);
                    out[oc] = tc_out_s8(acc[0], p->bias, oc, &p->requant,
                                        p->output_zero_point, p->act_min,
                                        p->act_max);
                    if (pair) {
                        out[oc + 1] = tc_out_s8(
                            acc[1], p->bias, oc + 1, &p->requant,
                            p->output_zero_point, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return TC_OK;
}
