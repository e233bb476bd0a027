/*
 * tc_pair_rows_asm.h - two weight rows times two widened input vectors in
 * hand-allocated assembly (Armv7E-M DSP): the inner loop of the Cortex-M
 * DSP 1x1 CONV_2D (two input pixels) and of the CONV_2D column path (two
 * pixels' window columns), which share the input layout: for each group
 * of 4 inputs, pixel a's lanes (0, 2), (1, 3) as two int16x2 words, then
 * pixel b's. The sums are the exact integers of the reference loops.
 */
#ifndef TC_PAIR_ROWS_ASM_H
#define TC_PAIR_ROWS_ASM_H

#include <stddef.h>

#include "tc_dot_dsp.h"

/* Row pairs for tc_pair_rows_asm; the assembly relies on this layout. */
typedef struct {
    const int8_t *w;      /* 0: first row of the next pair */
    const int16x2_t *x;   /* 4: both pixels' inputs, len / 4 groups */
    int32_t n;            /* 8: bytes from a row to the next */
    const int32_t *bias;  /* 12: bias of the next pair */
    int32_t *suma;        /* 16: sums of pixel a, two per pair */
    int32_t *sumb;        /* 20: sums of pixel b */
    int32_t pairs;        /* 24: row pairs left, at least 1 */
    int32_t len;          /* 28: weights read per row, a multiple of 8 */
} tc_pair_rows_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_pair_rows_job_layout[
    offsetof(tc_pair_rows_job_t, len) == 28 ? 1 : -1];

/* Four inputs of one row pair: r4..r7 <- both rows' weights widened
 * (lanes 0, 2 and 1, 3 of row 0, then of row 1); r8, r9 <- pixel a's
 * widened inputs, then pixel b's; r10, r11 += rows 0, 1 on pixel a, r12,
 * lr on pixel b. 17 instructions per 16 MACs. */
#define TC_PAIR_ROWS_STEP                                                   \
    "ldr r6, [r0, r2]\n\t"                                                  \
    "ldr r4, [r0], #4\n\t"                                                  \
    "sxtb16 r5, r4, ror #8\n\t"                                             \
    "sxtb16 r4, r4\n\t"                                                     \
    "sxtb16 r7, r6, ror #8\n\t"                                             \
    "sxtb16 r6, r6\n\t"                                                     \
    "ldrd r8, r9, [r1], #8\n\t"                                             \
    "smlad r10, r8, r4, r10\n\t"                                            \
    "smlad r10, r9, r5, r10\n\t"                                            \
    "smlad r11, r8, r6, r11\n\t"                                            \
    "smlad r11, r9, r7, r11\n\t"                                            \
    "ldrd r8, r9, [r1], #8\n\t"                                             \
    "smlad r12, r8, r4, r12\n\t"                                            \
    "smlad r12, r9, r5, r12\n\t"                                            \
    "smlad lr, r8, r6, lr\n\t"                                              \
    "smlad lr, r9, r7, lr\n\t"

/* For each row pair of the job: both pixels' sums of both rows, from the
 * bias, into suma/sumb. The inner loop keeps all fourteen values in
 * registers (r0 weights, r1 inputs, r2 n, r3 end of the row), eight inputs
 * per pass; the job, in memory, carries the pair state. */
__attribute__((naked)) static void
tc_pair_rows_asm(tc_pair_rows_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r0, r4-r11, lr}\n"
        "1:\n\t"
        "ldr r12, [sp]\n\t"
        "ldrd r0, r1, [r12]\n\t"
        "ldrd r2, r3, [r12, #8]\n\t"
        "add lr, r0, r2, lsl #1\n\t"
        "str lr, [r12]\n\t"
        "ldrd r10, r11, [r3], #8\n\t"
        "str r3, [r12, #12]\n\t"
        "ldr r3, [r12, #28]\n\t"
        "add r3, r3, r0\n\t"
        "mov r12, r10\n\t"
        "mov lr, r11\n"
        "2:\n\t"
        TC_PAIR_ROWS_STEP TC_PAIR_ROWS_STEP
        "cmp r0, r3\n\t"
        "bne 2b\n\t"
        "ldr r1, [sp]\n\t"
        "ldr r0, [r1, #16]\n\t"
        "strd r10, r11, [r0], #8\n\t"
        "str r0, [r1, #16]\n\t"
        "ldr r0, [r1, #20]\n\t"
        "strd r12, lr, [r0], #8\n\t"
        "str r0, [r1, #20]\n\t"
        "ldr r0, [r1, #24]\n\t"
        "subs r0, r0, #1\n\t"
        "str r0, [r1, #24]\n\t"
        "bne 1b\n\t"
        "pop {r0, r4-r11, pc}\n\t");
}

#endif /* TC_PAIR_ROWS_ASM_H */
