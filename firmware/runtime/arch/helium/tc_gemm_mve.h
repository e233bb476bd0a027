/*
 * tc_gemm_mve.h - the matrix product under the Helium CONV_2D, 1x1
 * CONV_2D and FULLY_CONNECTED kernels: int8 weight rows (OHWI, one output
 * channel per row of k bytes) times int8 columns (input pixels, im2col
 * windows, an FC input vector), with no widening.
 *
 * sum_j w_j (x_j - zp) = sum_j w_j x_j - zp * sum_j w_j: the input zero
 * point is folded into a per-row start value, bias - zp * sum w, so the
 * inner loop is only loads and VMLADAVA, 16 MACs each. Both terms are
 * exact int32 sums (in wraparound arithmetic, and the final sum is TFLM's
 * in-range integer), so the result is the reference's integer. Convs form
 * the start values once per call (tc_mve_starts) and take two columns
 * (output pixels) per pass, three rows x two columns (tc_mve_rows2); a
 * lone column takes four rows per pass (tc_mve_rows1); an FC, whose
 * weights are each read once, forms the row sums in its dot loop
 * (tc_mve_rows_fold). The sums are requantised four at a time
 * (tc_mve_out_run, with tc_requant_mve.h).
 *
 * Loops are tail-predicated low-overhead loops (DLSTP/WLSTP + LETP), so a
 * depth that is not a multiple of 16 needs no tail code and predicated-off
 * lanes read no memory. They are written in assembly: GCC 12 emits
 * neither, and puts a VPST before every predicated step. VMLADAVA/VADDVA
 * accumulate into even registers only: the "Te" constraints of the inline
 * helpers, and the register plans of the naked loop functions (naked, so
 * that no frame pointer takes r7 in an unoptimised build).
 */
#ifndef TC_GEMM_MVE_H
#define TC_GEMM_MVE_H

#include <arm_mve.h>
#include <stddef.h>

#include "../../src/tc_fixedpoint.h"
#include "tc_requant_mve.h"

#if !defined(__ARM_FEATURE_MVE)
#error "arch/helium needs a core with MVE (e.g. -mcpu=cortex-m55)"
#endif

/* Rows whose start values a call keeps (4 bytes of stack each): layers
 * with more form them again for each chunk of rows and pair of columns. */
#define TC_MVE_ROWS_MAX 256

/* sum of w[0..n). */
static inline int32_t tc_mve_sum(const int8_t *w, int32_t n)
{
    int32_t s = 0;
    __asm__ volatile(
        "wlstp.8 lr, %[n], 2f\n"
        "1:\n\t"
        "vldrb.8 q0, [%[w]], #16\n\t"
        "vaddva.s8 %[s], q0\n\t"
        "letp lr, 1b\n"
        "2:\n\t"
        : [s] "+Te"(s), [w] "+r"(w)
        : [n] "r"(n)
        : "lr", "q0", "memory");
    return s;
}

/* start[r] = bias[r] - zp * (sum of row r), r < rows (bias may be NULL). */
static inline void tc_mve_starts(const int8_t *w, int32_t k, int32_t rows,
                                 int32_t zp, const int32_t *bias,
                                 int32_t *start)
{
    int32_t r;
    for (r = 0; r < rows; ++r, w += k) {
        start[r] = (bias != NULL ? bias[r] : 0) - zp * tc_mve_sum(w, k);
    }
}

/* Groups of four rows for tc_mve_rows4_asm; the assembly relies on this
 * layout. */
typedef struct {
    const int8_t *w;       /* 0: first row of the first group */
    const int8_t *x;       /* 4: the column, k bytes */
    int32_t k;             /* 8: bytes per row, at least 1 */
    const int32_t *start;  /* 12: start values, four per group */
    int32_t *sums;         /* 16: sums out, four per group */
    int32_t groups;        /* 20: at least 1 */
} tc_mve_job1_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_mve_job1_layout[offsetof(tc_mve_job1_t, groups) == 20 ? 1
                                                                       : -1];

/* One column (an FC input, a lone last pixel). For each group of four
 * rows (w, w + k, w + 2k, w + 3k, then the next four): sums = start + the
 * rows' dots with x. One load of x feeds four VMLADAVA (10 instructions
 * per 64 MACs); every value of the group loop is in a register (r0, r2,
 * r4, r6 sums, r1 x, r3, r5, r7, r9 rows, r8 k, r10 start, r11 sums, r12
 * the column), and the stack holds the groups left and the next group's
 * first row, so a group costs 14 instructions beyond its dots. Naked, so
 * that no frame pointer takes r7 at -O0. */
__attribute__((naked)) static void
tc_mve_rows4_asm(const tc_mve_job1_t *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #8\n\t"
        "ldrd r3, r12, [r0]\n\t"
        "ldrd r8, r10, [r0, #8]\n\t"
        "ldrd r11, r1, [r0, #16]\n\t"
        "str r1, [sp]\n"
        "1:\n\t"
        "ldm r10!, {r0, r2, r4, r6}\n\t"
        "add r5, r3, r8\n\t"
        "add r7, r5, r8\n\t"
        "add r9, r7, r8\n\t"
        "add r1, r9, r8\n\t"
        "str r1, [sp, #4]\n\t"
        "mov r1, r12\n\t"
        "dlstp.8 lr, r8\n"
        "2:\n\t"
        "vldrb.8 q0, [r1], #16\n\t"
        "vldrb.8 q1, [r3], #16\n\t"
        "vmladava.s8 r0, q1, q0\n\t"
        "vldrb.8 q2, [r5], #16\n\t"
        "vmladava.s8 r2, q2, q0\n\t"
        "vldrb.8 q3, [r7], #16\n\t"
        "vmladava.s8 r4, q3, q0\n\t"
        "vldrb.8 q1, [r9], #16\n\t"
        "vmladava.s8 r6, q1, q0\n\t"
        "letp lr, 2b\n\t"
        "stm r11!, {r0, r2, r4, r6}\n\t"
        "ldrd r1, r3, [sp]\n\t"
        "subs r1, r1, #1\n\t"
        "str r1, [sp]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #8\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* Groups of three rows for tc_mve_rows3x2_asm; the assembly relies on
 * this layout. */
typedef struct {
    const int8_t *w;       /* 0: first row of the next group */
    const int32_t *end;    /* 4: start + 3 * groups */
    const int8_t *xa;      /* 8: column of pixel a, k bytes */
    const int8_t *xb;      /* 12: column of pixel b */
    int32_t k;             /* 16: bytes per row, at least 1 */
    const int32_t *start;  /* 20: start values, three per group */
    int32_t *suma;         /* 24: sums of pixel a out, three per group */
    int32_t *sumb;         /* 28: sums of pixel b out */
} tc_mve_job2_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_mve_job2_layout[offsetof(tc_mve_job2_t, sumb) == 28 ? 1
                                                                     : -1];

/* Two columns (two output pixels). For each group of three rows (w,
 * w + k, w + 2k, then the next three):
 * suma = start + the rows' dots with column xa, sumb the same with xb.
 * Each loaded 16-byte weight vector feeds two VMLADAVA and each column
 * vector three: 12 instructions per 96 MACs. Six sums need six of the
 * eight even registers VMLADAVA accumulates into (r0-r10), and every
 * other register holds a pointer (r1, r3 columns, r5, r7, r9 rows, r11 k,
 * r12 start) or the loop count (lr), so the group state lives in the job
 * and a group costs 19 instructions beyond its dots. Naked, so that no
 * frame pointer takes r7 at -O0. */
__attribute__((naked)) static void
tc_mve_rows3x2_asm(const tc_mve_job2_t *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r0, r4-r11, lr}\n\t"
        "ldr r5, [r0]\n\t"
        "ldrd r11, r12, [r0, #16]\n"
        "1:\n\t"
        "ldm r12!, {r0, r2, r4}\n\t"
        "mov r6, r0\n\t"
        "mov r8, r2\n\t"
        "mov r10, r4\n\t"
        "add r7, r5, r11\n\t"
        "add r9, r7, r11\n\t"
        "ldr lr, [sp]\n\t"
        "add r1, r9, r11\n\t"
        "str r1, [lr]\n\t"
        "ldrd r1, r3, [lr, #8]\n\t"
        "dlstp.8 lr, r11\n"
        "2:\n\t"
        "vldrb.8 q0, [r1], #16\n\t"
        "vldrb.8 q1, [r3], #16\n\t"
        "vldrb.8 q2, [r5], #16\n\t"
        "vmladava.s8 r0, q2, q0\n\t"
        "vmladava.s8 r6, q2, q1\n\t"
        "vldrb.8 q3, [r7], #16\n\t"
        "vmladava.s8 r2, q3, q0\n\t"
        "vmladava.s8 r8, q3, q1\n\t"
        "vldrb.8 q2, [r9], #16\n\t"
        "vmladava.s8 r4, q2, q0\n\t"
        "vmladava.s8 r10, q2, q1\n\t"
        "letp lr, 2b\n\t"
        "ldr lr, [sp]\n\t"
        "ldrd r1, r3, [lr, #24]\n\t"
        "stm r1!, {r0, r2, r4}\n\t"
        "stm r3!, {r6, r8, r10}\n\t"
        "strd r1, r3, [lr, #24]\n\t"
        "ldrd r5, r1, [lr]\n\t"
        "cmp r12, r1\n\t"
        "bne 1b\n\t"
        "pop {r0, r4-r11, pc}\n\t");
}

/* Groups of three rows for tc_mve_rows3_fold_asm; the assembly relies on
 * this layout. */
typedef struct {
    const int8_t *w;       /* 0: first row of the next group */
    const int32_t *end;    /* 4: start + 3 * groups */
    const int8_t *x;       /* 8: the column, k bytes */
    int32_t k;             /* 12: bytes per row, at least 1 */
    const int32_t *start;  /* 16: start values, three per group */
    int32_t *sums;         /* 20: sums out, three per group */
    int32_t zp;            /* 24: input zero point */
} tc_mve_fold_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_mve_fold_job_layout[offsetof(tc_mve_fold_job_t, zp) == 24
                                        ? 1
                                        : -1];

/* One column whose rows are read once (a fully connected layer), where
 * a separate pass for the row sums would cost as much as the product:
 * for each group of three rows, sums = start + the rows' dots with x -
 * zp * the rows' sums, the row sums formed in the same loop (VADDVA on
 * the loaded weights): 11 instructions per 48 MACs. The six accumulators
 * take r0-r10 (even), the pointers r1 x, r3, r5, r7 rows, r9 k, r11 zp,
 * r12 start; a group costs 21 instructions beyond its loop. */
__attribute__((naked)) static void
tc_mve_rows3_fold_asm(const tc_mve_fold_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r0, r4-r11, lr}\n\t"
        "ldr r3, [r0]\n\t"
        "ldrd r9, r12, [r0, #12]\n\t"
        "ldr r11, [r0, #24]\n"
        "1:\n\t"
        "ldm r12!, {r0, r2, r4}\n\t"
        "movs r6, #0\n\t"
        "movs r8, #0\n\t"
        "movs r10, #0\n\t"
        "add r5, r3, r9\n\t"
        "add r7, r5, r9\n\t"
        "ldr lr, [sp]\n\t"
        "add r1, r7, r9\n\t"
        "str r1, [lr]\n\t"
        "ldr r1, [lr, #8]\n\t"
        "dlstp.8 lr, r9\n"
        "2:\n\t"
        "vldrb.8 q0, [r1], #16\n\t"
        "vldrb.8 q1, [r3], #16\n\t"
        "vmladava.s8 r0, q1, q0\n\t"
        "vaddva.s8 r6, q1\n\t"
        "vldrb.8 q2, [r5], #16\n\t"
        "vmladava.s8 r2, q2, q0\n\t"
        "vaddva.s8 r8, q2\n\t"
        "vldrb.8 q3, [r7], #16\n\t"
        "vmladava.s8 r4, q3, q0\n\t"
        "vaddva.s8 r10, q3\n\t"
        "letp lr, 2b\n\t"
        "mls r0, r6, r11, r0\n\t"
        "mls r2, r8, r11, r2\n\t"
        "mls r4, r10, r11, r4\n\t"
        "ldr lr, [sp]\n\t"
        "ldr r1, [lr, #20]\n\t"
        "stm r1!, {r0, r2, r4}\n\t"
        "str r1, [lr, #20]\n\t"
        "ldrd r3, r1, [lr]\n\t"
        "cmp r12, r1\n\t"
        "bne 1b\n\t"
        "pop {r0, r4-r11, pc}\n\t");
}

/* acc + dot of w and x (k bytes each). */
static inline int32_t tc_mve_row1(const int8_t *w, int32_t k, const int8_t *x,
                                  int32_t acc)
{
    __asm__ volatile(
        "wlstp.8 lr, %[n], 2f\n"
        "1:\n\t"
        "vldrb.8 q0, [%[x]], #16\n\t"
        "vldrb.8 q1, [%[w]], #16\n\t"
        "vmladava.s8 %[a], q1, q0\n\t"
        "letp lr, 1b\n"
        "2:\n\t"
        : [a] "+Te"(acc), [x] "+r"(x), [w] "+r"(w)
        : [n] "r"(k)
        : "lr", "q0", "q1", "memory");
    return acc;
}

/* sums[r] = start[r] + dot of row r (w + r * k) with x, r < rows. */
static inline void tc_mve_rows1(const int8_t *w, int32_t k, int32_t rows,
                                const int8_t *x, const int32_t *start,
                                int32_t *sums)
{
    const int32_t groups = rows / 4;
    int32_t r;
    if (groups > 0) {
        tc_mve_job1_t job;
        job.w = w;
        job.x = x;
        job.k = k;
        job.start = start;
        job.sums = sums;
        job.groups = groups;
        tc_mve_rows4_asm(&job);
    }
    for (r = 4 * groups; r < rows; ++r) {
        sums[r] = tc_mve_row1(w + r * k, k, x, start[r]);
    }
}

/* tc_mve_rows1 for two columns: suma from xa, sumb from xb. Two rows
 * left after the groups of three are the end of one more group, which sums
 * its first row a second time (the same values): cheaper than the two
 * rows alone; one row left goes alone. */
static inline void tc_mve_rows2(const int8_t *w, int32_t k, int32_t rows,
                                const int8_t *xa, const int8_t *xb,
                                const int32_t *start, int32_t *suma,
                                int32_t *sumb)
{
    const int32_t groups = rows / 3;
    tc_mve_job2_t job;
    int32_t r;
    if (groups == 0 || rows % 3 == 1) {
        for (r = 3 * groups; r < rows; ++r) {
            suma[r] = tc_mve_row1(w + r * k, k, xa, start[r]);
            sumb[r] = tc_mve_row1(w + r * k, k, xb, start[r]);
        }
    }
    if (groups == 0) {
        return;
    }
    job.w = w;
    job.end = start + 3 * groups;
    job.xa = xa;
    job.xb = xb;
    job.k = k;
    job.start = start;
    job.suma = suma;
    job.sumb = sumb;
    tc_mve_rows3x2_asm(&job);
    if (rows % 3 == 2) {
        r = rows - 3;
        job.w = w + r * k;
        job.end = start + rows;
        job.start = start + r;
        job.suma = suma + r;
        job.sumb = sumb + r;
        tc_mve_rows3x2_asm(&job);
    }
}

/* sums[r] = start[r] + dot of row r (w + r * k) with (x - zp), r < rows:
 * the row sums formed on the way (see tc_mve_rows3_fold_asm). */
static inline void tc_mve_rows_fold(const int8_t *w, int32_t k, int32_t rows,
                                    const int8_t *x, int32_t zp,
                                    const int32_t *start, int32_t *sums)
{
    const int32_t groups = rows / 3;
    int32_t r;
    if (groups > 0) {
        tc_mve_fold_job_t job;
        job.w = w;
        job.end = start + 3 * groups;
        job.x = x;
        job.k = k;
        job.start = start;
        job.sums = sums;
        job.zp = zp;
        tc_mve_rows3_fold_asm(&job);
    }
    for (r = 3 * groups; r < rows; ++r) {
        sums[r] = tc_mve_row1(w + r * k, k, x,
                              start[r] - zp * tc_mve_sum(w + r * k, k));
    }
}

/* dst[0..n) = src[0..n). */
static inline void tc_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    __asm__ volatile(
        "wlstp.8 lr, %[n], 2f\n"
        "1:\n\t"
        "vldrb.8 q0, [%[s]], #16\n\t"
        "vstrb.8 q0, [%[d]], #16\n\t"
        "letp lr, 1b\n"
        "2:\n\t"
        : [d] "+r"(dst), [s] "+r"(src)
        : [n] "r"(n)
        : "lr", "q0", "memory");
}

/* dst[0..n) = value. */
static inline void tc_mve_fill(int8_t *dst, int32_t value, int32_t n)
{
    __asm__ volatile(
        "vdup.8 q0, %[v]\n\t"
        "wlstp.8 lr, %[n], 2f\n"
        "1:\n\t"
        "vstrb.8 q0, [%[d]], #16\n\t"
        "letp lr, 1b\n"
        "2:\n\t"
        : [d] "+r"(dst)
        : [n] "r"(n), [v] "r"(value)
        : "lr", "q0", "memory");
}

/* A layer's output stage, set up once per call. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t per_channel;
    int32_t right;  /* every shift <= -1: tc_out_mve_right */
    int32_t zp, act_min, act_max;
} tc_mve_out_t;

static inline tc_mve_out_t tc_mve_out(const tc_requant_t *rq, int32_t rows,
                                      int32_t zp, int32_t act_min,
                                      int32_t act_max)
{
    tc_mve_out_t o;
    const int32_t n = rq->per_channel ? rows : 1;
    int32_t r;
    o.multiplier = rq->multiplier;
    o.shift = rq->shift;
    o.per_channel = rq->per_channel;
    o.zp = zp;
    o.act_min = act_min;
    o.act_max = act_max;
    o.right = 1;
    for (r = 0; r < n; ++r) {
        o.right = o.right && rq->shift[r] <= -1;
    }
    return o;
}

/* out[c] = output channel r0 + c for sum acc[c] (bias included), c < n:
 * four channels per vector step. Whole steps are unpredicated (GCC puts a
 * VPST before every predicated instruction), the last partial one is
 * predicated; the short form (every shift a right shift) is written out
 * for per-channel and per-tensor requantisation. */
static inline void tc_mve_out_run(const tc_mve_out_t *o, int32_t r0,
                                  const int32_t *acc, int32_t n, int8_t *out)
{
    const int32_t zp = o->zp, lo = o->act_min, hi = o->act_max;
    const int32_t whole = n & ~3;
    const int32_t *m = o->multiplier + (o->per_channel ? r0 : 0);
    const int32_t *s = o->shift + (o->per_channel ? r0 : 0);
    const int32x4_t m0 = vdupq_n_s32(m[0]);
    const int32x4_t s0 = vdupq_n_s32(s[0]);
    mve_pred16_t pred;
    int32_t c;
    if (o->right && o->per_channel) {
        for (c = 0; c < whole; c += 4) {
            vstrbq_s32(out + c, tc_out_mve_right(vldrwq_s32(acc + c),
                                                 vldrwq_s32(m + c),
                                                 vldrwq_s32(s + c), zp, lo,
                                                 hi));
        }
    } else if (o->right) {
        for (c = 0; c < whole; c += 4) {
            vstrbq_s32(out + c, tc_out_mve_right(vldrwq_s32(acc + c), m0, s0,
                                                 zp, lo, hi));
        }
    } else {
        c = 0;
    }
    for (; c < n; c += 4) {
        pred = vctp32q((uint32_t)(n - c));
        vstrbq_p_s32(
            out + c,
            tc_out_mve(vldrwq_z_s32(acc + c, pred),
                       o->per_channel ? vldrwq_z_s32(m + c, pred) : m0,
                       o->per_channel ? vldrwq_z_s32(s + c, pred) : s0, zp,
                       lo, hi),
            pred);
    }
}

/* tc_mve_out_run for two pixels' sums of the same channels: each step's
 * multipliers and shifts are loaded once for both (short form,
 * per-channel; the others as tc_mve_out_run). */
static inline void tc_mve_out_run2(const tc_mve_out_t *o, int32_t r0,
                                   const int32_t *acca, const int32_t *accb,
                                   int32_t n, int8_t *outa, int8_t *outb)
{
    const int32_t zp = o->zp, lo = o->act_min, hi = o->act_max;
    const int32_t *m = o->multiplier + r0;
    const int32_t *s = o->shift + r0;
    mve_pred16_t pred;
    int32x4_t mv, sv;
    int32_t c;
    if (!o->right || !o->per_channel) {
        tc_mve_out_run(o, r0, acca, n, outa);
        tc_mve_out_run(o, r0, accb, n, outb);
        return;
    }
    for (c = 0; c + 4 <= n; c += 4) {
        mv = vldrwq_s32(m + c);
        sv = vldrwq_s32(s + c);
        vstrbq_s32(outa + c, tc_out_mve_right(vldrwq_s32(acca + c), mv, sv,
                                              zp, lo, hi));
        vstrbq_s32(outb + c, tc_out_mve_right(vldrwq_s32(accb + c), mv, sv,
                                              zp, lo, hi));
    }
    if (c < n) {
        pred = vctp32q((uint32_t)(n - c));
        mv = vldrwq_z_s32(m + c, pred);
        sv = vldrwq_z_s32(s + c, pred);
        vstrbq_p_s32(outa + c,
                     tc_out_mve_right(vldrwq_z_s32(acca + c, pred), mv, sv,
                                      zp, lo, hi),
                     pred);
        vstrbq_p_s32(outb + c,
                     tc_out_mve_right(vldrwq_z_s32(accb + c, pred), mv, sv,
                                      zp, lo, hi),
                     pred);
    }
}

/* Rows summed before their outputs are written (a multiple of 3 and 4). */
#define TC_MVE_CHUNK 96

/* One layer's product: rows x k weights, start values, output stage. */
typedef struct {
    const int8_t *w;
    int32_t k;
    int32_t rows;
    int32_t zp;           /* input zero point */
    const int32_t *bias;  /* NULL: no bias */
    tc_mve_out_t o;
    int32_t cached;       /* start holds every row's start value */
    int32_t start[TC_MVE_ROWS_MAX];
    int32_t sums[2][TC_MVE_CHUNK];
} tc_mve_gemm_t;

/* Sets g up for dense weights w; the start values are formed here once
 * when all rows fit in g->start, otherwise per chunk of rows and call of
 * tc_mve_gemm_pair. */
static inline void tc_mve_gemm_init(tc_mve_gemm_t *g, const int8_t *w,
                                    int32_t k, int32_t rows, int32_t zp,
                                    const int32_t *bias,
                                    const tc_requant_t *rq, int32_t out_zp,
                                    int32_t act_min, int32_t act_max)
{
    g->w = w;
    g->k = k;
    g->rows = rows;
    g->zp = zp;
    g->bias = bias;
    g->o = tc_mve_out(rq, rows, out_zp, act_min, act_max);
    g->cached = rows <= TC_MVE_ROWS_MAX;
    if (g->cached) {
        tc_mve_starts(w, k, rows, zp, bias, g->start);
    }
}

/* outa[r] = the layer's output r for column xa (k bytes), every r < rows,
 * and outb the same for column xb unless outb is NULL (xb is then not
 * read). Per chunk of TC_MVE_CHUNK rows, both columns are read before any
 * of the chunk's outputs is written; each chunk reads them again. */
static inline void tc_mve_gemm_pair(tc_mve_gemm_t *g, const int8_t *xa,
                                    const int8_t *xb, int8_t *outa,
                                    int8_t *outb)
{
    int32_t r0;
    for (r0 = 0; r0 < g->rows; r0 += TC_MVE_CHUNK) {
        const int32_t count =
            g->rows - r0 < TC_MVE_CHUNK ? g->rows - r0 : TC_MVE_CHUNK;
        const int8_t *w = g->w + r0 * g->k;
        const int32_t *start = g->start + r0;
        if (!g->cached) {
            tc_mve_starts(w, g->k, count, g->zp,
                          g->bias != NULL ? g->bias + r0 : NULL, g->start);
            start = g->start;
        }
        if (outb == NULL) {
            tc_mve_rows1(w, g->k, count, xa, start, g->sums[0]);
            tc_mve_out_run(&g->o, r0, g->sums[0], count, outa + r0);
        } else {
            tc_mve_rows2(w, g->k, count, xa, xb, start, g->sums[0],
                         g->sums[1]);
            tc_mve_out_run2(&g->o, r0, g->sums[0], g->sums[1], count,
                            outa + r0, outb + r0);
        }
    }
}

#endif /* TC_GEMM_MVE_H */
