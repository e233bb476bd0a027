/*
 * tc_conv_columns.h - the column path of CONV_2D for cores with the DSP
 * extension (Cortex-M4/M7/M33/M55), shared by arch/cortex-m-dsp and
 * arch/helium's tc_conv_s8.c.
 *
 * Dense weights, kernel_h * kernel_w * input.c <= TC_CONV_COL_MAX (the first
 * layer of DS-CNN, 10x4 on 1 channel, and every conv of ResNet-8): output
 * pixels go two at a time in raster order. Each one's whole window is
 * copied once into a column of K = kernel_h * kernel_w * input.c int16
 * values (input - zero point, 0 for taps outside the image, so borders need
 * no tests), in the lane order SXTB16 gives the OHWI weights. The inner
 * loop then is one K-long dot per filter with nothing to widen on the input
 * side, a 1-channel layer gets K = 40 instead of a loop of 1, and two
 * filters x two pixels share each loaded word (2 LDR, 2 LDRD, 4 SXTB16,
 * 8 SMLAD for 16 MACs). The sums are the exact integers of the reference.
 *
 * Shifted overlap: both pixels' windows are read (copied) before either
 * pixel's outputs are written, and pixels go in raster order, so every
 * output is written after all its reads and while only later windows are
 * still to be read: the planner's gaps (layers.py:gaps_conv) are those of
 * the reference kernel. (An odd last pixel fills both halves of the pair:
 * each of its outputs is stored twice back to back, the same value.)
 */
#ifndef TC_CONV_COLUMNS_H
#define TC_CONV_COLUMNS_H

#include <string.h>

#include "../../src/tc_conv_common.h"
#include "../portable/tc_window.h"
#include "tc_pair_rows_asm.h"
#include "tc_simd_dsp.h"

/* Largest window (kernel_h * kernel_w * input.c) of the column path: its
 * buffers take 5 * TC_CONV_COL_MAX bytes of stack (2.8 KiB of the boards'
 * 8 KiB), enough for ResNet-8's 3x3x64. */
#define TC_CONV_COL_MAX 576
/* Output channels summed before their outputs are requantised (even): the
 * sums take 8 * TC_CONV_OUT_CHUNK bytes more stack. */
#define TC_CONV_OUT_CHUNK 64

/* tc_mbqm(x, m, shift), exactly. For |x << left| < 2^30 the doubling high
 * multiply floor((x * m + 2^30) / 2^31) is SMMULR of 2x, and with
 * |result| < 2^30 the rounding divide needs no overflow guard: add half,
 * one less when negative, shift. Larger sums take tc_mbqm's path. */
static inline int32_t tc_conv_requant(int32_t x, int32_t m, int32_t shift)
{
    const int32_t e = shift > 0 ? 0 : -shift;
    int32_t y;
    if (shift > 0) {
        x = tc_wrap_shl(x, shift);
    }
    if ((uint32_t)x + 0x40000000u >= 0x80000000u) {
        return tc_rdbypot(tc_srdhm(x, m), e);
    }
    y = tc_smmulr(x * 2, m);
    if (e == 0) {
        return y;
    }
    return (y + (1 << (e - 1)) + (y >> 31)) >> e;
}

/* Bias, requantisation and clamp of output channel oc. */
static inline int8_t tc_conv_out(const tc_conv_params_t *p, int32_t oc,
                                 int32_t acc)
{
    const int32_t q = p->requant.per_channel ? oc : 0;
    if (p->bias != NULL) {
        acc += p->bias[oc];
    }
    acc = tc_conv_requant(acc, p->requant.multiplier[q], p->requant.shift[q]) +
          p->output_zero_point;
    return (int8_t)tc_clamp(acc, p->act_min, p->act_max);
}

/* Byte copy and fill: inline word loops for the short runs of thin layers
 * (a 1-channel row of 4 taps, a 3-channel one of 9), the library for long
 * ones. */
static inline void tc_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n >= 16) {
        memcpy(dst, src, (size_t)n);
        return;
    }
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        const uint32_t v = tc_load4(src);
        memcpy(dst, &v, sizeof v);
    }
    while (n-- > 0) {
        *dst++ = *src++;
    }
}

static inline void tc_fill(int8_t *dst, int32_t value, int32_t n)
{
    const uint32_t v = 0x01010101u * (uint8_t)value;
    if (n >= 16) {
        memset(dst, value, (size_t)n);
        return;
    }
    for (; n >= 4; n -= 4, dst += 4) {
        memcpy(dst, &v, sizeof v);
    }
    while (n-- > 0) {
        *dst++ = (int8_t)value;
    }
}

/* An interior window with dilation_w 1: `rows` runs of `row_bytes` bytes,
 * `stride` apart in the input. Kept apart from tc_conv_window so the
 * common case pays no border bookkeeping. */
static void tc_conv_copy_rows(const int8_t *src, int32_t stride,
                              int32_t row_bytes, int32_t rows, int8_t *raw)
{
    for (; rows > 0; --rows, src += stride, raw += row_bytes) {
        tc_copy(raw, src, row_bytes);
    }
}

/* The window of output pixel `pixel` (raster index over n, h, w) as int8 in
 * OHWI tap order, taps outside the image set to the input zero point. */
static void tc_conv_window(const tc_conv_params_t *p, const int8_t *input,
                           int32_t pixel, int8_t *raw)
{
    const int32_t c = p->input.c;
    const int32_t row_bytes = p->kernel_w * c;
    const int32_t ox = pixel % p->output.w;
    const int32_t oy = (pixel / p->output.w) % p->output.h;
    const int32_t b = pixel / (p->output.w * p->output.h);
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int32_t zp = p->input_zero_point;
    int32_t kx0, kx1, ky, kx;

    tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w, &kx0, &kx1);
    kx0 = kx0 < p->kernel_w ? kx0 : p->kernel_w;
    kx1 = kx1 > kx0 ? kx1 : kx0;
    for (ky = 0; ky < p->kernel_h; ++ky, raw += row_bytes) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        const int8_t *row;
        if (iy < 0 || iy >= p->input.h) {
            tc_fill(raw, zp, row_bytes);
            continue;
        }
        row = input + tc_offset(&p->input, b, iy, 0, 0);
        tc_fill(raw, zp, kx0 * c);
        if (p->dilation_w == 1) {
            tc_copy(raw + kx0 * c, row + (ix0 + kx0) * c, (kx1 - kx0) * c);
        } else {
            for (kx = kx0; kx < kx1; ++kx) {
                tc_copy(raw + kx * c, row + (ix0 + p->dilation_w * kx) * c,
                        c);
            }
        }
        tc_fill(raw + kx1 * c, zp, (p->kernel_w - kx1) * c);
    }
}

/* `groups` groups of 4 bytes from src, offset and widened into a column
 * (layout below). */
static void tc_conv_widen_run(const int8_t *src, int32_t groups,
                              int16x2_t off, uint32_t *col)
{
    for (; groups > 0; --groups, col += 4, src += 4) {
        const uint32_t x = tc_load4(src);
        col[0] = (uint32_t)__sxtab16(off, (int8x4_t)x);
        col[1] = (uint32_t)tc_sxtab16_odd(off, x);
    }
}

/* `groups` groups of taps outside the image: (zero point - zero point). */
static void tc_conv_zero_run(int32_t groups, uint32_t *col)
{
    for (; groups > 0; --groups, col += 4) {
        col[0] = 0u;
        col[1] = 0u;
    }
}

/* raw[0..k) - in_zp as int16 into the column of pixel `which` (0 or 1):
 * each group of 4 as the two words SXTB16 and SXTB16-of-ROR-8 give for a
 * weight word ((x0, x2), (x1, x3)), the two pixels' groups interleaved
 * (group g of pixel p at col[4 * g + 2 * p]) so one pass reads both with
 * two LDRDs. The last group is padded with zero point bytes (0 after the
 * offset). */
static void tc_conv_widen(int8_t *raw, int32_t k, int32_t in_zp,
                          uint32_t *col, int32_t which)
{
    int32_t j;
    for (j = k; j % 4 != 0; ++j) {
        raw[j] = (int8_t)in_zp;
    }
    tc_conv_widen_run(raw, (k + 3) / 4, tc_dup16(-in_zp), col + 2 * which);
}

/* The column of output pixel `pixel` (tc_conv_widen's layout). With
 * input.c a multiple of 4 and dilation_w 1, each kernel row's in-image taps
 * are whole groups read straight from the input row; otherwise the window
 * goes through `raw` first. */
static void tc_conv_column(const tc_conv_params_t *p, const int8_t *input,
                           int32_t pixel, int8_t *raw, uint32_t *col,
                           int32_t which)
{
    const int32_t c = p->input.c;
    const int16x2_t off = tc_dup16(-p->input_zero_point);
    const int32_t row_groups = p->kernel_w * c / 4;
    const int32_t ox = pixel % p->output.w;
    const int32_t oy = (pixel / p->output.w) % p->output.h;
    const int32_t b = pixel / (p->output.w * p->output.h);
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    int32_t kx0, kx1, ky;

    if (c % 4 != 0 || p->dilation_w != 1) {
        if (p->dilation_w == 1 && iy0 >= 0 && ix0 >= 0 &&
            iy0 + p->dilation_h * (p->kernel_h - 1) < p->input.h &&
            ix0 + p->kernel_w <= p->input.w) {
            tc_conv_copy_rows(input + tc_offset(&p->input, b, iy0, ix0, 0),
                              p->dilation_h * p->input.w * c,
                              p->kernel_w * c, p->kernel_h, raw);
        } else {
            tc_conv_window(p, input, pixel, raw);
        }
        tc_conv_widen(raw, p->kernel_h * p->kernel_w * c,
                      p->input_zero_point, col, which);
        return;
    }
    tc_tap_range(ix0, 1, p->kernel_w, p->input.w, &kx0, &kx1);
    kx0 = kx0 < p->kernel_w ? kx0 : p->kernel_w;
    kx1 = kx1 > kx0 ? kx1 : kx0;
    col += 2 * which;
    for (ky = 0; ky < p->kernel_h; ++ky, col += 4 * row_groups) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        if (iy < 0 || iy >= p->input.h) {
            tc_conv_zero_run(row_groups, col);
            continue;
        }
        tc_conv_zero_run(kx0 * c / 4, col);
        tc_conv_widen_run(input + tc_offset(&p->input, b, iy, ix0 + kx0, 0),
                          (kx1 - kx0) * c / 4, off, col + kx0 * c);
        tc_conv_zero_run((p->kernel_w - kx1) * c / 4, col + kx1 * c);
    }
}

/* The first n (< 4) bytes of w, zero above. */
static inline uint32_t tc_load_tail(const int8_t *w, int32_t n)
{
    uint32_t v = 0;
    int32_t j;
    for (j = 0; j < n; ++j) {
        v |= (uint32_t)(uint8_t)w[j] << (8 * j);
    }
    return v;
}

/* acc[2 * pixel + filter] += weight words k0, k1 (4 taps each) times one
 * column group of both pixels (col[0..1], col[2..3]). */
static inline void tc_conv_step(uint32_t k0, uint32_t k1, const uint32_t *col,
                                int32_t acc[4])
{
    const int16x2_t k0e = __sxtb16((int8x4_t)k0);
    const int16x2_t k0o = tc_sxtb16_odd(k0);
    const int16x2_t k1e = __sxtb16((int8x4_t)k1);
    const int16x2_t k1o = tc_sxtb16_odd(k1);
    acc[0] = __smlad((int16x2_t)col[1], k0o,
                     __smlad((int16x2_t)col[0], k0e, acc[0]));
    acc[1] = __smlad((int16x2_t)col[1], k1o,
                     __smlad((int16x2_t)col[0], k1e, acc[1]));
    acc[2] = __smlad((int16x2_t)col[3], k0o,
                     __smlad((int16x2_t)col[2], k0e, acc[2]));
    acc[3] = __smlad((int16x2_t)col[3], k1o,
                     __smlad((int16x2_t)col[2], k1e, acc[3]));
}

/* acc[2 * pixel + filter] = dot of filters w0, w0 + wstride (k taps each)
 * with the two interleaved columns. A last group of k % 4 taps is read as
 * whole words when `whole_tail` says 4 bytes there stay inside the weights:
 * the bytes past a filter's end meet the column's zero padding. The loop
 * over whole groups is written in assembly: GCC spills the weight stride
 * and the loop bound and does not pair the column loads, which costs about
 * a quarter more instructions; here one group is 2 LDR + 2 LDRD + 4 SXTB16
 * + 8 SMLAD + 3 for the loop, for 16 MACs. Its 14 register operands do
 * not fit at -O0, which keeps r7 as the frame pointer: unoptimised (debug)
 * builds take the same groups through tc_conv_step, the same exact sums. */
static void tc_conv_dot2x2(const int8_t *w0, int32_t wstride,
                           const uint32_t *col, int32_t k, int32_t whole_tail,
                           int32_t acc[4])
{
    const uint32_t *end = col + (k / 4) * 4;
#ifdef __OPTIMIZE__
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    uint32_t k0, k1, t0, t1, x0, x1;

    if (col != end) {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[k1], [%[w], %[ws]]\n\t"
            "ldr %[k0], [%[w]], #4\n\t"
            "ldrd %[x0], %[x1], [%[c]]\n\t"
            "sxtb16 %[t0], %[k0]\n\t"
            "sxtb16 %[k0], %[k0], ror #8\n\t"
            "sxtb16 %[t1], %[k1]\n\t"
            "sxtb16 %[k1], %[k1], ror #8\n\t"
            "smlad %[a00], %[x0], %[t0], %[a00]\n\t"
            "smlad %[a00], %[x1], %[k0], %[a00]\n\t"
            "smlad %[a01], %[x0], %[t1], %[a01]\n\t"
            "smlad %[a01], %[x1], %[k1], %[a01]\n\t"
            "ldrd %[x0], %[x1], [%[c], #8]\n\t"
            "adds %[c], %[c], #16\n\t"
            "smlad %[a10], %[x0], %[t0], %[a10]\n\t"
            "smlad %[a10], %[x1], %[k0], %[a10]\n\t"
            "smlad %[a11], %[x0], %[t1], %[a11]\n\t"
            "smlad %[a11], %[x1], %[k1], %[a11]\n\t"
            "cmp %[c], %[end]\n\t"
            "bne 1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10),
              [a11] "+r"(a11), [w] "+r"(w0), [c] "+r"(col), [k0] "=&r"(k0),
              [k1] "=&r"(k1), [t0] "=&r"(t0), [t1] "=&r"(t1),
              [x0] "=&r"(x0), [x1] "=&r"(x1)
            : [ws] "r"(wstride), [end] "r"(end)
            : "cc", "memory");
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
#else
    acc[0] = acc[1] = acc[2] = acc[3] = 0;
    for (; col != end; col += 4, w0 += 4) {
        tc_conv_step(tc_load4(w0), tc_load4(w0 + wstride), col, acc);
    }
#endif
    if (k % 4 != 0 && whole_tail) {
        tc_conv_step(tc_load4(w0), tc_load4(w0 + wstride), col, acc);
    } else if (k % 4 != 0) {
        tc_conv_step(tc_load_tail(w0, k % 4),
                     tc_load_tail(w0 + wstride, k % 4), col, acc);
    }
}

/* The column path over every output pixel. The sums of up to
 * TC_CONV_OUT_CHUNK channels of both pixels (bias included) are kept, then
 * requantised by tc_out_run_dsp with the layer's stage set up once. With a
 * bias, the filter pairs whose rows can be read len = k rounded up to 8
 * bytes long without leaving the weights (all but at most the last pair)
 * run in tc_pair_rows_asm, on columns padded with zeros to len; the bytes
 * read past a filter's end meet those zeros. The others take
 * tc_conv_dot2x2. */
static void tc_conv_columns(const tc_conv_params_t *p, const int8_t *input,
                            int8_t *output)
{
    const int32_t k = p->kernel_h * p->kernel_w * p->input.c;
    const int32_t pixels = p->output.n * p->output.h * p->output.w;
    const int32_t oc_n = p->output.c;
    const tc_out_stage_t o =
        tc_out_stage(&p->requant, p->bias, oc_n, k, p->output_zero_point,
                     p->act_min, p->act_max);
    uint32_t col[TC_CONV_COL_MAX];  /* both pixels' columns, interleaved */
    int8_t raw[TC_CONV_COL_MAX];  /* k rounded up to 4 <= COL_MAX */
    int32_t sums[2][TC_CONV_OUT_CHUNK];
    const int32_t len = (k + 7) & ~7;
    int32_t pixel, oc0, oc;

    for (pixel = 0; pixel < pixels; pixel += 2) {
        /* An odd last pixel is computed twice and each of its outputs
         * stored twice in a row, the same value, with no read between. */
        const int32_t second = pixel + 1 < pixels;
        int8_t *out = output + pixel * oc_n;
        int8_t *out1 = out + (second ? oc_n : 0);
        tc_conv_column(p, input, pixel, raw, col, 0);
        tc_conv_column(p, input, pixel + second, raw, col, 1);
        if (len > (k + 3) / 4 * 4) {
            tc_conv_zero_run(1, col + (k + 3) / 4 * 4);
            tc_conv_zero_run(1, col + (k + 3) / 4 * 4 + 2);
        }
        for (oc0 = 0; oc0 < oc_n; oc0 += TC_CONV_OUT_CHUNK) {
            const int32_t count = oc_n - oc0 < TC_CONV_OUT_CHUNK
                                      ? oc_n - oc0
                                      : TC_CONV_OUT_CHUNK;
            oc = oc0;
            while (p->bias != NULL && oc + 1 < oc0 + count &&
                   (oc + 1) * k + len <= oc_n * k) {
                oc += 2;
            }
            if (oc > oc0) {
                tc_pair_rows_job_t job;
                job.w = (const int8_t *)p->weights.data + oc0 * k;
                job.x = (const int16x2_t *)col;
                job.n = k;
                job.bias = p->bias + oc0;
                job.suma = sums[0];
                job.sumb = sums[1];
                job.pairs = (oc - oc0) / 2;
                job.len = len;
                tc_pair_rows_asm(&job);
            }
            for (; oc < oc0 + count; oc += 2) {
                int32_t acc[4];
                const int32_t last = oc + 1 < oc_n ? oc + 1 : oc;
                const int32_t b0 = p->bias != NULL ? p->bias[oc] : 0;
                const int32_t b1 = p->bias != NULL ? p->bias[last] : 0;
                tc_conv_dot2x2((const int8_t *)p->weights.data + oc * k,
                               (last - oc) * k, col, k,
                               last * k + (k / 4) * 4 + 4 <= oc_n * k, acc);
                sums[0][oc - oc0] = acc[0] + b0;
                sums[1][oc - oc0] = acc[2] + b0;
                if (last != oc) {
                    sums[0][last - oc0] = acc[1] + b1;
                    sums[1][last - oc0] = acc[3] + b1;
                }
            }
            tc_out_run_dsp(&o, oc0, sums[0], count, out + oc0);
            tc_out_run_dsp(&o, oc0, sums[1], count, out1 + oc0);
        }
    }
}

/* Nonzero when the column path takes this layer. */
static inline int32_t tc_conv_columns_fit(const tc_conv_params_t *p)
{
    return p->weights.format == TC_WEIGHTS_S8 &&
           p->kernel_h * p->kernel_w * p->input.c <= TC_CONV_COL_MAX;
}

#endif /* TC_CONV_COLUMNS_H */
