/*
 * tc_depthwise_pixel.h - one output pixel of DEPTHWISE_CONV_2D in plain
 * C99, for any shape, depth multiplier and weight format: the whole
 * portable kernel, and the border / fallback path of the DSP kernel.
 *
 * The pixel's in-image tap range is found once. With depth multiplier 1
 * and dense weights (every DS-CNN / MobileNet depthwise layer) four
 * channels at a time keep their accumulators in registers over the whole
 * window (tc_dw_quad: a load, an offset, a load, a multiply and an add per
 * MAC, no accumulator traffic); otherwise, and for the last channels, every
 * tap updates up to TC_DW_CHUNK channel accumulators from two contiguous
 * rows (input channels, weights). The sums are the reference's exact
 * integers, and outputs are written in increasing channel order after the
 * reads of their group, so results stay bit-identical with TFLM and the
 * shifted-overlap contract holds (a group is written before the next group
 * re-reads the same window, which the reference also does).
 */
#ifndef TC_DEPTHWISE_PIXEL_H
#define TC_DEPTHWISE_PIXEL_H

#include "../../src/tc_depthwise_conv_common.h"
#include "tc_out_c.h"
#include "tc_window.h"

#define TC_DW_CHUNK 32

/* The layer's output stage (tc_out_c.h), set up once per call. */
static inline tc_out_c_t tc_dw_out_stage(const tc_depthwise_conv_params_t *p)
{
    tc_out_c_t o = tc_out_c_setup(&p->requant, p->bias, p->output_zero_point,
                                  p->act_min, p->act_max);
    tc_out_c_allow_fast(&o, p->output.c, p->kernel_h * p->kernel_w);
    return o;
}

/* One tap of channels [0, 4): input bytes xt[0..3], weights wt[0..3]. */
#define TC_DW_TAP(xt, wt)                                                    \
    do {                                                                     \
        a0 += (int32_t)(wt)[0] * ((int32_t)(xt)[0] - zp);                    \
        a1 += (int32_t)(wt)[1] * ((int32_t)(xt)[1] - zp);                    \
        a2 += (int32_t)(wt)[2] * ((int32_t)(xt)[2] - zp);                    \
        a3 += (int32_t)(wt)[3] * ((int32_t)(xt)[3] - zp);                    \
    } while (0)

/* Channels [0, 4) from `x` (the first in-image tap's input channel) and `w`
 * (its weights) over rows x cols in-image taps; depth multiplier 1, dense
 * weights: acc[j] = sum over taps of w[j] * (x[j] - zp). */
static inline void tc_dw_quad(const tc_depthwise_conv_params_t *p,
                              const int8_t *x, const int8_t *w, int32_t rows,
                              int32_t cols, int32_t acc[4])
{
    const int32_t c = p->output.c;
    const int32_t x_col = p->dilation_w * c;
    const int32_t x_row = p->dilation_h * p->input.w * c;
    const int32_t w_row = p->kernel_w * c;
    const int32_t zp = p->input_zero_point;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t r, k;

    for (r = 0; r < rows; ++r, x += x_row, w += w_row) {
        const int8_t *xt = x;
        const int8_t *wt = w;
        for (k = 0; k < cols; ++k, xt += x_col, wt += c) {
            TC_DW_TAP(xt, wt);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#undef TC_DW_TAP

static inline void tc_dw_taps(const tc_depthwise_conv_params_t *p,
                              const int8_t *input, int32_t b, int32_t iy0,
                              int32_t ix0, const int32_t range[4],
                              int32_t oc0, int32_t count, int32_t *acc)
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

/* Output channels [oc_begin, output.c) of output pixel (b, oy, ox), with
 * the output stage `o` of the layer. */
static inline void tc_dw_pixel_out(const tc_depthwise_conv_params_t *p,
                                   const tc_out_c_t *o, const int8_t *input,
                                   int32_t b, int32_t oy, int32_t ox,
                                   int32_t oc_begin, int8_t *output)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
    int32_t acc[TC_DW_CHUNK];
    int32_t range[4];
    int32_t oc0 = oc_begin;
    int32_t j;

    tc_tap_range(iy0, p->dilation_h, p->kernel_h, p->input.h, &range[0],
                 &range[1]);
    tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w, &range[2],
                 &range[3]);
    if (p->weights.format == TC_WEIGHTS_S8 && p->depth_multiplier == 1 &&
        range[1] > range[0] && range[3] > range[2]) {
        const int8_t *x =
            input + tc_offset(&p->input, b, iy0 + p->dilation_h * range[0],
                              ix0 + p->dilation_w * range[2], 0);
        const int8_t *w = (const int8_t *)p->weights.data +
                          (range[0] * p->kernel_w + range[2]) * p->output.c;
        for (; oc0 + 4 <= p->output.c; oc0 += 4) {
            tc_dw_quad(p, x + oc0, w + oc0, range[1] - range[0],
                       range[3] - range[2], acc);
            for (j = 0; j < 4; ++j) {
                out[oc0 + j] = tc_out_c(o, oc0 + j, acc[j]);
            }
        }
    }
    for (; oc0 < p->output.c; oc0 += TC_DW_CHUNK) {
        const int32_t left = p->output.c - oc0;
        const int32_t count = left < TC_DW_CHUNK ? left : TC_DW_CHUNK;
        tc_dw_taps(p, input, b, iy0, ix0, range, oc0, count, acc);
        for (j = 0; j < count; ++j) {
            out[oc0 + j] = tc_out_c(o, oc0 + j, acc[j]);
        }
    }
}

/* tc_dw_pixel_out with the general output stage: for callers that take a
 * few pixels only (the DSP kernel's borders), no per-call setup. */
static inline void tc_dw_pixel(const tc_depthwise_conv_params_t *p,
                               const int8_t *input, int32_t b, int32_t oy,
                               int32_t ox, int32_t oc_begin, int8_t *output)
{
    const tc_out_c_t o = tc_out_c_setup(&p->requant, p->bias,
                                        p->output_zero_point, p->act_min,
                                        p->act_max);
    tc_dw_pixel_out(p, &o, input, b, oy, ox, oc_begin, output);
}

#endif /* TC_DEPTHWISE_PIXEL_H */
