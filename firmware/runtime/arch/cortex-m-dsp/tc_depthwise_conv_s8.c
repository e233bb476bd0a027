/*
 * tc_depthwise_conv_s8.c (Cortex-M DSP) - DEPTHWISE_CONV_2D.
 *
 * Fast path, for depth-multiplier-1 layers with dense int8 weights (the
 * 3x3 layers of DS-CNN and MobileNet, any stride and padding): four
 * channels per pass; one word load brings four channels of a tap, SXTAB16
 * widens them (the input zero point added for free) and SMLABB/SMLATT
 * accumulate each channel's products, starting from its bias. 3x3 layers
 * without dilation, with a bias and at most TC_DW_ZEROS channels (every
 * depthwise layer of DS-CNN and MobileNet) run the nine taps in
 * hand-allocated assembly (tc_dw3x3_sums: 11 instructions per tap of four
 * channels), addressed through a table of tap offsets: one per layer for
 * pixels whose window lies inside the image, one per border pixel in which
 * an out-of-image tap reads an in-image pixel against zero weights (adding
 * exactly nothing); the pixel's sums are then requantised in one loop
 * (tc_out_run_dsp). Other kernel sizes visit their in-image taps in a loop
 * with the output stage set up once per call.
 * The last output.c % 4 channels and every other layer go through the
 * portable per-pixel code. Sums are the reference's exact integers and each
 * pixel's outputs are written in increasing channel order after the reads
 * of their pass (the assembly path: after all the pixel's reads), so
 * results equal TFLM's and the shifted-overlap contract holds.
 */
#include <stddef.h>

#include "../portable/tc_depthwise_pixel.h"
#include "tc_simd_dsp.h"

/* acc[c] += w[c] * (x[c] - zp) for the four channels of one tap. */
static inline void tc_dw_tap4(const int8_t *x, const int8_t *w,
                              int16x2_t offset, int32_t acc[4])
{
    const uint32_t xv = tc_load4(x);
    const uint32_t wv = tc_load4(w);
    const int16x2_t x02 = __sxtab16(offset, (int8x4_t)xv);
    const int16x2_t x13 = tc_sxtab16_odd(offset, xv);
    const int16x2_t w02 = __sxtb16((int8x4_t)wv);
    const int16x2_t w13 = tc_sxtb16_odd(wv);
    acc[0] = __smlabb(x02, w02, acc[0]);
    acc[1] = __smlabb(x13, w13, acc[1]);
    acc[2] = __smlatt(x02, w02, acc[2]);
    acc[3] = __smlatt(x13, w13, acc[3]);
}

/* The four accumulators of channels c..c+3, each starting at its bias. */
static inline void tc_dw_init4(const int32_t *bias, int32_t c, int32_t acc[4])
{
    int32_t j;
    for (j = 0; j < 4; ++j) {
        acc[j] = bias != NULL ? bias[c + j] : 0;
    }
}

/* Outputs c..c+3, all computed before the first store (a byte store may
 * alias anything, so storing early would force reloading the stage). */
static inline void tc_dw_store4(const tc_out_stage_t *o, int32_t c,
                                const int32_t acc[4], int8_t *out)
{
    const int8_t r0 = tc_out_dsp(o, c, acc[0]);
    const int8_t r1 = tc_out_dsp(o, c + 1, acc[1]);
    const int8_t r2 = tc_out_dsp(o, c + 2, acc[2]);
    const int8_t r3 = tc_out_dsp(o, c + 3, acc[3]);
    out[c] = r0;
    out[c + 1] = r1;
    out[c + 2] = r2;
    out[c + 3] = r3;
}

/* Channels [0, output.c & ~3) of output pixel (b, oy, ox) for any kernel
 * size and dilation, visiting only the in-image taps: the depth-multiplier-1
 * layers the assembly path does not take, and its windows with no in-image
 * tap. */
static void tc_dw_pixel4(const tc_depthwise_conv_params_t *p,
                         const tc_out_stage_t *o, const int8_t *input,
                         int32_t b, int32_t oy, int32_t ox, int8_t *output)
{
    const int32_t ch = p->output.c;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int8_t *w = (const int8_t *)p->weights.data;
    const int16x2_t offset = tc_dup16(-p->input_zero_point);
    const int32_t step = p->dilation_w * ch;
    int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
    int32_t ky0, ky1, kx0, kx1, c, ky, kx;

    tc_tap_range(iy0, p->dilation_h, p->kernel_h, p->input.h, &ky0, &ky1);
    tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w, &kx0, &kx1);
    for (c = 0; c + 4 <= ch; c += 4) {
        int32_t acc[4];
        tc_dw_init4(p->bias, c, acc);
        for (ky = ky0; ky < ky1; ++ky) {
            const int8_t *x =
                input + tc_offset(&p->input, b, iy0 + p->dilation_h * ky,
                                  ix0 + p->dilation_w * kx0, c);
            const int8_t *k = w + (ky * p->kernel_w + kx0) * ch + c;
            for (kx = kx0; kx < kx1; ++kx) {
                tc_dw_tap4(x, k, offset, acc);
                x += step;
                k += ch;
            }
        }
        tc_dw_store4(o, c, acc, out);
    }
}

/* Weights of the taps outside the image (TC_DW_ZEROS channels' worth):
 * their products are zero, so border pixels take the unrolled code too. */
#define TC_DW_ZEROS 256
static const int8_t tc_dw_zeros[TC_DW_ZEROS];

/* One output pixel of a 3x3, dilation 1 layer for tc_dw3x3_sums: tap t
 * reads the input word at x + tap[t].x + c against the weight word at
 * tap[t].w + c, for c = 0, 4, ... < end. The offsets are relative to the
 * window's corner for interior pixels (one table per layer) and to the
 * batch's first pixel for border ones, where an out-of-image tap reads an
 * in-image pixel against tc_dw_zeros. The assembly below relies on this
 * exact layout (tap at byte 8t, end at 72, x 76, bias 80, acc 84, offset
 * 88). */
typedef struct {
    struct {
        int32_t x;
        const int8_t *w;
    } tap[9];
    int32_t end;        /* output.c & ~3 */
    const int8_t *x;    /* base of the tap offsets */
    const int32_t *bias;
    int32_t *acc;       /* end sums out */
    int16x2_t offset;   /* -input zero point in both lanes */
} tc_dw3x3_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_dw3x3_job_layout[
    offsetof(tc_dw3x3_job_t, end) == 72 &&
            offsetof(tc_dw3x3_job_t, offset) == 88 ? 1 : -1];

/* One tap of four channels: r8/r9 <- offset and weight row of the tap,
 * r10 <- four input bytes, r11 <- four weights; SXTAB16 widens the input
 * lanes (0, 2) / (1, 3) adding -zp (lr), SXTB16 the weights; r4..r7 +=
 * channel 0..3 products. 11 instructions per 4 MACs. */
#define TC_DW_TAP(t)                                                        \
    "ldrd r8, r9, [r0, #" t "]\n\t"                                         \
    "ldr r10, [r1, r8]\n\t"                                                 \
    "ldr r11, [r9, r12]\n\t"                                                \
    "sxtab16 r8, lr, r10\n\t"                                               \
    "sxtab16 r10, lr, r10, ror #8\n\t"                                      \
    "sxtb16 r9, r11\n\t"                                                    \
    "sxtb16 r11, r11, ror #8\n\t"                                           \
    "smlabb r4, r8, r9, r4\n\t"                                             \
    "smlatt r6, r8, r9, r6\n\t"                                             \
    "smlabb r5, r10, r11, r5\n\t"                                           \
    "smlatt r7, r10, r11, r7\n\t"

/* job->acc[c] = bias[c] + sum over the nine taps of w * (x - zp), for
 * c < job->end: four channels per pass with every value in a register
 * (r0 job, r1 input base + c, r2 bias, r3 acc, r4..r7 sums, r12 c, lr
 * offset), the bias taken by one LDM and the sums stored by one STM.
 * Hand-allocated because GCC spills the table and sums of the C form. */
__attribute__((naked)) static void
tc_dw3x3_sums(const tc_dw3x3_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r1, [r0, #76]\n\t"
        "ldr r2, [r0, #80]\n\t"
        "ldr r3, [r0, #84]\n\t"
        "ldr lr, [r0, #88]\n\t"
        "mov r12, #0\n"
        "1:\n\t"
        "ldmia r2!, {r4-r7}\n\t"
        TC_DW_TAP("0") TC_DW_TAP("8") TC_DW_TAP("16")
        TC_DW_TAP("24") TC_DW_TAP("32") TC_DW_TAP("40")
        TC_DW_TAP("48") TC_DW_TAP("56") TC_DW_TAP("64")
        "stmia r3!, {r4-r7}\n\t"
        "adds r1, r1, #4\n\t"
        "add r12, r12, #4\n\t"
        "ldr r8, [r0, #72]\n\t"
        "cmp r12, r8\n\t"
        "blt 1b\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* Sums of output pixel (b, oy, ox) of a 3x3, dilation 1 layer whose window
 * crosses the image border into job->acc: the table is rebuilt with
 * offsets from the batch's first pixel. Returns 0, computing nothing, for
 * a window with no in-image tap (padding wider than the filter). */
static int32_t tc_dw3x3_border(const tc_depthwise_conv_params_t *p,
                               const int8_t *input, int32_t b, int32_t oy,
                               int32_t ox, tc_dw3x3_job_t *job)
{
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int8_t *w = (const int8_t *)p->weights.data;
    const int32_t ch = p->output.c;
    int32_t ky0, ky1, kx0, kx1, ky, kx;

    tc_tap_range(iy0, 1, 3, p->input.h, &ky0, &ky1);
    tc_tap_range(ix0, 1, 3, p->input.w, &kx0, &kx1);
    if (ky0 >= ky1 || kx0 >= kx1) {
        return 0;
    }
    for (ky = 0; ky < 3; ++ky) {
        for (kx = 0; kx < 3; ++kx) {
            const int32_t inside =
                ky >= ky0 && ky < ky1 && kx >= kx0 && kx < kx1;
            job->tap[3 * ky + kx].x =
                ((iy0 + (inside ? ky : ky0)) * p->input.w + ix0 +
                 (inside ? kx : kx0)) * ch;
            job->tap[3 * ky + kx].w =
                inside ? w + (3 * ky + kx) * ch : tc_dw_zeros;
        }
    }
    job->x = input + tc_offset(&p->input, b, 0, 0, 0);
    tc_dw3x3_sums(job);
    return 1;
}

/* The 3x3, dilation 1 layers with a bias and 4..TC_DW_ZEROS channels
 * (DS-CNN's 25x5x64, MobileNet's): per output pixel, the sums of channels
 * [0, output.c & ~3) by tc_dw3x3_sums, then their outputs in increasing
 * channel order, then the last output.c % 4 channels by the portable code;
 * every write of a pixel follows all its reads. */
static void tc_dw3x3_layer(const tc_depthwise_conv_params_t *p,
                           const tc_out_stage_t *o, const int8_t *input,
                           int8_t *output)
{
    const int32_t ch = p->output.c;
    const int32_t end = ch & ~3;
    const int8_t *w = (const int8_t *)p->weights.data;
    tc_dw3x3_job_t inner, edge;
    int32_t acc[TC_DW_ZEROS];
    int32_t t, b, oy, ox;

    for (t = 0; t < 9; ++t) {
        inner.tap[t].x = ((t / 3) * p->input.w + t % 3) * ch;
        inner.tap[t].w = w + t * ch;
    }
    inner.end = end;
    inner.bias = p->bias;
    inner.acc = acc;
    inner.offset = tc_dup16(-p->input_zero_point);
    edge = inner;
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int32_t row_inside = iy0 >= 0 && iy0 + 3 <= p->input.h;
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                int32_t summed = 1;
                if (row_inside && ix0 >= 0 && ix0 + 3 <= p->input.w) {
                    inner.x = input + tc_offset(&p->input, b, iy0, ix0, 0);
                    tc_dw3x3_sums(&inner);
                } else {
                    summed = tc_dw3x3_border(p, input, b, oy, ox, &edge);
                }
                if (summed) {
                    tc_out_run_dsp(o, 0, acc, end, out);
                } else {
                    tc_dw_pixel4(p, o, input, b, oy, ox, output);
                }
                if (end < ch) {
                    tc_dw_pixel(p, input, b, oy, ox, end, output);
                }
            }
        }
    }
}

tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_dw_check(p, input, output);
    tc_out_stage_t o;
    int32_t b, oy, ox, fast_end;

    if (status != TC_OK) {
        return status;
    }
    if (p->weights.format != TC_WEIGHTS_S8 || p->depth_multiplier != 1 ||
        p->output.c < 4) {
        for (b = 0; b < p->input.n; ++b) {
            for (oy = 0; oy < p->output.h; ++oy) {
                for (ox = 0; ox < p->output.w; ++ox) {
                    tc_dw_pixel(p, input, b, oy, ox, 0, output);
                }
            }
        }
        return TC_OK;
    }
    o = tc_out_stage(&p->requant, p->bias, p->output.c,
                     p->kernel_h * p->kernel_w, p->output_zero_point,
                     p->act_min, p->act_max);
    if (p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 &&
        p->dilation_w == 1 && p->bias != NULL &&
        p->output.c <= TC_DW_ZEROS) {
        tc_dw3x3_layer(p, &o, input, output);
        return TC_OK;
    }
    fast_end = p->output.c & ~3;
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            for (ox = 0; ox < p->output.w; ++ox) {
                tc_dw_pixel4(p, &o, input, b, oy, ox, output);
                if (fast_end < p->output.c) {
                    tc_dw_pixel(p, input, b, oy, ox, fast_end, output);
                }
            }
        }
    }
    return TC_OK;
}
