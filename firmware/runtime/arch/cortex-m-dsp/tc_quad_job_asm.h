/*
 * tc_quad_job_asm.h - the row-quad loop of the naked FULLY_CONNECTED
 * routines (tc_fc_rows_asm, dense; tc_fc_pal_rows_asm, shared palette),
 * as asm text for their __asm__ blocks. Their jobs start with the same six
 * words: 0 first row of the next quad, 4 input, 8 bytes per row, 12 bias
 * of the next quad, 16 sums out, 20 quads left (at least 1). The job
 * pointer stays at [sp] and a quad's four sums live in r9..r12; the rows
 * are r0, r0 + r2, r4 = r0 + 2 * r2 and r4 + r2.
 */
#ifndef TC_QUAD_JOB_ASM_H
#define TC_QUAD_JOB_ASM_H

/* Save the callee-saved registers and the job; at label 1, each quad:
 * lr <- job, r0 <- its first row, r1 <- input, r2 <- bytes per row,
 * r9..r12 <- its bias (the job's bias moves on by four). */
#define TC_QUAD_JOB_START                                                   \
    "push {r0, r4-r11, lr}\n"                                               \
    "1:\n\t"                                                                \
    "ldr lr, [sp]\n\t"                                                      \
    "ldrd r0, r1, [lr]\n\t"                                                 \
    "ldrd r2, r3, [lr, #8]\n\t"                                             \
    "ldmia r3!, {r9-r12}\n\t"                                               \
    "str r3, [lr, #12]\n\t"

/* After a quad's inner loop (r4 at the end of its row 2): the next quad
 * starts one row on; store the four sums, count the quad, back to label 1
 * or return. */
#define TC_QUAD_JOB_NEXT                                                    \
    "ldr lr, [sp]\n\t"                                                      \
    "add r0, r4, r2\n\t"                                                    \
    "str r0, [lr]\n\t"                                                      \
    "ldr r0, [lr, #16]\n\t"                                                 \
    "stmia r0!, {r9-r12}\n\t"                                               \
    "str r0, [lr, #16]\n\t"                                                 \
    "ldr r0, [lr, #20]\n\t"                                                 \
    "subs r0, r0, #1\n\t"                                                   \
    "str r0, [lr, #20]\n\t"                                                 \
    "bne 1b\n\t"                                                            \
    "pop {r0, r4-r11, pc}\n\t"

#endif /* TC_QUAD_JOB_ASM_H */
