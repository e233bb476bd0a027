/*
 * tc_depthwise_conv_s8.c (portable) - DEPTHWISE_CONV_2D, channel-innermost,
 * in plain C99 for any core (see tc_depthwise_pixel.h).
 *
 * The reference walks taps per output channel, recomputing addresses for
 * every multiply; here each pixel's in-image taps are found once and feed
 * a chunk of channel accumulators from contiguous rows. With dense
 * weights, depth multiplier 1 and up to TC_DW_PAIR_MAX channels, two
 * neighbouring output pixels whose windows lie inside the image (every
 * pixel of a large map but its border) go together (tc_dw_pair): each
 * weight feeds both, and the input zero point is folded into the start
 * of every sum (-zp x the channel's weight sum, formed once per call),
 * so the loop has no subtraction: per tap and 4 channels, 12 loads, 8
 * multiplies and 8 adds for 8 MACs.
 */
#include <string.h>

#include "tc_depthwise_pixel.h"

/* Channels of the pair path: its zero-point fold and the second pixel's
 * outputs live on the stack (5 bytes per channel). */
#define TC_DW_PAIR_MAX 256

/* fold[c] = -zp * (sum of channel c's weights over the whole window):
 * the zero point's share of an interior pixel's sum. */
static void tc_dw_fold(const tc_depthwise_conv_params_t *p, int32_t *fold)
{
    const int32_t c = p->output.c;
    const int32_t taps = p->kernel_h * p->kernel_w;
    const int8_t *w = (const int8_t *)p->weights.data;
    int32_t t, j;

    for (j = 0; j < c; ++j) {
        fold[j] = 0;
    }
    for (t = 0; t < taps; ++t, w += c) {
        for (j = 0; j < c; ++j) {
            fold[j] += w[j];
        }
    }
    for (j = 0; j < c; ++j) {
        fold[j] *= -p->input_zero_point;
    }
}

/* One tap of channel k for both pixels: weight wt[k], inputs xt[k] (a)
 * and xt[step + k] (b). */
#define TC_DW_PAIR_TAP(k, a, b)                                              \
    do {                                                                     \
        const int32_t w_ = wt[k];                                            \
        a += w_ * xt[k];                                                     \
        b += w_ * xt[step + (k)];                                            \
    } while (0)

/* Output pixels a and b = a + 1 (same row) whose windows lie inside the
 * image; xa is pixel a's first tap, pixel b's is step bytes further.
 * Pixel a's outputs are stored as they are computed, b's wait on the
 * stack until every read of the pair is done, so each output lands in
 * raster order after the reads that precede it (the shifted-overlap plan
 * holds as for single pixels). */
static void tc_dw_pair(const tc_depthwise_conv_params_t *p,
                       const tc_out_c_t *stage, const int32_t *fold,
                       const int8_t *xa, int32_t step, int8_t *outa,
                       int8_t *outb)
{
    /* A local copy: the int8 stores may alias *stage. */
    const tc_out_c_t copy = *stage;
    const tc_out_c_t *o = &copy;
    const int32_t c = p->output.c;
    const int32_t x_col = p->dilation_w * c;
    const int32_t x_row = p->dilation_h * p->input.w * c;
    const int32_t kh = p->kernel_h;
    const int32_t kw = p->kernel_w;
    const int8_t *weights = (const int8_t *)p->weights.data;
    int8_t later[TC_DW_PAIR_MAX];
    int32_t oc = 0;
    int32_t ky, kx;

    for (; oc + 4 <= c; oc += 4) {
        const int8_t *wt = weights + oc;
        const int8_t *x = xa + oc;
        int32_t a0 = fold[oc], a1 = fold[oc + 1];
        int32_t a2 = fold[oc + 2], a3 = fold[oc + 3];
        int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
        for (ky = 0; ky < kh; ++ky, x += x_row) {
            const int8_t *xt = x;
            for (kx = 0; kx < kw; ++kx, xt += x_col, wt += c) {
                TC_DW_PAIR_TAP(0, a0, b0);
                TC_DW_PAIR_TAP(1, a1, b1);
                TC_DW_PAIR_TAP(2, a2, b2);
                TC_DW_PAIR_TAP(3, a3, b3);
            }
        }
        outa[oc] = tc_out_c(o, oc, a0);
        outa[oc + 1] = tc_out_c(o, oc + 1, a1);
        outa[oc + 2] = tc_out_c(o, oc + 2, a2);
        outa[oc + 3] = tc_out_c(o, oc + 3, a3);
        later[oc] = tc_out_c(o, oc, b0);
        later[oc + 1] = tc_out_c(o, oc + 1, b1);
        later[oc + 2] = tc_out_c(o, oc + 2, b2);
        later[oc + 3] = tc_out_c(o, oc + 3, b3);
    }
    for (; oc < c; ++oc) {
        const int8_t *wt = weights;
        const int8_t *x = xa;
        int32_t a = fold[oc], b = fold[oc];
        for (ky = 0; ky < kh; ++ky, x += x_row) {
            const int8_t *xt = x;
            for (kx = 0; kx < kw; ++kx, xt += x_col, wt += c) {
                TC_DW_PAIR_TAP(oc, a, b);
            }
        }
        outa[oc] = tc_out_c(o, oc, a);
        later[oc] = tc_out_c(o, oc, b);
    }
    memcpy(outb, later, (size_t)c);
}

#undef TC_DW_PAIR_TAP

/* [*lo, *hi): the output coordinates along one axis whose window lies
 * inside the image (origin o * stride - pad, span (kernel - 1) * dilation
 * + 1, image size `size`, `outputs` output coordinates). */
static void tc_dw_inside(int32_t stride, int32_t pad, int32_t kernel,
                         int32_t dilation, int32_t size, int32_t outputs,
                         int32_t *lo, int32_t *hi)
{
    const int32_t last = size - 1 + pad - (kernel - 1) * dilation;
    *lo = (pad + stride - 1) / stride;
    *hi = last < 0 ? 0 : last / stride + 1;
    *hi = *hi < outputs ? *hi : outputs;
    *lo = *lo < *hi ? *lo : *hi;
}

tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_dw_check(p, input, output);
    int32_t fold[TC_DW_PAIR_MAX];
    tc_out_c_t o;
    int32_t y_lo = 0, y_hi = 0, x_lo = 0, x_hi = 0;
    int32_t b, oy, ox;

    if (status != TC_OK) {
        return status;
    }
    o = tc_dw_out_stage(p);
    /* Rows [y_lo, y_hi) and columns [x_lo, x_hi) have their windows
     * inside the image: those pixels go two at a time (tc_dw_pair), the
     * rest (and layers the pair path does not take) one at a time. */
    if (p->weights.format == TC_WEIGHTS_S8 && p->depth_multiplier == 1 &&
        p->output.c <= TC_DW_PAIR_MAX) {
        tc_dw_inside(p->stride_h, p->pad_top, p->kernel_h, p->dilation_h,
                     p->input.h, p->output.h, &y_lo, &y_hi);
        tc_dw_inside(p->stride_w, p->pad_left, p->kernel_w, p->dilation_w,
                     p->input.w, p->output.w, &x_lo, &x_hi);
        if (y_hi > y_lo && x_hi - x_lo >= 2) { /* else the fold is wasted */
            tc_dw_fold(p, fold);
        }
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int32_t row = oy >= y_lo && oy < y_hi;
            for (ox = 0; ox < p->output.w; ++ox) {
                if (row && ox >= x_lo && ox + 2 <= x_hi) {
                    const int32_t ix0 = ox * p->stride_w - p->pad_left;
                    int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                    tc_dw_pair(p, &o, fold,
                               input + tc_offset(&p->input, b, iy0, ix0, 0),
                               p->stride_w * p->input.c, out,
                               out + p->output.c);
                    ++ox;
                } else {
                    tc_dw_pixel_out(p, &o, input, b, oy, ox, 0, output);
                }
            }
        }
    }
    return TC_OK;
}
