/*
 * tc_fc_packed_mve.h - FULLY_CONNECTED with packed weights on Helium
 * (Cortex-M55): the packed branch of arch/helium/tc_fully_connected_s8.c.
 *
 * Shared palette (TC_WEIGHTS_PALETTE4 with `shared`), input depth a
 * multiple of 32: 16 index bytes of a row hold 32 weights; their low
 * nibbles give the even elements and their high nibbles the odd ones, so
 * two byte gathers (VLDRB with a vector of offsets: the index bytes) from
 * two 256-byte tables built once per call give the even and odd weights,
 * which meet the input loaded de-interleaved (VLD20/VLD21, shared by two
 * rows) in two VMLADAVA; two VADDVA sum the weights, for the input zero
 * point: sum w * (x - zp) = sum w * x - zp * sum w, exact in int32 like
 * the reference's sum. That is 7 instructions per 32 MACs of a row (the
 * Helium dense FC: 11 per 48). Other depths, sparse weights and per-channel
 * palettes go to the DSP packed loops (tc_fc_packed_dsp.h: the M55 has the
 * DSP extension), then to the generic loop. Sparse rows stay scalar: a
 * visit per nonzero cannot approach 16-lane dot products.
 */
#ifndef TC_FC_PACKED_MVE_H
#define TC_FC_PACKED_MVE_H

#include <arm_mve.h>

#include "../cortex-m-dsp/tc_fc_packed_dsp.h"

/* low[b] = palette[b & 15] and high[b] = palette[b >> 4] for every index
 * byte b, so a gather takes the index bytes themselves as offsets (no
 * nibble masking in the loop); about 80 instructions per call. */
static inline void tc_fc_pal_tables_mve(const int8_t *palette, int8_t *low,
                                        int8_t *high)
{
    const int8x16_t all = vldrbq_s8(palette);
    int32_t j;
    for (j = 0; j < 16; ++j) {
        vstrbq_s8(low + 16 * j, all);
        vstrbq_s8(high + 16 * j, vdupq_n_s8(palette[j]));
    }
}

/* Index bytes k..k + 15 of row r against the de-interleaved input x:
 * acc += their weights times x, wsum += their weights (7 instructions). */
#define TC_FC_PAL_MVE_ROW(r, acc, wsum)                                      \
    do {                                                                     \
        const uint8x16_t b_ = vldrbq_u8(r);                                  \
        const int8x16_t even_ = vldrbq_gather_offset_s8(low, b_);            \
        const int8x16_t odd_ = vldrbq_gather_offset_s8(high, b_);            \
        acc = vmladavaq_s8(acc, even_, x.val[0]);                            \
        acc = vmladavaq_s8(acc, odd_, x.val[1]);                             \
        wsum = vaddvaq_s8(wsum, even_);                                      \
        wsum = vaddvaq_s8(wsum, odd_);                                       \
    } while (0)

/* sum[i] = (bias or 0) + row i of the shared-palette layer times (in -
 * zp), for `rows` rows of bytes = n / 2 index bytes (a multiple of 16);
 * two rows per pass (with four, GCC spills the row pointers and sums),
 * then the last one. */
static inline void tc_fc_pal_rows_mve(const uint8_t *idx, int32_t bytes,
                                      int32_t rows, const int8_t *low,
                                      const int8_t *high, const int8_t *in,
                                      int32_t zp, const int32_t *bias,
                                      int32_t *sum)
{
    const int8_t *end = in + 2 * bytes;
    int32_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const uint8_t *r0 = idx + r * bytes;
        const uint8_t *r1 = r0 + bytes;
        const int8_t *at;
        int32_t a0 = 0, a1 = 0, s0 = 0, s1 = 0;
        for (at = in; at != end; at += 32, r0 += 16, r1 += 16) {
            const int8x16x2_t x = vld2q_s8(at);
            TC_FC_PAL_MVE_ROW(r0, a0, s0);
            TC_FC_PAL_MVE_ROW(r1, a1, s1);
        }
        sum[r] = a0 - zp * s0 + (bias != NULL ? bias[r] : 0);
        sum[r + 1] = a1 - zp * s1 + (bias != NULL ? bias[r + 1] : 0);
    }
    if (r < rows) {
        const uint8_t *r0 = idx + r * bytes;
        const int8_t *at;
        int32_t a0 = 0, s0 = 0;
        for (at = in; at != end; at += 32, r0 += 16) {
            const int8x16x2_t x = vld2q_s8(at);
            TC_FC_PAL_MVE_ROW(r0, a0, s0);
        }
        sum[r] = a0 - zp * s0 + (bias != NULL ? bias[r] : 0);
    }
}

/* FULLY_CONNECTED through a packed path (arguments already checked): 1
 * when done, 0 when the caller must take the generic loop. */
static inline int tc_fc_packed_mve(const tc_fully_connected_params_t *p,
                                   const int8_t *input, int8_t *output)
{
    const int32_t n = p->input_depth;
    const tc_palette4_t *pal = (const tc_palette4_t *)p->weights.data;
    int8_t low[256], high[256];
    int32_t sum[TC_FC_PACKED_BLOCK];
    tc_out_stage_t o;
    int32_t b, r;

    if (p->weights.format != TC_WEIGHTS_PALETTE4 || !pal->shared ||
        p->weights_zero_point != 0 || n % 32 != 0) {
        return tc_fc_packed_dsp(p, input, output);
    }
    o = tc_out_stage(&p->requant, p->bias, p->output_depth, n,
                     p->output_zero_point, p->act_min, p->act_max);
    tc_fc_pal_tables_mve(pal->palette, low, high);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * n;
        int8_t *out = output + b * p->output_depth;
        for (r = 0; r < p->output_depth; r += TC_FC_PACKED_BLOCK) {
            const int32_t block = p->output_depth - r < TC_FC_PACKED_BLOCK
                                      ? p->output_depth - r
                                      : TC_FC_PACKED_BLOCK;
            tc_fc_pal_rows_mve(pal->indices + r * (n / 2), n / 2, block, low,
                               high, in, p->input_zero_point,
                               p->bias != NULL ? p->bias + r : NULL, sum);
            tc_out_run_dsp(&o, r, sum, block, out + r);
        }
    }
    return 1;
}

#endif /* TC_FC_PACKED_MVE_H */
