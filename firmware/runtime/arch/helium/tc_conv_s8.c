/*
 * tc_conv_s8.c (Helium) - CONV_2D.
 *
 * Dense weights and windows of up to 2 * TC_CONV_MVE_COL_MAX values
 * (every MLPerf Tiny conv: DS-CNN's 10x4 on 1 channel, the 3x3 on 3
 * channels of ResNet and MobileNet, ResNet's 3x3 on 16 to 64): each output
 * pixel's window is copied once, as int8 in the weights' OHWI tap order,
 * into a column on the stack; in-image kernel rows are whole runs of
 * kernel_w * input.c bytes (dilation_w 1), taps outside the image are set
 * to the input zero point, which the start values' zero point fold then
 * cancels exactly, so borders need no tests. The columns times the filters
 * are the matrix product of tc_gemm_mve.h: two output pixels per pass,
 * three filters x two columns sharing each loaded 16-byte vector, 16 MACs
 * per VMLADAVA, and a 1-channel layer gets one 40-long dot instead of 40
 * dots of one channel. Other layers (larger windows, packed weights
 * without a decode scratch) take the tap path: one 16-lane dot per
 * in-image tap.
 *
 * Pixels go in raster order; both windows of a pair are copied before
 * either pixel's outputs are written, which is never earlier than the
 * reference kernel writes them: safe for the planner's shifted overlap.
 * Packed weights with a decode scratch are decoded once per call
 * (tc_decode_mve.h) and run as dense.
 */
#include "../../src/tc_conv_common.h"
#include "../portable/tc_window.h"
#include "tc_decode_mve.h"
#include "tc_dot_mve.h"
#include "tc_gemm_mve.h"

/* Largest window (kernel_h * kernel_w * input.c) of two pixels at a time,
 * a 3x3 window on 64 channels (ResNet-8's widest); windows of up to twice
 * this go one pixel at a time. The columns take 2 * TC_CONV_MVE_COL_MAX
 * bytes of stack. */
#define TC_CONV_MVE_COL_MAX 576

/* The window of output pixel `pixel` (raster index over n, h, w) into
 * col, in OHWI tap order, taps outside the image set to the input zero
 * point. */
static void tc_conv_mve_window(const tc_conv_params_t *p, const int8_t *input,
                               int32_t pixel, int8_t *col)
{
    const int32_t c = p->input.c;
    const int32_t row_bytes = p->kernel_w * c;
    const int32_t zp = p->input_zero_point;
    const int32_t ox = pixel % p->output.w;
    const int32_t oy = (pixel / p->output.w) % p->output.h;
    const int32_t b = pixel / (p->output.w * p->output.h);
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    int32_t kx0, kx1, ky, kx;

    if (p->dilation_w == 1 && iy0 >= 0 && ix0 >= 0 &&
        iy0 + p->dilation_h * (p->kernel_h - 1) < p->input.h &&
        ix0 + p->kernel_w <= p->input.w) {
        /* Inside the image: kernel_h runs of row_bytes, nothing to fill. */
        const int32_t stride = p->dilation_h * p->input.w * c;
        const int8_t *src = input + tc_offset(&p->input, b, iy0, ix0, 0);
        for (ky = p->kernel_h; ky > 0; --ky, src += stride, col += row_bytes) {
            tc_mve_copy(col, src, row_bytes);
        }
        return;
    }
    tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w, &kx0, &kx1);
    kx0 = kx0 < p->kernel_w ? kx0 : p->kernel_w;
    kx1 = kx1 > kx0 ? kx1 : kx0;
    for (ky = 0; ky < p->kernel_h; ++ky, col += row_bytes) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        const int8_t *row;
        if (iy < 0 || iy >= p->input.h) {
            tc_mve_fill(col, zp, row_bytes);
            continue;
        }
        row = input + tc_offset(&p->input, b, iy, 0, 0);
        tc_mve_fill(col, zp, kx0 * c);
        if (p->dilation_w == 1) {
            tc_mve_copy(col + kx0 * c, row + (ix0 + kx0) * c,
                        (kx1 - kx0) * c);
        } else {
            for (kx = kx0; kx < kx1; ++kx) {
                tc_mve_copy(col + kx * c, row + (ix0 + p->dilation_w * kx) * c,
                            c);
            }
        }
        tc_mve_fill(col + kx1 * c, zp, (p->kernel_w - kx1) * c);
    }
}

/* Sum of output channel oc over the in-image taps range = {ky0, ky1, kx0,
 * kx1} of the pixel at input origin (iy0, ix0), any weight format. */
static int32_t tc_conv_mve_taps(const tc_conv_params_t *p,
                                const int8_t *input, int32_t b, int32_t iy0,
                                int32_t ix0, const int32_t range[4],
                                int32_t oc)
{
    const int32_t c = p->input.c;
    int32_t acc = 0;
    int32_t ky, kx;
    for (ky = range[0]; ky < range[1]; ++ky) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        for (kx = range[2]; kx < range[3]; ++kx) {
            const int32_t ix = ix0 + p->dilation_w * kx;
            const int8_t *in = input + tc_offset(&p->input, b, iy, ix, 0);
            const int32_t start =
                ((oc * p->kernel_h + ky) * p->kernel_w + kx) * c;
            if (p->weights.format == TC_WEIGHTS_S8) {
                acc += tc_dot_s8_mve((const int8_t *)p->weights.data + start,
                                     in, c, p->input_zero_point, 0);
            } else {
                acc += tc_weights_dot(&p->weights, start, oc, in, c,
                                      p->input_zero_point, 0);
            }
        }
    }
    return acc;
}

/* The column path: output pixels two at a time in raster order, both
 * windows copied before either pixel's outputs are written; one at a time
 * (in the whole buffer) when two windows do not fit, and for a lone last
 * pixel. */
static void tc_conv_mve_columns(const tc_conv_params_t *p,
                                const int8_t *input, int8_t *output)
{
    const int32_t k = p->kernel_h * p->kernel_w * p->input.c;
    const int32_t pixels = p->output.n * p->output.h * p->output.w;
    const int32_t oc_n = p->output.c;
    const int32_t step = k <= TC_CONV_MVE_COL_MAX ? 2 : 1;
    tc_mve_gemm_t g;
    int8_t col[2 * TC_CONV_MVE_COL_MAX];
    int32_t q;

    tc_mve_gemm_init(&g, (const int8_t *)p->weights.data, k, oc_n,
                     p->input_zero_point, p->bias, &p->requant,
                     p->output_zero_point, p->act_min, p->act_max);
    for (q = 0; q + step <= pixels; q += step) {
        tc_conv_mve_window(p, input, q, col);
        if (step == 1) {
            tc_mve_gemm_pair(&g, col, NULL, output + q * oc_n, NULL);
            continue;
        }
        tc_conv_mve_window(p, input, q + 1, col + TC_CONV_MVE_COL_MAX);
        tc_mve_gemm_pair(&g, col, col + TC_CONV_MVE_COL_MAX,
                         output + q * oc_n, output + (q + 1) * oc_n);
    }
    if (q < pixels) {
        tc_conv_mve_window(p, input, q, col);
        tc_mve_gemm_pair(&g, col, NULL, output + q * oc_n, NULL);
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
    p = tc_conv_decoded_mve(p, &dense);  /* packed: once per call */
    if (p->weights.format == TC_WEIGHTS_S8 &&
        p->kernel_h * p->kernel_w * p->input.c <= 2 * TC_CONV_MVE_COL_MAX) {
        tc_conv_mve_columns(p, input, output);
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
                for (oc = 0; oc < p->output.c; ++oc) {
                    out[oc] = tc_out_s8(
                        tc_conv_mve_taps(p, input, b, iy0, ix0, range, oc),
                        p->bias, oc, &p->requant, p->output_zero_point,
                        p->act_min, p->act_max);
                }
            }
        }
    }
    return TC_OK;
}
