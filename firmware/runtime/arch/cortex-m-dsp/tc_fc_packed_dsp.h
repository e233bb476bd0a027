/*
 * tc_fc_packed_dsp.h - FULLY_CONNECTED with packed weights on Armv7E-M
 * DSP (the Cortex-M4 build; the Helium build includes it too).
 *
 * A weight of a fully connected layer is used once per inference, so
 * decoding it into a scratch, as packed convolutions do, would not pay;
 * these loops read the packed form directly:
 *
 * - Shared palette (TC_WEIGHTS_PALETTE4 with `shared`: a clustered Dense
 *   quantised per tensor). A 256-entry table, built once per call, maps an
 *   index byte to its two weights as the int16 pair SMLAD takes, so two
 *   weights of a row cost LDRB + LDR + SMLAD. The input is widened once
 *   in element order and four rows per pass share each input word
 *   (tc_fc_pal_rows_asm): 52 instructions per 32 MACs, against the dense
 *   kernel's 44.
 * - Sparse (TC_WEIGHTS_SPARSE8): the input widened once to int16; each
 *   row's bitmap is read 32 bits at a time, bit-reversed once (RBIT) and
 *   its set bits visited from the top with CLZ, so a zero weight costs
 *   nothing and a nonzero one about 7 instructions.
 * - Block-pruned (TC_WEIGHTS_BLOCK8, blocks of a multiple of 4 weights):
 *   the input widened once as for the dense loop; each row's block bitmap
 *   is read 32 bits at a time and its runs of kept blocks found with CLZ
 *   (9 instructions per run of kept blocks and the dropped ones before
 *   it), and each run is one dense SXTB16/SMLAD loop over its weights,
 *   22 instructions per 16 MACs with blocks of 16 (tc_fc_block16_asm and
 *   its siblings): 0.72x the dense layer at 50 % of blocks of 16 kept,
 *   1.31x with blocks of 4, 1.08x with every block of 16 kept.
 * - Block-pruned and clustered (TC_WEIGHTS_BLOCK4, blocks of a multiple
 *   of 4): the same runs over the input widened in element order, each
 *   index byte through the shared palette's table (LDRB + LDR + SMLAD,
 *   29 instructions per 16 MACs); blocks of exactly 4 a bitmap byte at
 *   a time (tc_fc_block_nib_bytes_asm): 0.93x the dense layer at 50 % of
 *   blocks of 16 kept, 1.16x / 1.37x with blocks of 8 / 4, 1.43x with
 *   every block of 16 kept.
 *
 * The first two need an input depth that is a multiple of 8, up to
 * TC_FC_PACKED_MAX (each row's indices or bitmap start on a byte), the
 * block paths a depth up to TC_FC_PACKED_MAX and, for TC_WEIGHTS_BLOCK8,
 * word-aligned kept blocks (the generator aligns its arrays; the loop
 * reads them with LDRD); all weights zero point 0. tc_fc_packed_dsp()
 * returns 0 for anything else (a per-channel palette, blocks of 2, 3 or
 * 6, too) and the caller takes the generic loop. Same integer sums as
 * the reference kernel; every output is written after all the input
 * reads of its batch.
 */
#ifndef TC_FC_PACKED_DSP_H
#define TC_FC_PACKED_DSP_H

#include <stddef.h>
#include <string.h>

#include "../../src/tc_weights.h"
#include "tc_quad_job_asm.h"
#include "tc_simd_dsp.h"

/* Input depth of the packed paths: the widened input takes
 * 2 * TC_FC_PACKED_MAX bytes of stack, the palette table 1 KB more. */
#define TC_FC_PACKED_MAX 1024
/* Rows summed before their outputs are written. */
#define TC_FC_PACKED_BLOCK 64

/* Row quads for tc_fc_pal_rows_asm; the assembly relies on this layout. */
typedef struct {
    const uint8_t *idx;     /* 0: index bytes of the next quad's first row */
    const int16x2_t *x;     /* 4: the input, elements (2k, 2k + 1) per word */
    int32_t bytes;          /* 8: index bytes per row, a multiple of 4 */
    const int32_t *bias;    /* 12: bias of the next quad */
    int32_t *sum;           /* 16: sums out, four per quad */
    int32_t quads;          /* 20: row quads left, at least 1 */
    const uint32_t *table;  /* 24: index byte -> its two weights */
} tc_fc_pal_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_fc_pal_job_layout[offsetof(tc_fc_pal_job_t, table) == 24 ? 1
                                                                        : -1];

/* One index byte of the four rows (r0 row 0, r4 row 2; rows 1, 3 are
 * r2 bytes further) against input word `x`; r3 is the table. */
#define TC_FC_PAL_BYTE(x)                                                   \
    "ldrb r7, [r0, r2]\n\t"                                                 \
    "ldrb r8, [r0], #1\n\t"                                                 \
    "ldr r7, [r3, r7, lsl #2]\n\t"                                          \
    "ldr r8, [r3, r8, lsl #2]\n\t"                                          \
    "smlad r10, r7, " x ", r10\n\t"                                         \
    "smlad r9, r8, " x ", r9\n\t"                                           \
    "ldrb r7, [r4, r2]\n\t"                                                 \
    "ldrb r8, [r4], #1\n\t"                                                 \
    "ldr r7, [r3, r7, lsl #2]\n\t"                                          \
    "ldr r8, [r3, r8, lsl #2]\n\t"                                          \
    "smlad r12, r7, " x ", r12\n\t"                                         \
    "smlad r11, r8, " x ", r11\n\t"

/* For each row quad of the job: the four sums, from the bias, into sum.
 * The inner loop keeps every value in a register (r0, r4 indices, r1
 * inputs, r2 row bytes, r3 table, lr end of row 0, r9..r12 sums), four
 * index bytes (eight weights) of each row per pass; the job, in memory,
 * carries the quad state. */
__attribute__((naked)) static void
tc_fc_pal_rows_asm(tc_fc_pal_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        TC_QUAD_JOB_START
        "ldr r3, [lr, #24]\n\t"
        "add lr, r0, r2\n\t"
        "add r4, lr, r2\n"
        "2:\n\t"
        "ldrd r5, r6, [r1], #8\n\t"
        TC_FC_PAL_BYTE("r5") TC_FC_PAL_BYTE("r6")
        "ldrd r5, r6, [r1], #8\n\t"
        TC_FC_PAL_BYTE("r5") TC_FC_PAL_BYTE("r6")
        "cmp r0, lr\n\t"
        "bne 2b\n\t"
        TC_QUAD_JOB_NEXT);
}

/* table[b] = palette[b & 15] | palette[b >> 4] << 16 as int16 lanes: the
 * two weights of index byte b in the lanes of their inputs (about 1,300
 * instructions per call). */
static inline void tc_fc_pal_table(const int8_t *palette, uint32_t *table)
{
    uint32_t low[16];
    int32_t i, j;
    for (i = 0; i < 16; ++i) {
        low[i] = (uint32_t)palette[i] & 0xFFFFu;
    }
    for (j = 0; j < 16; ++j, table += 16) {
        const uint32_t high = low[j] << 16;
        for (i = 0; i < 16; ++i) {
            table[i] = high | low[i];
        }
    }
}

/* One batch, shared palette: sums of TC_FC_PACKED_BLOCK rows at a time
 * (quads by the assembly, the last rows % 4 in C), then requantised. */
static __attribute__((noinline)) void
tc_fc_pal_batch(const tc_fully_connected_params_t *p, const tc_out_stage_t *o,
                const uint32_t *table, const int8_t *in, int8_t *out)
{
    const int32_t n = p->input_depth;
    const int32_t bytes = n / 2;
    const int32_t rows = p->output_depth;
    const int16x2_t offset = tc_dup16(-p->input_zero_point);
    const uint8_t *idx =
        ((const tc_palette4_t *)p->weights.data)->indices;
    int16x2_t wide[TC_FC_PACKED_MAX / 2];
    int32_t sum[TC_FC_PACKED_BLOCK];
    int32_t zeros[TC_FC_PACKED_BLOCK];
    int32_t j, r;

    for (j = 0; j < n; j += 4) { /* (x0, x2), (x1, x3) -> (x0, x1), (x2, x3) */
        const uint32_t x = tc_load4(in + j);
        const uint32_t even = (uint32_t)__sxtab16(offset, (int8x4_t)x);
        const uint32_t odd = (uint32_t)tc_sxtab16_odd(offset, x);
        wide[j / 2] = (int16x2_t)((even & 0xFFFFu) | (odd << 16));
        wide[j / 2 + 1] = (int16x2_t)((odd & 0xFFFF0000u) | (even >> 16));
    }
    if (p->bias == NULL) {
        memset(zeros, 0, sizeof zeros);
    }
    for (r = 0; r < rows; r += TC_FC_PACKED_BLOCK) {
        const int32_t block = rows - r < TC_FC_PACKED_BLOCK
                                  ? rows - r
                                  : TC_FC_PACKED_BLOCK;
        const int32_t quads = block / 4;
        int32_t i;
        if (quads > 0) {
            tc_fc_pal_job_t job;
            job.idx = idx + r * bytes;
            job.x = wide;
            job.bytes = bytes;
            job.bias = p->bias != NULL ? p->bias + r : zeros;
            job.sum = sum;
            job.quads = quads;
            job.table = table;
            tc_fc_pal_rows_asm(&job);
        }
        for (i = 4 * quads; i < block; ++i) {
            const uint8_t *row = idx + (r + i) * bytes;
            int32_t acc = p->bias != NULL ? p->bias[r + i] : 0;
            for (j = 0; j < bytes; ++j) {
                acc = __smlad((int16x2_t)table[row[j]], wide[j], acc);
            }
            sum[i] = acc;
        }
        tc_out_run_dsp(o, r, sum, block, out + r);
    }
}

/* acc + the products of the nonzeros at *value (advanced past them) with
 * x[k] for each set bit k of `bits`: RBIT once, then per set bit CLZ
 * finds it from the top and EOR clears it, 7 instructions a nonzero. */
static inline int32_t tc_fc_sparse_word(uint32_t bits, const int16_t *x,
                                        const int8_t **value, int32_t acc)
{
    const int8_t *v = *value;
    int32_t k, xk, w;
    __asm__("rbit %[bits], %[bits]\n\t"
            "cmp %[bits], #0\n\t"
            "beq 2f\n"
            "1:\n\t"
            "clz %[k], %[bits]\n\t"
            "ldrsh %[xk], [%[x], %[k], lsl #1]\n\t"
            "ldrsb %[w], [%[v]], #1\n\t"
            "lsr %[k], %[top], %[k]\n\t"
            "eors %[bits], %[bits], %[k]\n\t"
            "smlabb %[acc], %[xk], %[w], %[acc]\n\t"
            "bne 1b\n"
            "2:"
            : [bits] "+r"(bits), [v] "+r"(v), [acc] "+r"(acc),
              [k] "=&r"(k), [xk] "=&r"(xk), [w] "=&r"(w)
            : [x] "r"(x), [top] "r"(0x80000000u)
            : "cc");
    *value = v;
    return acc;
}

/* One batch, sparse weights: each row's nonzeros against the widened
 * input, 32 bitmap bits at a time, then the outputs requantised a block
 * at a time. Both batch functions stay out of line, so their stack
 * buffers never add up. */
static __attribute__((noinline)) void
tc_fc_sparse_batch(const tc_fully_connected_params_t *p,
                   const tc_out_stage_t *o, const int8_t *in, int8_t *out)
{
    const tc_sparse8_t *sp = (const tc_sparse8_t *)p->weights.data;
    const int32_t n = p->input_depth;
    const int32_t words = n / 32;
    const int32_t rows = p->output_depth;
    const int32_t zp = p->input_zero_point;
    int16_t wide[TC_FC_PACKED_MAX];
    int32_t sum[TC_FC_PACKED_BLOCK];
    int32_t j, r;

    for (j = 0; j < n; ++j) {
        wide[j] = (int16_t)(in[j] - zp);
    }
    for (r = 0; r < rows; r += TC_FC_PACKED_BLOCK) {
        const int32_t block = rows - r < TC_FC_PACKED_BLOCK
                                  ? rows - r
                                  : TC_FC_PACKED_BLOCK;
        int32_t i;
        for (i = 0; i < block; ++i) {
            const uint8_t *bitmap = sp->bitmap + (r + i) * (n / 8);
            const int8_t *value = sp->values + sp->channel_start[r + i];
            int32_t acc = p->bias != NULL ? p->bias[r + i] : 0;
            uint32_t tail = 0;
            for (j = 0; j < words; ++j) {
                acc = tc_fc_sparse_word(tc_load4((const int8_t *)bitmap),
                                        wide + 32 * j, &value, acc);
                bitmap += 4;
            }
            for (j = 0; j < (n % 32) / 8; ++j) { /* the last 8..24 bits */
                tail |= (uint32_t)bitmap[j] << (8 * j);
            }
            sum[i] = tc_fc_sparse_word(tail, wide + 32 * words, &value, acc);
        }
        tc_out_run_dsp(o, r, sum, block, out + r);
    }
}

/* A row's state for the tc_fc_block*_asm routines; the assembly relies on
 * this layout. */
typedef struct {
    const int8_t *v;  /* 0: weights of the row's next kept block */
    int32_t acc;      /* 4: the row's sum so far */
    int32_t bs;       /* 8: bytes of widened input per block, 2 * block */
} tc_fc_block_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_fc_block_job_layout[offsetof(tc_fc_block_job_t, bs) == 8
                                        ? 1
                                        : -1];

/* The routines below: job->acc += the kept blocks among the 32 of `bits`
 * (bit k: block k; nonzero) times x, the widened input of block 0 (lanes
 * (0, 2), (1, 3) per 4 inputs), their weights read from job->v on.
 * Registers: r0 bits, r1 input, r3 weights, r4 sum, r5 bytes per block,
 * r7 end of the run, r6 and r8..lr scratch; the job stays at [sp]. The
 * bits are reversed once, so at label 1 CLZ counts the dropped blocks
 * before the next run (skipped with one MLA) and, on the inverted bits,
 * the kept blocks of the run; the bits are shifted past both (LSL by 32
 * gives 0). Three routines, by the block size, so a run's loop needs no
 * test for a part pass: 16 weights per pass, 8, or 8 after an odd group
 * of 4. TC_FC_BLOCK_START loads the job's first fields into `job` (a
 * register list: weights, sum, bytes per block, more for other jobs). */
#define TC_FC_BLOCK_START(job)                                              \
    "push {r2, r4-r11, lr}\n\t"                                             \
    "ldm r2, {" job "}\n\t"                                                 \
    "rbit r0, r0\n"                                                         \
    "1:\n\t"                                                                \
    "clz r6, r0\n\t"                                                        \
    "lsl r0, r0, r6\n\t"                                                    \
    "mla r1, r6, r5, r1\n\t"                                                \
    "mvn r6, r0\n\t"                                                        \
    "clz r6, r6\n\t"                                                        \
    "lsl r0, r0, r6\n\t"                                                    \
    "mla r7, r6, r5, r1\n\t"

/* Store the weights (index bytes) pointer and the sum in the job at [sp]
 * and return. */
#define TC_FC_BLOCK_RETURN                                                  \
    "ldr r2, [sp]\n\t"                                                      \
    "strd r3, r4, [r2]\n\t"                                                 \
    "pop {r2, r4-r11, pc}\n\t"

/* Back to label 1 for the next run, or return. */
#define TC_FC_BLOCK_END                                                     \
    "cmp r0, #0\n\t"                                                        \
    "bne 1b\n\t"                                                            \
    TC_FC_BLOCK_RETURN

/* 8 weights (two words by LDRD) times 8 inputs (four words by LDM). */
#define TC_FC_BLOCK_MAC8                                                    \
    "ldrd r8, r9, [r3], #8\n\t"                                             \
    "ldmia r1!, {r10, r11, r12, lr}\n\t"                                    \
    "sxtb16 r6, r8, ror #8\n\t"                                             \
    "sxtb16 r8, r8\n\t"                                                     \
    "smlad r4, r10, r8, r4\n\t"                                             \
    "smlad r4, r11, r6, r4\n\t"                                             \
    "sxtb16 r6, r9, ror #8\n\t"                                             \
    "sxtb16 r9, r9\n\t"                                                     \
    "smlad r4, r12, r9, r4\n\t"                                             \
    "smlad r4, lr, r6, r4\n\t"

/* Blocks of a multiple of 16: 22 instructions per 16 MACs. */
__attribute__((naked)) static void
tc_fc_block16_asm(uint32_t bits __attribute__((unused)),
                  const int16x2_t *x __attribute__((unused)),
                  tc_fc_block_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        TC_FC_BLOCK_START("r3, r4, r5")
        "3:\n\t"
        TC_FC_BLOCK_MAC8 TC_FC_BLOCK_MAC8
        "cmp r1, r7\n\t"
        "bne 3b\n\t"
        TC_FC_BLOCK_END);
}

/* Blocks of a multiple of 8: 12 instructions per 8 MACs. */
__attribute__((naked)) static void
tc_fc_block8_asm(uint32_t bits __attribute__((unused)),
                 const int16x2_t *x __attribute__((unused)),
                 tc_fc_block_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        TC_FC_BLOCK_START("r3, r4, r5")
        "3:\n\t"
        TC_FC_BLOCK_MAC8
        "cmp r1, r7\n\t"
        "bne 3b\n\t"
        TC_FC_BLOCK_END);
}

/* Blocks of a multiple of 4: a run of an odd number of 4-weight groups
 * (bit 3 of its input bytes) takes one group first. */
__attribute__((naked)) static void
tc_fc_block4_asm(uint32_t bits __attribute__((unused)),
                 const int16x2_t *x __attribute__((unused)),
                 tc_fc_block_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        TC_FC_BLOCK_START("r3, r4, r5")
        "sub r6, r7, r1\n\t"
        "tst r6, #8\n\t"
        "beq 3f\n\t"
        "ldr r8, [r3], #4\n\t"
        "ldrd r9, r10, [r1], #8\n\t"
        "sxtb16 r6, r8, ror #8\n\t"
        "sxtb16 r8, r8\n\t"
        "smlad r4, r9, r8, r4\n\t"
        "smlad r4, r10, r6, r4\n\t"
        "cmp r1, r7\n\t"
        "beq 4f\n"
        "3:\n\t"
        TC_FC_BLOCK_MAC8
        "cmp r1, r7\n\t"
        "bne 3b\n"
        "4:\n\t"
        TC_FC_BLOCK_END);
}

/* Nonzero when the block path takes the layer: blocks of a multiple of
 * 4 weights, every kept block on a word boundary (LDRD), depth up to
 * TC_FC_PACKED_MAX. */
static inline int tc_fc_block_fits(const tc_fully_connected_params_t *p)
{
    const tc_block8_t *bk = (const tc_block8_t *)p->weights.data;
    uint32_t misaligned = (uint32_t)(uintptr_t)bk->values;
    int32_t r;
    if (bk->block % 4 != 0 || p->input_depth > TC_FC_PACKED_MAX) {
        return 0;
    }
    for (r = 0; r < p->output_depth; ++r) {
        misaligned |= bk->channel_start[r];
    }
    return (misaligned & 3u) == 0u;
}

/* bits = the bits of a row's next 32 blocks (of `left` left) from its
 * bitmap at `bitmap`, bit k for block k, those past its last block clear.
 * A macro: as an inline function, GCC allocates the row loops' registers
 * worse (5 more instructions a row on the M4). */
#define TC_FC_BITMAP_WORD(bits, bitmap, left)                               \
    do {                                                                    \
        int32_t j_;                                                         \
        bits = 0;                                                           \
        if ((left) >= 32) {                                                 \
            bits = tc_load4((const int8_t *)(bitmap));                      \
        } else { /* the row's last 1..31 blocks */                          \
            for (j_ = 0; j_ < ((left) + 7) / 8; ++j_) {                     \
                bits |= (uint32_t)(bitmap)[j_] << (8 * j_);                 \
            }                                                               \
            bits &= (1u << (left)) - 1u;                                    \
        }                                                                   \
    } while (0)

/* One batch, block-pruned weights: each row's kept blocks against the
 * widened input, 32 bitmap bits at a time (the last word masked to the
 * row's blocks), then the outputs requantised a block of rows at a time. */
static __attribute__((noinline)) void
tc_fc_block_batch(const tc_fully_connected_params_t *p,
                  const tc_out_stage_t *o, const int8_t *in, int8_t *out)
{
    const tc_block8_t *bk = (const tc_block8_t *)p->weights.data;
    const int32_t n = p->input_depth;
    const int32_t blocks = n / bk->block;
    const int32_t bytes = (blocks + 7) / 8;
    const int32_t rows = p->output_depth;
    const int16x2_t offset = tc_dup16(-p->input_zero_point);
    void (*const word)(uint32_t, const int16x2_t *, tc_fc_block_job_t *) =
        bk->block % 16 == 0  ? tc_fc_block16_asm
        : bk->block % 8 == 0 ? tc_fc_block8_asm
                             : tc_fc_block4_asm;
    int16x2_t wide[TC_FC_PACKED_MAX / 2];
    int32_t sum[TC_FC_PACKED_BLOCK];
    int32_t j, k, r;

    for (j = 0; j < n; j += 4) {
        const uint32_t x = tc_load4(in + j);
        wide[j / 2] = __sxtab16(offset, (int8x4_t)x);
        wide[j / 2 + 1] = tc_sxtab16_odd(offset, x);
    }
    for (r = 0; r < rows; r += TC_FC_PACKED_BLOCK) {
        const int32_t count = rows - r < TC_FC_PACKED_BLOCK
                                  ? rows - r
                                  : TC_FC_PACKED_BLOCK;
        int32_t i;
        for (i = 0; i < count; ++i) {
            const uint8_t *bitmap = bk->bitmap + (r + i) * bytes;
            tc_fc_block_job_t job;
            job.v = bk->values + bk->channel_start[r + i];
            job.acc = p->bias != NULL ? p->bias[r + i] : 0;
            job.bs = 2 * bk->block;
            for (k = 0; k < blocks; k += 32, bitmap += 4) {
                uint32_t bits;
                TC_FC_BITMAP_WORD(bits, bitmap, blocks - k);
                if (bits != 0u) {
                    word(bits, wide + k * bk->block / 2, &job);
                }
            }
            sum[i] = job.acc;
        }
        tc_out_run_dsp(o, r, sum, count, out + r);
    }
}

/* A row's state for the tc_fc_block_nib*_asm routines; the assembly
 * relies on this layout. */
typedef struct {
    const uint8_t *idx;     /* 0: index bytes of the row's next kept block */
    int32_t acc;            /* 4: the row's sum so far */
    int32_t bs;             /* 8: widened input bytes per block, 2 * block */
    const uint32_t *table;  /* 12: index byte -> its two weights */
    int32_t bytes;          /* 16: tc_fc_block_nib_bytes_asm: bitmap bytes */
    uint32_t last;          /* 20: the blocks of its last bitmap byte */
} tc_fc_block_nib_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char
    tc_fc_block_nib_job_layout[offsetof(tc_fc_block_nib_job_t, last) == 20
                                   ? 1
                                   : -1];

/* Index bytes i, i + 1 (at r3) against the next two input words (r1, the
 * widened input in element order): LDRD, two LDRB, the table's pairs
 * (r8), two SMLAD into r4; 7 instructions per 4 MACs. */
#define TC_FC_B4_PAIR(i)                                                    \
    "ldrd r9, r10, [r1], #8\n\t"                                            \
    "ldrb r11, [r3, #" i "]\n\t"                                            \
    "ldrb r12, [r3, #" i " + 1]\n\t"                                        \
    "ldr r11, [r8, r11, lsl #2]\n\t"                                        \
    "ldr r12, [r8, r12, lsl #2]\n\t"                                        \
    "smlad r4, r11, r9, r4\n\t"                                             \
    "smlad r4, r12, r10, r4\n\t"

/* Index bytes i..i + 3 (at r3) against the next four input words (r1,
 * one LDM): 13 instructions per 8 MACs. */
#define TC_FC_B4_QUAD(i, i1, i2, i3)                                        \
    "ldmia r1!, {r9, r10, r11, r12}\n\t"                                     \
    "ldrb r2, [r3, #" i "]\n\t"                                             \
    "ldrb r6, [r3, #" i1 "]\n\t"                                            \
    "ldr r2, [r8, r2, lsl #2]\n\t"                                          \
    "ldr r6, [r8, r6, lsl #2]\n\t"                                          \
    "smlad r4, r2, r9, r4\n\t"                                              \
    "smlad r4, r6, r10, r4\n\t"                                             \
    "ldrb r2, [r3, #" i2 "]\n\t"                                            \
    "ldrb r6, [r3, #" i3 "]\n\t"                                            \
    "ldr r2, [r8, r2, lsl #2]\n\t"                                          \
    "ldr r6, [r8, r6, lsl #2]\n\t"                                          \
    "smlad r4, r2, r11, r4\n\t"                                             \
    "smlad r4, r6, r12, r4\n\t"

/* The routines below: job->acc += the kept blocks among the 32 of `bits`
 * (bit k: block k; nonzero) times x, the widened input of block 0, their
 * index bytes read from job->idx on. Registers: r0 bits, r1 input, r3
 * indices, r4 sum, r5 input bytes per block, r7 end of the run, r8 table,
 * r2, r6, r9..r12 scratch; the job stays at [sp]. The runs of kept
 * blocks are found as in tc_fc_block16_asm (9 instructions per run), and
 * each is one loop of 8 index bytes (16 MACs, 29 instructions) per pass,
 * after a part pass of 2 and one of 4 bytes where the block size allows
 * them. */
#define TC_FC_B4_START TC_FC_BLOCK_START("r3, r4, r5, r8") /* r8: table */

/* 8 index bytes per pass until the run's end, then the next run or store
 * the indices pointer and the sum and return. */
#define TC_FC_B4_LOOP                                                       \
    "3:\n\t"                                                                \
    TC_FC_B4_QUAD("0", "1", "2", "3") TC_FC_B4_QUAD("4", "5", "6", "7")     \
    "adds r3, r3, #8\n\t"                                                   \
    "cmp r1, r7\n\t"                                                        \
    "bne 3b\n"                                                              \
    "5:\n\t"                                                                \
    TC_FC_BLOCK_END

/* A part pass of 4 index bytes (32 input bytes) when bit 4 of the run's
 * input bytes is set. */
#define TC_FC_B4_PART4                                                      \
    "sub r6, r7, r1\n\t"                                                    \
    "tst r6, #16\n\t"                                                       \
    "beq 4f\n\t"                                                            \
    TC_FC_B4_QUAD("0", "1", "2", "3")                                       \
    "adds r3, r3, #4\n"                                                     \
    "4:\n\t"                                                                \
    "cmp r1, r7\n\t"                                                        \
    "beq 5f\n\t"

/* Blocks of a multiple of 16. */
__attribute__((naked)) static void
tc_fc_block_nib16_asm(uint32_t bits __attribute__((unused)),
                      const int16x2_t *x __attribute__((unused)),
                      tc_fc_block_nib_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_FC_B4_START TC_FC_B4_LOOP);
}

/* Blocks of a multiple of 8: a run of an odd number of 8-weight groups
 * takes one first. */
__attribute__((naked)) static void
tc_fc_block_nib8_asm(uint32_t bits __attribute__((unused)),
                     const int16x2_t *x __attribute__((unused)),
                     tc_fc_block_nib_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_FC_B4_START TC_FC_B4_PART4 TC_FC_B4_LOOP);
}

/* Blocks of a multiple of 4: a 4-weight group first if the run has an
 * odd number of them, then as tc_fc_block_nib8_asm. */
__attribute__((naked)) static void
tc_fc_block_nib4_asm(uint32_t bits __attribute__((unused)),
                     const int16x2_t *x __attribute__((unused)),
                     tc_fc_block_nib_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        TC_FC_B4_START
        "sub r6, r7, r1\n\t"
        "tst r6, #8\n\t"
        "beq 6f\n\t"
        TC_FC_B4_PAIR("0")
        "adds r3, r3, #2\n"
        "6:\n\t"
        TC_FC_B4_PART4 TC_FC_B4_LOOP);
}

/* Block k of a bitmap byte (r6) of blocks of 4, if kept: the N flag of
 * a shift tests its bit, the inputs sit at a constant offset (8 * k) from
 * the byte's first, its two index bytes follow at r3: 9 instructions, 2
 * if dropped. */
#define TC_FC_NIB4_BLOCK(k, shift, off)                                     \
    "lsls r12, r6, #" shift "\n\t"                                          \
    "bpl 2" k "f\n\t"                                                       \
    "ldrd r9, r10, [r1, #" off "]\n\t"                                      \
    "ldrb r11, [r3], #1\n\t"                                                \
    "ldrb r12, [r3], #1\n\t"                                                \
    "ldr r11, [r8, r11, lsl #2]\n\t"                                        \
    "ldr r12, [r8, r12, lsl #2]\n\t"                                        \
    "smlad r4, r11, r9, r4\n\t"                                             \
    "smlad r4, r12, r10, r4\n"                                              \
    "2" k ":\n\t"

/* Four index bytes of a byte of eight kept blocks of 4, their inputs from
 * r2 on (one LDM): 13 instructions per 8 MACs. */
#define TC_FC_NIB4_FULL                                                     \
    "ldmia r2!, {r9, r10, r11, r12}\n\t"                                    \
    "ldrb r6, [r3], #1\n\t"                                                 \
    "ldrb lr, [r3], #1\n\t"                                                 \
    "ldr r6, [r8, r6, lsl #2]\n\t"                                          \
    "ldr lr, [r8, lr, lsl #2]\n\t"                                          \
    "smlad r4, r6, r9, r4\n\t"                                              \
    "smlad r4, lr, r10, r4\n\t"                                             \
    "ldrb r6, [r3], #1\n\t"                                                 \
    "ldrb lr, [r3], #1\n\t"                                                 \
    "ldr r6, [r8, r6, lsl #2]\n\t"                                          \
    "ldr lr, [r8, lr, lsl #2]\n\t"                                          \
    "smlad r4, r6, r11, r4\n\t"                                             \
    "smlad r4, lr, r12, r4\n\t"

/* Blocks of exactly 4: job->acc += the row's kept blocks (bitmap at
 * `bitmap`, job->bytes bytes, the last masked with job->last) times x, a
 * bitmap byte at a time: a byte of no kept block costs 11 instructions,
 * one of eight 62, any other 28 plus 7 per kept block; runs of 4-weight
 * blocks are too short to repay finding them (tc_fc_block_nib4_asm).
 * Registers: r0 bitmap, r1 the byte's inputs, r3 indices, r4 sum, r5
 * bytes left, r6 the byte, r7 job->last, r8 table, r2, r9..r12, lr
 * scratch; the job stays at [sp]. */
__attribute__((naked)) static void
tc_fc_block_nib_bytes_asm(const uint8_t *bitmap __attribute__((unused)),
                          const int16x2_t *x __attribute__((unused)),
                          tc_fc_block_nib_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r2, r4-r11, lr}\n\t"
        "ldm r2, {r3, r4}\n\t"
        "ldr r8, [r2, #12]\n\t"
        "ldrd r5, r7, [r2, #16]\n"
        "1:\n\t"
        "ldrb r6, [r0], #1\n\t"
        "subs r5, r5, #1\n\t"
        "it eq\n\t"
        "andeq r6, r6, r7\n\t"
        "cmp r6, #255\n\t"
        "beq 3f\n\t"
        "cmp r6, #0\n\t"
        "beq 4f\n\t"
        TC_FC_NIB4_BLOCK("0", "31", "0")
        TC_FC_NIB4_BLOCK("1", "30", "8")
        TC_FC_NIB4_BLOCK("2", "29", "16")
        TC_FC_NIB4_BLOCK("3", "28", "24")
        TC_FC_NIB4_BLOCK("4", "27", "32")
        TC_FC_NIB4_BLOCK("5", "26", "40")
        TC_FC_NIB4_BLOCK("6", "25", "48")
        TC_FC_NIB4_BLOCK("7", "24", "56")
        "b 4f\n"
        "3:\n\t"
        "mov r2, r1\n\t"
        TC_FC_NIB4_FULL TC_FC_NIB4_FULL TC_FC_NIB4_FULL TC_FC_NIB4_FULL
        "4:\n\t"
        "add r1, r1, #64\n\t"
        "cmp r5, #0\n\t"
        "bne 1b\n\t"
        TC_FC_BLOCK_RETURN);
}

/* One batch, block-pruned and clustered weights (TC_WEIGHTS_BLOCK4,
 * blocks of a multiple of 4): the input widened once in element order, as
 * for the shared palette; each row's kept blocks summed by
 * tc_fc_block_nib_bytes_asm (blocks of 4) or, 32 bitmap bits at a time
 * (the last word masked to the row's blocks), by the run routine for the
 * block size (consecutive kept blocks are consecutive in both the indices
 * and the input). */
static __attribute__((noinline)) void
tc_fc_block4_batch(const tc_fully_connected_params_t *p,
                   const tc_out_stage_t *o, const uint32_t *table,
                   const int8_t *in, int8_t *out)
{
    const tc_block4_t *bk = (const tc_block4_t *)p->weights.data;
    const int32_t n = p->input_depth;
    const int32_t blocks = n / bk->block;
    const int32_t bytes = (blocks + 7) / 8;
    const int32_t rows = p->output_depth;
    const int16x2_t offset = tc_dup16(-p->input_zero_point);
    void (*const word)(uint32_t, const int16x2_t *, tc_fc_block_nib_job_t *) =
        bk->block % 16 == 0  ? tc_fc_block_nib16_asm
        : bk->block % 8 == 0 ? tc_fc_block_nib8_asm
                             : tc_fc_block_nib4_asm;
    int16x2_t wide[TC_FC_PACKED_MAX / 2];
    int32_t sum[TC_FC_PACKED_BLOCK];
    int32_t j, k, r;

    for (j = 0; j < n; j += 4) { /* (x0, x2), (x1, x3) -> (x0, x1), (x2, x3) */
        const uint32_t x = tc_load4(in + j);
        const uint32_t even = (uint32_t)__sxtab16(offset, (int8x4_t)x);
        const uint32_t odd = (uint32_t)tc_sxtab16_odd(offset, x);
        wide[j / 2] = (int16x2_t)((even & 0xFFFFu) | (odd << 16));
        wide[j / 2 + 1] = (int16x2_t)((odd & 0xFFFF0000u) | (even >> 16));
    }
    for (r = 0; r < rows; r += TC_FC_PACKED_BLOCK) {
        const int32_t count = rows - r < TC_FC_PACKED_BLOCK
                                  ? rows - r
                                  : TC_FC_PACKED_BLOCK;
        int32_t i;
        for (i = 0; i < count; ++i) {
            const uint8_t *bitmap = bk->bitmap + (r + i) * bytes;
            tc_fc_block_nib_job_t job;
            job.idx = bk->indices + bk->channel_start[r + i];
            job.acc = p->bias != NULL ? p->bias[r + i] : 0;
            job.bs = 2 * bk->block;
            job.table = table;
            if (bk->block == 4) {
                job.bytes = bytes;
                job.last = tc_block_last_bits(blocks);
                tc_fc_block_nib_bytes_asm(bitmap, wide, &job);
                sum[i] = job.acc;
                continue;
            }
            for (k = 0; k < blocks; k += 32, bitmap += 4) {
                uint32_t bits;
                TC_FC_BITMAP_WORD(bits, bitmap, blocks - k);
                if (bits != 0u) {
                    word(bits, wide + k * bk->block / 2, &job);
                }
            }
            sum[i] = job.acc;
        }
        tc_out_run_dsp(o, r, sum, count, out + r);
    }
}

/* FULLY_CONNECTED through a packed path above if the layer has one: 1
 * when done (arguments already checked), 0 when the caller must take the
 * generic loop. */
static inline int tc_fc_packed_dsp(const tc_fully_connected_params_t *p,
                                   const int8_t *input, int8_t *output)
{
    const int32_t n = p->input_depth;
    const int shared_palette =
        TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_PALETTE4) &&
        ((const tc_palette4_t *)p->weights.data)->shared;
    const int blocks = TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_BLOCK8) &&
                       p->weights_zero_point == 0 && tc_fc_block_fits(p);
    const int blocks4 = TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_BLOCK4) &&
                        ((const tc_block4_t *)p->weights.data)->block % 4 ==
                            0 &&
                        n <= TC_FC_PACKED_MAX;
    uint32_t table[256];
    tc_out_stage_t o;
    int32_t b;

    if (!blocks && !blocks4 &&
        (p->weights_zero_point != 0 || n % 8 != 0 || n > TC_FC_PACKED_MAX ||
         !(shared_palette ||
           TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_SPARSE8)))) {
        return 0;
    }
    o = tc_out_stage(&p->requant, p->bias, p->output_depth, n,
                     p->output_zero_point, p->act_min, p->act_max);
    if (shared_palette) {
        tc_fc_pal_table(((const tc_palette4_t *)p->weights.data)->palette,
                        table);
    } else if (blocks4) {
        tc_fc_pal_table(((const tc_block4_t *)p->weights.data)->palette,
                        table);
    }
    for (b = 0; b < p->batches; ++b) {
        if (shared_palette) {
            tc_fc_pal_batch(p, &o, table, input + b * n,
                            output + b * p->output_depth);
        } else if (blocks) {
            tc_fc_block_batch(p, &o, input + b * n,
                              output + b * p->output_depth);
        } else if (blocks4) {
            tc_fc_block4_batch(p, &o, table, input + b * n,
                               output + b * p->output_depth);
        } else {
            tc_fc_sparse_batch(p, &o, input + b * n,
                               output + b * p->output_depth);
        }
    }
    return 1;
}

#endif /* TC_FC_PACKED_DSP_H */
