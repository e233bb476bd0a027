/*
 * tc_conv_1x1_s8.c (Cortex-M DSP) - pointwise CONV_2D (1x1 filter, no
 * padding, any stride) as a matrix product with no im2col.
 *
 * Fast path (dense int8 weights, up to TC_PW_PAIR_MAX input and output
 * channels: the pointwise layers of DS-CNN and MobileNet): two output
 * pixels per pass. Both input pixels are widened once into a stack buffer
 * (SXTAB16, the zero point added for free); then each weight word is loaded
 * and widened once and feeds four SMLADs per pixel pair, two output
 * channels at a time. The sums of both pixels are kept on the stack and
 * requantised after the pass (tc_out_run_dsp), so outputs still land in
 * raster order after all the reads that precede them, as the reference's,
 * and the CONV_2D shifted-overlap plan holds. With a bias and input
 * channels a multiple of 8 (every pointwise layer of DS-CNN and MobileNet)
 * the row pairs run in hand-allocated assembly (tc_pair_rows_asm). A lone
 * last pixel, wider layers and packed weights take the three-row loop of
 * tc_rows_dsp.h or the reference loop; packed weights with a decode
 * scratch are decoded once per call (tc_conv_decoded) and run as dense.
 */

#include "../../src/tc_conv_common.h"
#include "tc_pair_rows_asm.h"
#include "tc_rows_dsp.h"

/* Channels of the paired path: its stack use is 12 * TC_PW_PAIR_MAX bytes. */
#define TC_PW_PAIR_MAX 256

/* For each whole input word i of both pixels: wide[4i], wide[4i + 1] =
 * lanes (0, 2) and (1, 3) of pixel a's word, minus the zero point;
 * wide[4i + 2], wide[4i + 3] the same of pixel b, so the inner loop walks
 * one pointer. */
static inline void tc_pw_widen(const int8_t *ina, const int8_t *inb,
                               int32_t n, int16x2_t offset, int16x2_t *wide)
{
    int32_t j;
    for (j = 0; j + 4 <= n; j += 4) {
        const uint32_t xa = tc_load4(ina + j);
        const uint32_t xb = tc_load4(inb + j);
        wide[j] = __sxtab16(offset, (int8x4_t)xa);
        wide[j + 1] = tc_sxtab16_odd(offset, xa);
        wide[j + 2] = __sxtab16(offset, (int8x4_t)xb);
        wide[j + 3] = tc_sxtab16_odd(offset, xb);
    }
}

/* acc[0], acc[1]: rows w, w + n on pixel a; acc[2], acc[3]: on pixel b;
 * each starting at its bias. x: both pixels widened by tc_pw_widen;
 * ina, inb: the same pixels as bytes, for the n % 4 last columns. */
static inline void tc_pw_2x2(const int8_t *w, int32_t n, const int16x2_t *x,
                             const int8_t *ina, const int8_t *inb, int32_t zp,
                             int32_t acc[4])
{
    const int8_t *w1 = w + n;
    const int8_t *w0 = w;
    const int8_t *const end = w + (n & ~3);
    int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3];
    int32_t j;

    while (w0 != end) {
        const int16x2_t xa02 = x[0], xa13 = x[1];
        const int16x2_t xb02 = x[2], xb13 = x[3];
        uint32_t k = tc_load4(w0);
        int16x2_t k02 = __sxtb16((int8x4_t)k);
        int16x2_t k13 = tc_sxtb16_odd(k);
        a0 = __smlad(xa02, k02, a0);
        a0 = __smlad(xa13, k13, a0);
        b0 = __smlad(xb02, k02, b0);
        b0 = __smlad(xb13, k13, b0);
        k = tc_load4(w1);
        k02 = __sxtb16((int8x4_t)k);
        k13 = tc_sxtb16_odd(k);
        a1 = __smlad(xa02, k02, a1);
        a1 = __smlad(xa13, k13, a1);
        b1 = __smlad(xb02, k02, b1);
        b1 = __smlad(xb13, k13, b1);
        w0 += 4;
        w1 += 4;
        x += 4;
    }
    for (j = n & ~3; j < n; ++j) {
        const int32_t xa = (int32_t)ina[j] - zp;
        const int32_t xb = (int32_t)inb[j] - zp;
        a0 += w[j] * xa;
        a1 += w[n + j] * xa;
        b0 += w[j] * xb;
        b1 += w[n + j] * xb;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = b0;
    acc[3] = b1;
}

/* Output pixels a and b (input pixels ina, inb) of a dense layer. */
static void tc_pw_pair(const tc_conv_params_t *p, const tc_out_stage_t *o,
                       const int8_t *ina, const int8_t *inb, int8_t *outa,
                       int8_t *outb)
{
    const int32_t n = p->input.c;
    const int32_t rows = p->output.c;
    const int8_t *w = (const int8_t *)p->weights.data;
    const int32_t *bias = p->bias;
    int16x2_t wide[TC_PW_PAIR_MAX];
    int32_t sums[2][TC_PW_PAIR_MAX];
    int32_t r;

    tc_pw_widen(ina, inb, n, tc_dup16(-p->input_zero_point), wide);
    r = 0;
    if (bias != NULL && n % 8 == 0 && rows >= 2) {
        tc_pair_rows_job_t job;
        job.w = w;
        job.x = wide;
        job.n = n;
        job.bias = bias;
        job.suma = sums[0];
        job.sumb = sums[1];
        job.pairs = rows / 2;
        job.len = n;
        tc_pair_rows_asm(&job);
        r = rows & ~1;
    }
    for (; r + 2 <= rows; r += 2) {
        int32_t acc[4];
        acc[0] = acc[2] = bias != NULL ? bias[r] : 0;
        acc[1] = acc[3] = bias != NULL ? bias[r + 1] : 0;
        tc_pw_2x2(w + r * n, n, wide, ina, inb, p->input_zero_point, acc);
        sums[0][r] = acc[0];
        sums[0][r + 1] = acc[1];
        sums[1][r] = acc[2];
        sums[1][r + 1] = acc[3];
    }
    if (r < rows) {
        const int16x2_t offset = tc_dup16(-p->input_zero_point);
        const int32_t b = bias != NULL ? bias[r] : 0;
        sums[0][r] = tc_row1_dsp(w + r * n, n, ina, offset, b);
        sums[1][r] = tc_row1_dsp(w + r * n, n, inb, offset, b);
    }
    tc_out_run_dsp(o, 0, sums[0], rows, outa);
    tc_out_run_dsp(o, 0, sums[1], rows, outb);
}

tc_status_t tc_conv_1x1_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    tc_conv_params_t dense;
    const int32_t pixels = p->output.n * p->output.h * p->output.w;
    tc_out_stage_t o;
    int32_t q, paired;

    if (status != TC_OK) {
        return status;
    }
    p = tc_conv_decoded(p, &dense);  /* packed weights: once per call */
    if (!tc_conv_is_1x1(p)) {
        return tc_conv_s8(p, input, output);
    }
    o = tc_out_stage(&p->requant, p->bias, p->output.c, p->input.c,
                     p->output_zero_point, p->act_min, p->act_max);
    paired = p->weights.format == TC_WEIGHTS_S8 &&
             p->input.c <= TC_PW_PAIR_MAX && p->output.c <= TC_PW_PAIR_MAX;
    for (q = 0; q < pixels; ++q) {
        const int32_t ox = q % p->output.w;
        const int32_t oy = (q / p->output.w) % p->output.h;
        const int32_t b = q / (p->output.w * p->output.h);
        const int8_t *in = input + tc_offset(&p->input, b, oy * p->stride_h,
                                             ox * p->stride_w, 0);
        int8_t *out = output + q * p->output.c;
        if (paired && q + 1 < pixels) {
            const int32_t ox1 = (q + 1) % p->output.w;
            const int32_t oy1 = ((q + 1) / p->output.w) % p->output.h;
            const int32_t b1 = (q + 1) / (p->output.w * p->output.h);
            tc_pw_pair(p, &o, in,
                       input + tc_offset(&p->input, b1, oy1 * p->stride_h,
                                         ox1 * p->stride_w, 0),
                       out, out + p->output.c);
            ++q;
        } else if (p->weights.format == TC_WEIGHTS_S8) {
            tc_rows_out_dsp((const int8_t *)p->weights.data, p->output.c,
                            p->input.c, in, p->input_zero_point, p->bias, &o,
                            out);
        } else {
            int32_t oc;
            for (oc = 0; oc < p->output.c; ++oc) {
                out[oc] = tc_out_dsp(
                    &o, oc,
                    tc_weights_dot(&p->weights, oc * p->input.c, oc, in,
                                   p->input.c, p->input_zero_point, 0) +
                        (p->bias != NULL ? p->bias[oc] : 0));
            }
        }
    }
    return TC_OK;
}
