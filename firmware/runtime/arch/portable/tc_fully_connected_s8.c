/*
 * tc_fully_connected_s8.c (portable) - FULLY_CONNECTED in plain C99 for any
 * core: dense int8 weights with zero point 0 (TFLite's int8 weights) take
 * four output rows per pass sharing each input load (tc_dot_rows.h); other
 * formats, and the last rows, go through tc_weights_dot. Same integer sums
 * and write order as the reference kernel.
 *
 * Packed weights with an input depth that is a multiple of 8 up to
 * TC_FC_PACKED_MAX (each row's indices or bitmap start on a byte) and
 * weight zero point 0 read the packed form directly, the input first
 * widened once onto the stack (outputs are then written after every input
 * read): a shared palette through a 256-entry table built once per call
 * (index byte -> its two weights as int16), four rows per pass sharing
 * each input load; sparse weights a bitmap byte at a time, its eight bits
 * tested one by one (rv32imc has no count-trailing-zeros instruction), so
 * a zero weight costs a test and branch and a nonzero one a load, a
 * multiply and an add. Block-pruned weights (TC_WEIGHTS_BLOCK8, blocks of
 * a multiple of 4, any depth up to TC_FC_PACKED_MAX) test a bit per
 * block, so a dropped block costs about 5 instructions, and run each kept
 * one as a dense loop of 4 MACs per pass; block-pruned and clustered ones
 * (TC_WEIGHTS_BLOCK4, blocks of a multiple of 4) the same, each index
 * byte's two weights from a 512-byte table built once per call.
 */
#include "../../src/tc_fully_connected_common.h"
#include "tc_dot_rows.h"
#include "tc_out_c.h"

/* Input depth of the packed paths: 2 * TC_FC_PACKED_MAX bytes of stack,
 * plus 1 KB of palette table. */
#define TC_FC_PACKED_MAX 1024

/* Index byte k of row r (a pointer) against inputs x[2k], x[2k + 1]. */
#define TC_FC_PAL_STEP(r, acc, k)                                            \
    do {                                                                     \
        const int16_t *t_ = table[r[k]];                                     \
        acc += t_[0] * x[2 * (k)] + t_[1] * x[2 * (k) + 1];                  \
    } while (0)

/* Index bytes k of the four rows (written out, two per pass, so the row
 * pointers advance once per two bytes). */
#define TC_FC_PAL_STEP4(k)                                                   \
    do {                                                                     \
        TC_FC_PAL_STEP(r0, a0, k);                                           \
        TC_FC_PAL_STEP(r1, a1, k);                                           \
        TC_FC_PAL_STEP(r2, a2, k);                                           \
        TC_FC_PAL_STEP(r3, a3, k);                                           \
    } while (0)

/* wide[j] = in[j] - input zero point for the inputs of a batch: the
 * packed loops' operands, offset once per batch rather than once per row. */
static inline void tc_fc_widen(const tc_fully_connected_params_t *p,
                               const int8_t *in, int16_t *wide)
{
    int32_t j;
    for (j = 0; j < p->input_depth; ++j) {
        wide[j] = (int16_t)(in[j] - p->input_zero_point);
    }
}

/* One batch with a shared palette; table[b] holds the two weights of
 * index byte b, low nibble first. The batch functions stay out of line,
 * so their stack buffers never add up. */
static __attribute__((noinline)) void
tc_fc_pal_batch(const tc_fully_connected_params_t *p, const tc_out_c_t *stage,
                const int16_t (*table)[2], const int8_t *in, int8_t *out)
{
    const int32_t n = p->input_depth;
    const int32_t bytes = n / 2;
    const uint8_t *idx = ((const tc_palette4_t *)p->weights.data)->indices;
    int16_t wide[TC_FC_PACKED_MAX];
    const int16_t *end = wide + n;
    const int16_t *x;
    int32_t o = 0;

    tc_fc_widen(p, in, wide);
    for (; o + 4 <= p->output_depth; o += 4) {
        const uint8_t *r0 = idx + o * bytes;
        const uint8_t *r1 = r0 + bytes;
        const uint8_t *r2 = r1 + bytes;
        const uint8_t *r3 = r2 + bytes;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (x = wide; x != end; x += 4, r0 += 2, r1 += 2, r2 += 2, r3 += 2) {
            TC_FC_PAL_STEP4(0);
            TC_FC_PAL_STEP4(1);
        }
        out[o] = tc_out_c(stage, o, a0);
        out[o + 1] = tc_out_c(stage, o + 1, a1);
        out[o + 2] = tc_out_c(stage, o + 2, a2);
        out[o + 3] = tc_out_c(stage, o + 3, a3);
    }
    for (; o < p->output_depth; ++o) {
        const uint8_t *r0 = idx + o * bytes;
        int32_t a0 = 0;
        for (x = wide; x != end; x += 2, ++r0) {
            TC_FC_PAL_STEP(r0, a0, 0);
        }
        out[o] = tc_out_c(stage, o, a0);
    }
}

/* Bit k of bitmap byte `bits`: its nonzero weight times input k. */
#define TC_FC_SPARSE_BIT(k)                                                  \
    do {                                                                     \
        if (bits & (1u << k)) {                                              \
            acc += (int32_t)x[k] * *value++;                                 \
        }                                                                    \
    } while (0)

/* One batch of sparse weights, a row at a time. */
static __attribute__((noinline)) void
tc_fc_sparse_batch(const tc_fully_connected_params_t *p,
                   const tc_out_c_t *stage, const int8_t *in, int8_t *out)
{
    const tc_sparse8_t *sp = (const tc_sparse8_t *)p->weights.data;
    const int32_t n = p->input_depth;
    const uint8_t *bitmap = sp->bitmap;
    int16_t wide[TC_FC_PACKED_MAX];
    int32_t j, o;

    tc_fc_widen(p, in, wide);
    for (o = 0; o < p->output_depth; ++o) {
        const int8_t *value = sp->values + sp->channel_start[o];
        int32_t acc = 0;
        for (j = 0; j < n; j += 8) {
            const uint32_t bits = *bitmap++;
            const int16_t *x = wide + j;
            if (bits == 0u) {
                continue;
            }
            TC_FC_SPARSE_BIT(0);
            TC_FC_SPARSE_BIT(1);
            TC_FC_SPARSE_BIT(2);
            TC_FC_SPARSE_BIT(3);
            TC_FC_SPARSE_BIT(4);
            TC_FC_SPARSE_BIT(5);
            TC_FC_SPARSE_BIT(6);
            TC_FC_SPARSE_BIT(7);
        }
        out[o] = tc_out_c(stage, o, acc);
    }
}

/* Input k of a run of kept blocks (weights w, widened inputs x). */
#define TC_FC_BLOCK_MAC(k) ((int32_t)w[k] * x[k])

/* Index byte k of a run of kept blocks (TC_WEIGHTS_BLOCK4: indices w,
 * widened inputs x) against its two inputs; nib[b] and nib[256 + b] are
 * the weights of index byte b (a byte table: rv32 has no scaled index, so
 * this saves a shift per byte over int16 pairs). */
#define TC_FC_BLOCK4_MAC(k)                                                  \
    (nib[w[k]] * x[2 * (k)] + nib[256 + w[k]] * x[2 * (k) + 1])

/* Room for a row's runs of kept blocks, (first block, blocks) each: a row
 * has at most 256 blocks and a run ends with its bitmap byte, so at most
 * 4 runs a byte. As bytes, the stack frame stays small enough that the
 * palette loop's slots keep their short offsets. */
#define TC_FC_RUNS (2 * (TC_FC_PACKED_MAX / 8 + 1))

/* The runs of kept blocks of the row whose bitmap (`bytes` bytes, the
 * last masked with `last`) is at *bitmap, advanced past it, into `runs`;
 * returns their end. About 4 instructions a block (a byte of eight kept
 * blocks at once, joined to a run it continues). */
static inline uint8_t *tc_fc_runs(const uint8_t **bitmap, int32_t bytes,
                                  uint32_t last, uint8_t *runs)
{
    const uint8_t *bits_at = *bitmap;
    const uint8_t *const first = runs;
    int32_t k;
    for (k = 0; k < bytes; ++k) {
        uint32_t bits = *bits_at++ & (k + 1 < bytes ? 0xFFu : last);
        uint32_t at = 8u * (uint32_t)k;
        if (bits == 0xFFu) { /* eight kept blocks: one run, no walk */
            if (runs != first && runs[-2] + runs[-1] == (int32_t)at &&
                runs[-1] < 248u) {
                runs[-1] = (uint8_t)(runs[-1] + 8u);  /* the run goes on */
                continue;
            }
            runs[0] = (uint8_t)at;
            runs[1] = 8u;
            runs += 2;
            continue;
        }
        while (bits != 0u) {
            uint32_t len = 0;
            for (; (bits & 1u) == 0u; bits >>= 1) {
                ++at;
            }
            for (; (bits & 1u) != 0u; bits >>= 1) {
                ++len;
            }
            runs[0] = (uint8_t)at;
            runs[1] = (uint8_t)len;
            runs += 2;
            at += len;
        }
    }
    *bitmap = bits_at;
    return runs;
}

/* One batch of block-pruned weights (blocks of a multiple of 4), a row at
 * a time, in two passes: the row's bitmap into runs of kept blocks
 * (tc_fc_runs), then each run as one loop of 4 MACs per pass. In one
 * pass the MAC loop's registers and the bitmap walk's do not fit rv32's,
 * and GCC spills 7 of them around every run (1.64x the dense layer with
 * every block of 4 kept, against 1.35x); unrolled by 8 it spills too. */
static __attribute__((noinline)) void
tc_fc_block_batch(const tc_fully_connected_params_t *p,
                  const tc_out_c_t *stage, const int8_t *in, int8_t *out)
{
    const tc_block8_t *bk = (const tc_block8_t *)p->weights.data;
    const int32_t n = p->input_depth;
    const int32_t block = bk->block;
    const int32_t bytes = (n / block + 7) / 8;
    const uint32_t last = tc_block_last_bits(n / block);
    const uint8_t *bitmap = bk->bitmap;
    int16_t wide[TC_FC_PACKED_MAX];
    uint8_t runs[TC_FC_RUNS];
    int32_t o;

    tc_fc_widen(p, in, wide);
    for (o = 0; o < p->output_depth; ++o) {
        const int8_t *w = bk->values + bk->channel_start[o];
        const uint8_t *end = tc_fc_runs(&bitmap, bytes, last, runs);
        const uint8_t *run;
        int32_t acc = 0;
        for (run = runs; run != end; run += 2) {
            const int16_t *x = wide + run[0] * block;
            const int8_t *stop = w + run[1] * block;
            for (; w != stop; w += 4, x += 4) {
                acc += TC_FC_BLOCK_MAC(0) + TC_FC_BLOCK_MAC(1) +
                       TC_FC_BLOCK_MAC(2) + TC_FC_BLOCK_MAC(3);
            }
        }
        out[o] = tc_out_c(stage, o, acc);
    }
}

/* One batch of block-pruned and clustered weights (TC_WEIGHTS_BLOCK4,
 * blocks of a multiple of 4) as tc_fc_block_batch, the two weights of
 * each index byte from the table `nib`: four index bytes, 8 MACs, per
 * pass, after one of two bytes if the run has an odd number of them. */
static __attribute__((noinline)) void
tc_fc_block4_batch(const tc_fully_connected_params_t *p,
                   const tc_out_c_t *stage, const int8_t *nib,
                   const int8_t *in, int8_t *out)
{
    const tc_block4_t *bk = (const tc_block4_t *)p->weights.data;
    const int32_t n = p->input_depth;
    const int32_t block = bk->block;
    const int32_t bytes = (n / block + 7) / 8;
    const uint32_t last = tc_block_last_bits(n / block);
    const uint8_t *bitmap = bk->bitmap;
    int16_t wide[TC_FC_PACKED_MAX];
    uint8_t runs[TC_FC_RUNS];
    int32_t o;

    tc_fc_widen(p, in, wide);
    for (o = 0; o < p->output_depth; ++o) {
        const uint8_t *w = bk->indices + bk->channel_start[o];
        const uint8_t *end = tc_fc_runs(&bitmap, bytes, last, runs);
        const uint8_t *run;
        int32_t acc = 0;
        for (run = runs; run != end; run += 2) {
            const int16_t *x = wide + run[0] * block;
            const uint8_t *stop = w + run[1] * (block / 2);
            if (((stop - w) & 2) != 0) {
                acc += TC_FC_BLOCK4_MAC(0) + TC_FC_BLOCK4_MAC(1);
                w += 2;
                x += 4;
            }
            for (; w != stop; w += 4, x += 8) {
                acc += TC_FC_BLOCK4_MAC(0) + TC_FC_BLOCK4_MAC(1) +
                       TC_FC_BLOCK4_MAC(2) + TC_FC_BLOCK4_MAC(3);
            }
        }
        out[o] = tc_out_c(stage, o, acc);
    }
}

/* The packed paths above, for every batch: 1 when done, 0 when the layer
 * has none (the caller takes the generic loop). */
static int tc_fc_packed(const tc_fully_connected_params_t *p,
                        const tc_out_c_t *stage, const int8_t *input,
                        int8_t *output)
{
    const int32_t n = p->input_depth;
    const int shared_palette =
        TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_PALETTE4) &&
        ((const tc_palette4_t *)p->weights.data)->shared;
    const int blocks =
        TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_BLOCK8) &&
        ((const tc_block8_t *)p->weights.data)->block % 4 == 0;
    const int blocks4 =
        TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_BLOCK4) &&
        ((const tc_block4_t *)p->weights.data)->block % 4 == 0;
    /* The shared palette's int16 pairs, or TC_WEIGHTS_BLOCK4's bytes. */
    union {
        int16_t pairs[256][2];
        int8_t bytes[512];
    } table;
    int32_t b, i;

    if (p->weights_zero_point != 0 || n > TC_FC_PACKED_MAX ||
        !(blocks || blocks4 ||
          (n % 8 == 0 &&
           (shared_palette ||
            TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_SPARSE8))))) {
        return 0;
    }
    if (shared_palette) {
        const int8_t *pal = ((const tc_palette4_t *)p->weights.data)->palette;
        for (i = 0; i < 256; ++i) {
            table.pairs[i][0] = pal[i & 15];
            table.pairs[i][1] = pal[i >> 4];
        }
    } else if (blocks4) {
        const int8_t *pal = ((const tc_block4_t *)p->weights.data)->palette;
        for (i = 0; i < 256; ++i) {
            table.bytes[i] = pal[i & 15];
            table.bytes[256 + i] = pal[i >> 4];
        }
    }
    for (b = 0; b < p->batches; ++b) {
        if (shared_palette) {
            tc_fc_pal_batch(p, stage, (const int16_t(*)[2])table.pairs,
                            input + b * n, output + b * p->output_depth);
        } else if (blocks) {
            tc_fc_block_batch(p, stage, input + b * n,
                              output + b * p->output_depth);
        } else if (blocks4) {
            tc_fc_block4_batch(p, stage, table.bytes, input + b * n,
                               output + b * p->output_depth);
        } else {
            tc_fc_sparse_batch(p, stage, input + b * n,
                               output + b * p->output_depth);
        }
    }
    return 1;
}

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_fully_connected_check(p, input, output);
    const int32_t n = p->input_depth;
    const int32_t rows = p->weights.format == TC_WEIGHTS_S8 &&
                                 p->weights_zero_point == 0
                             ? p->output_depth & ~3
                             : 0;
    tc_out_c_t stage;
    int32_t b, o, j;

    if (status != TC_OK) {
        return status;
    }
    stage = tc_out_c_setup(&p->requant, p->bias, p->output_zero_point,
                           p->act_min, p->act_max);
    if (p->weights_zero_point == 0) { /* its bound needs int8 weights */
        tc_out_c_allow_fast(&stage, p->output_depth, n);
    }
    if (tc_fc_packed(p, &stage, input, output)) {
        return TC_OK;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * n;
        int8_t *out = output + b * p->output_depth;
        for (o = 0; o < rows; o += 4) {
            int32_t acc[4];
            tc_dot4_s8((const int8_t *)p->weights.data + o * n, n, in, n,
                       p->input_zero_point, acc);
            for (j = 0; j < 4; ++j) {
                out[o + j] = tc_out_c(&stage, o + j, acc[j]);
            }
        }
        for (; o < p->output_depth; ++o) {
            out[o] = tc_out_c(&stage, o,
                              tc_weights_dot(&p->weights, o * n, o, in, n,
                                             p->input_zero_point,
                                             p->weights_zero_point));
        }
    }
    return TC_OK;
}
