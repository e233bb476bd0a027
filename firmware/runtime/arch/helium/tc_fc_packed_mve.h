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
 *
 * Block-pruned (TC_WEIGHTS_BLOCK8) with blocks of 16, 8 or 4: each row's
 * bitmap is read a nibble (four blocks) at a time, and a TBH on it jumps
 * to straight-line vector code for its kept blocks, each run of them in
 * the fewest loads: 16 weights in one VLDRB + VMLADAVA, 8 or 4 with the
 * widening loads (VLDRB.S16, .S32) and the 16- or 32-bit VMLADAVA; a
 * VADDVA beside each sums the weights for the input zero point, as above
 * (tc_fc_block16_rows_asm and its siblings). Finding each kept block with
 * CLZ would cost more than its vector work (9 instructions against 4),
 * and GCC's switch for the same cases 1.5 times these. Other block sizes
 * take the DSP loop. 0.95x the dense layer at 50 % of blocks of 16 kept,
 * 1.43x with blocks of 8, 2.6x with blocks of 4: the Helium dense FC
 * takes 0.29 instructions per MAC, so the dispatch per bitmap byte (11
 * instructions) sets the cost.
 *
 * Block-pruned and clustered (TC_WEIGHTS_BLOCK4) with blocks of 16, 8 or
 * 4: the same dispatch, each run decoded in registers (halfword gathers
 * of the two weights of each index byte, tc_fc_block_nib16_rows_asm and
 * its siblings): 1.14x the dense layer at 50 % of blocks of 16 kept,
 * 1.77x / 3.6x with blocks of 8 / 4, 1.63x with every block of 16 kept
 * (the decode adds 1 to 5 instructions to each run's 4). Other block
 * sizes and set padding bits take the DSP loop.
 */
#ifndef TC_FC_PACKED_MVE_H
#define TC_FC_PACKED_MVE_H

#include <arm_mve.h>

#include "../cortex-m-dsp/tc_fc_packed_dsp.h"
#include "tc_gemm_mve.h"

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

/* Rows for the tc_fc_block*_rows_asm routines; the assembly relies on
 * this layout. */
typedef struct {
    const uint8_t *bitmap;  /* 0: the first row's bitmap */
    const int8_t *values;   /* 4: the kept blocks */
    const uint32_t *start;  /* 8: channel_start of the first row */
    const int8_t *x;        /* 12: the input */
    int32_t bytes;          /* 16: bitmap bytes per row */
    int32_t *sum;           /* 20: sums out, one per row */
    int32_t rows;           /* 24: rows, at least 1 */
    int32_t zp;             /* 28: input zero point */
} tc_fc_block_rows_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_fc_block_rows_job_layout[offsetof(tc_fc_block_rows_job_t,
                                                  zp) == 28
                                             ? 1
                                             : -1];

/* 16, 8 or 4 weights at r2 (which moves on past them) times the inputs at
 * r1 + off: r4 += their dot product, r6 += the weights (VMLADAVA and
 * VADDVA take even registers; the widening loads low ones). */
#define TC_MVE_OP16(off)                                                      \
    "vldrb.8 q0, [r2], #16\n\t"                                               \
    "vldrb.8 q1, [r1, #" off "]\n\t"                                          \
    "vmladava.s8 r4, q0, q1\n\t"                                              \
    "vaddva.s8 r6, q0\n\t"
#define TC_MVE_OP8(off)                                                       \
    "vldrb.s16 q0, [r2], #8\n\t"                                              \
    "vldrb.s16 q1, [r1, #" off "]\n\t"                                        \
    "vmladava.s16 r4, q0, q1\n\t"                                             \
    "vaddva.s16 r6, q0\n\t"
#define TC_MVE_OP4(off)                                                       \
    "vldrb.s32 q0, [r2], #4\n\t"                                              \
    "vldrb.s32 q1, [r1, #" off "]\n\t"                                        \
    "vmladava.s32 r4, q0, q1\n\t"                                             \
    "vaddva.s32 r6, q0\n\t"

/* TC_MVE<block>_R<first><len>: the run of `len` kept blocks from block
 * `first` of a nibble, in the fewest loads (16 lanes while they last). */
#define TC_MVE16_R01 TC_MVE_OP16("0")
#define TC_MVE16_R11 TC_MVE_OP16("16")
#define TC_MVE16_R02 TC_MVE_OP16("0") TC_MVE_OP16("16")
#define TC_MVE16_R21 TC_MVE_OP16("32")
#define TC_MVE16_R12 TC_MVE_OP16("16") TC_MVE_OP16("32")
#define TC_MVE16_R03 TC_MVE_OP16("0") TC_MVE_OP16("16") TC_MVE_OP16("32")
#define TC_MVE16_R31 TC_MVE_OP16("48")
#define TC_MVE16_R22 TC_MVE_OP16("32") TC_MVE_OP16("48")
#define TC_MVE16_R13 TC_MVE_OP16("16") TC_MVE_OP16("32") TC_MVE_OP16("48")
#define TC_MVE16_R04                                                          \
    TC_MVE_OP16("0") TC_MVE_OP16("16") TC_MVE_OP16("32") TC_MVE_OP16("48")
#define TC_MVE8_R01 TC_MVE_OP8("0")
#define TC_MVE8_R11 TC_MVE_OP8("8")
#define TC_MVE8_R02 TC_MVE_OP16("0")
#define TC_MVE8_R21 TC_MVE_OP8("16")
#define TC_MVE8_R12 TC_MVE_OP16("8")
#define TC_MVE8_R03 TC_MVE_OP16("0") TC_MVE_OP8("16")
#define TC_MVE8_R31 TC_MVE_OP8("24")
#define TC_MVE8_R22 TC_MVE_OP16("16")
#define TC_MVE8_R13 TC_MVE_OP16("8") TC_MVE_OP8("24")
#define TC_MVE8_R04 TC_MVE_OP16("0") TC_MVE_OP16("16")
#define TC_MVE4_R01 TC_MVE_OP4("0")
#define TC_MVE4_R11 TC_MVE_OP4("4")
#define TC_MVE4_R02 TC_MVE_OP8("0")
#define TC_MVE4_R21 TC_MVE_OP4("8")
#define TC_MVE4_R12 TC_MVE_OP8("4")
#define TC_MVE4_R03 TC_MVE_OP8("0") TC_MVE_OP4("8")
#define TC_MVE4_R31 TC_MVE_OP4("12")
#define TC_MVE4_R22 TC_MVE_OP8("8")
#define TC_MVE4_R13 TC_MVE_OP8("4") TC_MVE_OP4("12")
#define TC_MVE4_R04 TC_MVE_OP16("0")

/* The kept blocks of nibble r7 of a row of blocks of B: TBH into one of 16
 * straight-line cases (labels p00..p15), each on to label `next` (case
 * 15 falls through). */
#define TC_MVE_NIBBLE(p, next, B)                                             \
    "tbh [pc, r7, lsl #1]\n"                                                  \
    "9:\n\t"                                                                  \
    ".hword (" p "00f - 9b) / 2\n\t"                                          \
    ".hword (" p "01f - 9b) / 2\n\t"                                          \
    ".hword (" p "02f - 9b) / 2\n\t"                                          \
    ".hword (" p "03f - 9b) / 2\n\t"                                          \
    ".hword (" p "04f - 9b) / 2\n\t"                                          \
    ".hword (" p "05f - 9b) / 2\n\t"                                          \
    ".hword (" p "06f - 9b) / 2\n\t"                                          \
    ".hword (" p "07f - 9b) / 2\n\t"                                          \
    ".hword (" p "08f - 9b) / 2\n\t"                                          \
    ".hword (" p "09f - 9b) / 2\n\t"                                          \
    ".hword (" p "10f - 9b) / 2\n\t"                                          \
    ".hword (" p "11f - 9b) / 2\n\t"                                          \
    ".hword (" p "12f - 9b) / 2\n\t"                                          \
    ".hword (" p "13f - 9b) / 2\n\t"                                          \
    ".hword (" p "14f - 9b) / 2\n\t"                                          \
    ".hword (" p "15f - 9b) / 2\n\t"                                          \
    p "00:\n\t" "b " next "f\n"                                               \
    p "01:\n\t" TC_MVE##B##_R01 "b " next "f\n"                               \
    p "02:\n\t" TC_MVE##B##_R11 "b " next "f\n"                               \
    p "03:\n\t" TC_MVE##B##_R02 "b " next "f\n"                               \
    p "04:\n\t" TC_MVE##B##_R21 "b " next "f\n"                               \
    p "05:\n\t" TC_MVE##B##_R01 TC_MVE##B##_R21 "b " next "f\n"               \
    p "06:\n\t" TC_MVE##B##_R12 "b " next "f\n"                               \
    p "07:\n\t" TC_MVE##B##_R03 "b " next "f\n"                               \
    p "08:\n\t" TC_MVE##B##_R31 "b " next "f\n"                               \
    p "09:\n\t" TC_MVE##B##_R01 TC_MVE##B##_R31 "b " next "f\n"               \
    p "10:\n\t" TC_MVE##B##_R11 TC_MVE##B##_R31 "b " next "f\n"               \
    p "11:\n\t" TC_MVE##B##_R02 TC_MVE##B##_R31 "b " next "f\n"               \
    p "12:\n\t" TC_MVE##B##_R22 "b " next "f\n"                               \
    p "13:\n\t" TC_MVE##B##_R01 TC_MVE##B##_R22 "b " next "f\n"               \
    p "14:\n\t" TC_MVE##B##_R13 "b " next "f\n"                               \
    p "15:\n\t" TC_MVE##B##_R04

/* A row of the *_rows_asm routines: r4 and r6 cleared, then each of its
 * bitmap bytes (r0 up to r5) as its two nibbles (TC_MVE_NIBBLE, blocks
 * of B), r1 stepping `step` input bytes a nibble from r8. */
#define TC_MVE_ROW_WALK(B, step)                                              \
    "movs r4, #0\n\t"                                                         \
    "movs r6, #0\n\t"                                                         \
    "mov r1, r8\n"                                                            \
    "2:\n\t"                                                                  \
    "ldrb r3, [r0], #1\n\t"                                                   \
    "and r7, r3, #15\n\t"                                                     \
    TC_MVE_NIBBLE("1", "5", B)                                                \
    "5:\n\t"                                                                  \
    "lsr r7, r3, #4\n\t"                                                      \
    "add r1, r1, #" step "\n\t"                                               \
    TC_MVE_NIBBLE("2", "6", B)                                                \
    "6:\n\t"                                                                  \
    "add r1, r1, #" step "\n\t"                                               \
    "cmp r0, r5\n\t"                                                          \
    "bne 2b\n\t"

/* Store the row's sum, step r5 to the end of the next row's bitmap
 * ([sp]: bytes per row) and go back to label 1 while rows are left. */
#define TC_MVE_ROW_NEXT                                                       \
    "str r4, [r11], #4\n\t"                                                   \
    "ldr r7, [sp]\n\t"                                                        \
    "add r5, r5, r7\n\t"                                                      \
    "subs r12, r12, #1\n\t"                                                   \
    "bne 1b\n\t"

/* sum[i] = row i's kept blocks of B times (x - zp) (no bias): each
 * bitmap byte's two nibbles (past the row's last block, clear) through
 * TC_MVE_NIBBLE (`step`: 4 * B, the inputs of a nibble), so a run of kept
 * blocks costs its vector instructions (4 per 16, 8 or 4 lanes) and a
 * byte 11 more. Registers: r0 bitmap, r1 input of the nibble, r2
 * weights, r3 the byte, r4 sum of weights times inputs, r5 end of the
 * row's bitmap, r6 sum of weights, r7 nibble, r8 input, r9 values, r10
 * channel_start, r11 sums out, r12 rows left, lr zp, [sp] bytes per
 * row. */
#define TC_MVE_BLOCK_ROWS(B, step)                                            \
    "push {r4-r11, lr}\n\t"                                                   \
    "ldr r1, [r0, #16]\n\t"                                                   \
    "push {r1}\n\t"                                                           \
    "ldrd r9, r10, [r0, #4]\n\t"                                              \
    "ldr r8, [r0, #12]\n\t"                                                   \
    "ldrd r11, r12, [r0, #20]\n\t"                                            \
    "ldr lr, [r0, #28]\n\t"                                                   \
    "ldr r0, [r0]\n\t"                                                        \
    "add r5, r0, r1\n"                                                        \
    "1:\n\t"                                                                  \
    "ldr r2, [r10], #4\n\t"                                                   \
    "add r2, r2, r9\n\t"                                                      \
    TC_MVE_ROW_WALK(B, step)                                                  \
    "mls r4, r6, lr, r4\n\t"                                                  \
    TC_MVE_ROW_NEXT                                                           \
    "add sp, sp, #4\n\t"                                                      \
    "pop {r4-r11, pc}\n\t"

__attribute__((naked)) static void
tc_fc_block16_rows_asm(tc_fc_block_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_MVE_BLOCK_ROWS(16, "64"));
}

__attribute__((naked)) static void
tc_fc_block8_rows_asm(tc_fc_block_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_MVE_BLOCK_ROWS(8, "32"));
}

__attribute__((naked)) static void
tc_fc_block4_rows_asm(tc_fc_block_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_MVE_BLOCK_ROWS(4, "16"));
}

/* Nonzero when no row's last bitmap byte has a bit set past the row's
 * last block (the assembly reads whole bytes; the format leaves those bits
 * clear, and a layer that sets them takes the DSP loop, which masks
 * them). */
static inline int tc_fc_block_padding_clear(
    const tc_fully_connected_params_t *p, const uint8_t *bitmap,
    int32_t block)
{
    const int32_t blocks = p->input_depth / block;
    const int32_t bytes = (blocks + 7) / 8;
    const uint32_t padding = 0xFFu & ~((1u << (blocks % 8)) - 1u);
    int32_t r;
    for (r = 0; blocks % 8 != 0 && r < p->output_depth; ++r) {
        if ((bitmap[r * bytes + bytes - 1] & padding) != 0u) {
            return 0;
        }
    }
    return 1;
}

/* One batch of block-pruned weights through `rows_asm`,
 * TC_FC_PACKED_BLOCK rows at a time, plus their bias, then requantised. */
static void tc_fc_block_mve(const tc_fully_connected_params_t *p,
                            const tc_mve_out_t *o, const int8_t *in,
                            int8_t *out,
                            void (*rows_asm)(tc_fc_block_rows_job_t *))
{
    const tc_block8_t *bk = (const tc_block8_t *)p->weights.data;
    const int32_t bytes = (p->input_depth / bk->block + 7) / 8;
    int32_t sum[TC_FC_PACKED_BLOCK];
    tc_fc_block_rows_job_t job;
    int32_t r, i;

    job.values = bk->values;
    job.x = in;
    job.bytes = bytes;
    job.sum = sum;
    job.zp = p->input_zero_point;
    for (r = 0; r < p->output_depth; r += TC_FC_PACKED_BLOCK) {
        job.rows = p->output_depth - r < TC_FC_PACKED_BLOCK
                       ? p->output_depth - r
                       : TC_FC_PACKED_BLOCK;
        job.bitmap = bk->bitmap + r * bytes;
        job.start = bk->channel_start + r;
        rows_asm(&job);
        for (i = 0; p->bias != NULL && i < job.rows; ++i) {
            sum[i] += p->bias[r + i];
        }
        tc_mve_out_run(o, r, sum, job.rows, out + r);
    }
}

/* TC_WEIGHTS_BLOCK4 with blocks of 16, 8 or 4: the block8 routines'
 * bitmap walk (TC_MVE_NIBBLE), each run of kept blocks decoded in
 * registers: its index bytes loaded widened to 16-bit lanes (VLDRB.U16)
 * are the offsets of a halfword gather (VLDRH) from a table holding for
 * each index byte its two weights (palette[b & 15], palette[b >> 4]) as
 * the two bytes of a halfword, which gives the run's weights in element
 * order, against the input as it is (VMLADAVA, VADDVA as for block8): 16
 * weights in 5 instructions. 8 on 32-bit lanes: VSHRNT copies each index
 * byte, shifted right by 4, into the top half of its lane, so a halfword
 * gather (VLDRB.S16) from palette[b & 15] gives the weights as int16, in
 * 6. 4 and 12 the 16-weight code under a tail predicate (VCTP; predicated
 * loads clear the lanes past it, so the sums need none), in 9. Registers
 * as TC_MVE_BLOCK_ROWS but r2 indices, r9 the byte table, lr the pair
 * table, [sp, #4] zp, [sp, #8] the indices. */
#define TC_MVE_B4_OP16(off)                                                   \
    "vldrb.u16 q0, [r2], #8\n\t"                                              \
    "vldrh.u16 q2, [lr, q0, uxtw #1]\n\t"                                     \
    "vldrb.8 q1, [r1, #" off "]\n\t"                                          \
    "vmladava.s8 r4, q2, q1\n\t"                                              \
    "vaddva.s8 r6, q2\n\t"
#define TC_MVE_B4_OP8(off)                                                    \
    "vldrb.u32 q0, [r2], #4\n\t"                                              \
    "vshrnt.i32 q0, q0, #4\n\t"                                               \
    "vldrb.s16 q2, [r9, q0]\n\t"                                              \
    "vldrb.s16 q1, [r1, #" off "]\n\t"                                        \
    "vmladava.s16 r4, q2, q1\n\t"                                             \
    "vaddva.s16 r6, q2\n\t"
#define TC_MVE_B4_PART(lanes, bytes, off)                                     \
    "movs r7, #" lanes "\n\t"                                                 \
    "vctp.8 r7\n\t"                                                           \
    "vpst\n\t"                                                                \
    "vldrbt.u16 q0, [r2], #" bytes "\n\t"                                     \
    "vpstt\n\t"                                                               \
    "vldrht.u16 q2, [lr, q0, uxtw #1]\n\t"                                    \
    "vldrbt.8 q1, [r1, #" off "]\n\t"                                         \
    "vmladava.s8 r4, q2, q1\n\t"                                              \
    "vaddva.s8 r6, q2\n\t"
#define TC_MVE_B4_OP4(off) TC_MVE_B4_PART("4", "2", off)
#define TC_MVE_B4_OP12(off) TC_MVE_B4_PART("12", "6", off)

/* TC_MVEQ<block>_R<first><len>: as TC_MVE<block>_R<first><len>. */
#define TC_MVEQ16_R01 TC_MVE_B4_OP16("0")
#define TC_MVEQ16_R11 TC_MVE_B4_OP16("16")
#define TC_MVEQ16_R02 TC_MVE_B4_OP16("0") TC_MVE_B4_OP16("16")
#define TC_MVEQ16_R21 TC_MVE_B4_OP16("32")
#define TC_MVEQ16_R12 TC_MVE_B4_OP16("16") TC_MVE_B4_OP16("32")
#define TC_MVEQ16_R03                                                         \
    TC_MVE_B4_OP16("0") TC_MVE_B4_OP16("16") TC_MVE_B4_OP16("32")
#define TC_MVEQ16_R31 TC_MVE_B4_OP16("48")
#define TC_MVEQ16_R22 TC_MVE_B4_OP16("32") TC_MVE_B4_OP16("48")
#define TC_MVEQ16_R13                                                         \
    TC_MVE_B4_OP16("16") TC_MVE_B4_OP16("32") TC_MVE_B4_OP16("48")
#define TC_MVEQ16_R04                                                         \
    TC_MVE_B4_OP16("0") TC_MVE_B4_OP16("16") TC_MVE_B4_OP16("32")            \
    TC_MVE_B4_OP16("48")
#define TC_MVEQ8_R01 TC_MVE_B4_OP8("0")
#define TC_MVEQ8_R11 TC_MVE_B4_OP8("8")
#define TC_MVEQ8_R02 TC_MVE_B4_OP16("0")
#define TC_MVEQ8_R21 TC_MVE_B4_OP8("16")
#define TC_MVEQ8_R12 TC_MVE_B4_OP16("8")
#define TC_MVEQ8_R03 TC_MVE_B4_OP16("0") TC_MVE_B4_OP8("16")
#define TC_MVEQ8_R31 TC_MVE_B4_OP8("24")
#define TC_MVEQ8_R22 TC_MVE_B4_OP16("16")
#define TC_MVEQ8_R13 TC_MVE_B4_OP16("8") TC_MVE_B4_OP8("24")
#define TC_MVEQ8_R04 TC_MVE_B4_OP16("0") TC_MVE_B4_OP16("16")
#define TC_MVEQ4_R01 TC_MVE_B4_OP4("0")
#define TC_MVEQ4_R11 TC_MVE_B4_OP4("4")
#define TC_MVEQ4_R02 TC_MVE_B4_OP8("0")
#define TC_MVEQ4_R21 TC_MVE_B4_OP4("8")
#define TC_MVEQ4_R12 TC_MVE_B4_OP8("4")
#define TC_MVEQ4_R03 TC_MVE_B4_OP12("0")
#define TC_MVEQ4_R31 TC_MVE_B4_OP4("12")
#define TC_MVEQ4_R22 TC_MVE_B4_OP8("8")
#define TC_MVEQ4_R13 TC_MVE_B4_OP12("4")
#define TC_MVEQ4_R04 TC_MVE_B4_OP16("0")

/* Rows for the tc_fc_block_nib*_rows_asm routines: the fields of
 * tc_fc_block_rows_job_t (values: the index bytes) and the two decoding
 * tables. */
typedef struct {
    tc_fc_block_rows_job_t rows;
    const uint16_t *pairs;  /* 32: index byte b -> its two weights */
    const int8_t *low;      /* 36: palette[b & 15] for each byte b */
} tc_fc_block_nib_rows_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_fc_block_nib_rows_job_layout
    [offsetof(tc_fc_block_nib_rows_job_t, low) == 36 ? 1 : -1];

/* TC_MVE_BLOCK_ROWS for TC_WEIGHTS_BLOCK4 (registers above). */
#define TC_MVE_B4_ROWS(B, step)                                               \
    "push {r4-r11, lr}\n\t"                                                   \
    "ldr r1, [r0, #16]\n\t"                                                   \
    "ldr r7, [r0, #28]\n\t"                                                   \
    "ldr r9, [r0, #4]\n\t"                                                    \
    "push {r1, r7, r9}\n\t"                                                   \
    "ldr lr, [r0, #32]\n\t"                                                   \
    "ldr r9, [r0, #36]\n\t"                                                   \
    "ldr r10, [r0, #8]\n\t"                                                   \
    "ldr r8, [r0, #12]\n\t"                                                   \
    "ldrd r11, r12, [r0, #20]\n\t"                                            \
    "ldr r0, [r0]\n\t"                                                        \
    "add r5, r0, r1\n"                                                        \
    "1:\n\t"                                                                  \
    "ldr r2, [r10], #4\n\t"                                                   \
    "ldr r7, [sp, #8]\n\t"                                                    \
    "add r2, r2, r7\n\t"                                                      \
    TC_MVE_ROW_WALK(B, step)                                                  \
    "ldr r7, [sp, #4]\n\t"                                                    \
    "mls r4, r6, r7, r4\n\t"                                                  \
    TC_MVE_ROW_NEXT                                                           \
    "add sp, sp, #12\n\t"                                                     \
    "pop {r4-r11, pc}\n\t"

__attribute__((naked)) static void
tc_fc_block_nib16_rows_asm(
    tc_fc_block_nib_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_MVE_B4_ROWS(Q16, "64"));
}

__attribute__((naked)) static void
tc_fc_block_nib8_rows_asm(
    tc_fc_block_nib_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_MVE_B4_ROWS(Q8, "32"));
}

__attribute__((naked)) static void
tc_fc_block_nib4_rows_asm(
    tc_fc_block_nib_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(TC_MVE_B4_ROWS(Q4, "16"));
}

/* One batch of TC_WEIGHTS_BLOCK4 weights through `rows_asm` (its pair
 * and byte tables in *tables), TC_FC_PACKED_BLOCK rows at a time, plus
 * their bias, then requantised. */
static void tc_fc_block_nib_mve(const tc_fully_connected_params_t *p,
                                const tc_mve_out_t *o,
                                tc_fc_block_nib_rows_job_t *job,
                                const int8_t *in, int8_t *out,
                                void (*rows_asm)(tc_fc_block_nib_rows_job_t *))
{
    const tc_block4_t *bk = (const tc_block4_t *)p->weights.data;
    const int32_t bytes = (p->input_depth / bk->block + 7) / 8;
    int32_t sum[TC_FC_PACKED_BLOCK];
    int32_t r, i;

    job->rows.values = (const int8_t *)bk->indices;
    job->rows.x = in;
    job->rows.bytes = bytes;
    job->rows.sum = sum;
    job->rows.zp = p->input_zero_point;
    for (r = 0; r < p->output_depth; r += TC_FC_PACKED_BLOCK) {
        job->rows.rows = p->output_depth - r < TC_FC_PACKED_BLOCK
                             ? p->output_depth - r
                             : TC_FC_PACKED_BLOCK;
        job->rows.bitmap = bk->bitmap + r * bytes;
        job->rows.start = bk->channel_start + r;
        rows_asm(job);
        for (i = 0; p->bias != NULL && i < job->rows.rows; ++i) {
            sum[i] += p->bias[r + i];
        }
        tc_mve_out_run(o, r, sum, job->rows.rows, out + r);
    }
}

/* TC_WEIGHTS_BLOCK4 through tc_fc_block_nib_mve if its block size has a
 * routine and no padding bits are set, else through the DSP loops. The
 * tables take about 100 instructions per call. */
static int tc_fc_block4_mve(const tc_fully_connected_params_t *p,
                            const int8_t *input, int8_t *output)
{
    const tc_block4_t *bk = (const tc_block4_t *)p->weights.data;
    const int8x16_t all = vldrbq_s8(bk->palette);
    const uint16x8_t low0 = vldrbq_u16((const uint8_t *)bk->palette);
    const uint16x8_t low1 = vldrbq_u16((const uint8_t *)bk->palette + 8);
    uint16_t pairs[256];
    int8_t low[256];
    tc_fc_block_nib_rows_job_t job;
    tc_mve_out_t mo;
    int32_t b;

    if ((bk->block != 16 && bk->block != 8 && bk->block != 4) ||
        !tc_fc_block_padding_clear(p, bk->bitmap, bk->block)) {
        return tc_fc_packed_dsp(p, input, output);
    }
    for (b = 0; b < 16; ++b) { /* byte b: palette[b & 15], palette[b >> 4] */
        const uint16x8_t high =
            vdupq_n_u16((uint16_t)((uint8_t)bk->palette[b] << 8));
        vstrbq_s8(low + 16 * b, all);
        vst1q_u16(pairs + 16 * b, vorrq_u16(low0, high));
        vst1q_u16(pairs + 16 * b + 8, vorrq_u16(low1, high));
    }
    job.pairs = pairs;
    job.low = low;
    mo = tc_mve_out(&p->requant, p->output_depth, p->output_zero_point,
                    p->act_min, p->act_max);
    for (b = 0; b < p->batches; ++b) {
        tc_fc_block_nib_mve(p, &mo, &job, input + b * p->input_depth,
                            output + b * p->output_depth,
                            bk->block == 16  ? tc_fc_block_nib16_rows_asm
                            : bk->block == 8 ? tc_fc_block_nib8_rows_asm
                                             : tc_fc_block_nib4_rows_asm);
    }
    return 1;
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

    if (TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_BLOCK4)) {
        return tc_fc_block4_mve(p, input, output);
    }
    if (TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_BLOCK8) &&
        p->weights_zero_point == 0) {
        const int32_t block = ((const tc_block8_t *)p->weights.data)->block;
        tc_mve_out_t mo;
        if ((block != 16 && block != 8 && block != 4) ||
            !tc_fc_block_padding_clear(
                p, ((const tc_block8_t *)p->weights.data)->bitmap, block)) {
            return tc_fc_packed_dsp(p, input, output);
        }
        mo = tc_mve_out(&p->requant, p->output_depth, p->output_zero_point,
                        p->act_min, p->act_max);
        for (b = 0; b < p->batches; ++b) {
            tc_fc_block_mve(p, &mo, input + b * n,
                            output + b * p->output_depth,
                            block == 16  ? tc_fc_block16_rows_asm
                            : block == 8 ? tc_fc_block8_rows_asm
                                         : tc_fc_block4_rows_asm);
        }
        return 1;
    }
    if (!TC_WEIGHTS_IS(&p->weights, TC_WEIGHTS_PALETTE4) || !pal->shared ||
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
