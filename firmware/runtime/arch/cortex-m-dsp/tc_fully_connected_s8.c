/*
 * tc_fully_connected_s8.c (Cortex-M DSP) - FULLY_CONNECTED.
 *
 * Dense int8 weights with weight zero point 0 (every converted model, e.g.
 * the MLPerf Tiny autoencoder's 640->128->...->640 layers): three output
 * rows per pass share each widened input word (tc_rows_dsp.h), and the
 * output stage is set up once per call. With an input depth a multiple
 * of 8 up to TC_FC_WIDE_MAX and at least 4 rows (all the autoencoder's
 * layers), the input vector is widened once onto the stack and
 * hand-allocated assembly takes four rows per pass (tc_fc_rows_asm).
 * Fewer rows would not repay the widening. A shared palette, sparse or
 * block-pruned weights take the packed loops of tc_fc_packed_dsp.h; other
 * weight formats and nonzero weight zero points the shared loop with
 * SMLAD dot products.
 * Same integer sums as the reference kernel; every output is written after
 * all the input reads of its row.
 */
#include <stddef.h>
#include <string.h>

#include "../../src/tc_fully_connected_common.h"
#include "tc_fc_packed_dsp.h"
#include "tc_quad_job_asm.h"
#include "tc_rows_dsp.h"

/* Input depth of the assembly path: its stack use is 2 * TC_FC_WIDE_MAX
 * bytes plus 8 * TC_FC_BLOCK. */
#define TC_FC_WIDE_MAX 1024
/* Rows summed before their outputs are written (a multiple of 4). */
#define TC_FC_BLOCK 64

/* Row quads for tc_fc_rows_asm; the assembly relies on this layout. */
typedef struct {
    const int8_t *w;      /* 0: first row of the next quad */
    const int16x2_t *x;   /* 4: the input, lanes (0, 2), (1, 3) per word */
    int32_t n;            /* 8: weights per row, a multiple of 8 */
    const int32_t *bias;  /* 12: bias of the next quad */
    int32_t *sum;         /* 16: sums out, four per quad */
    int32_t quads;        /* 20: row quads left, at least 1 */
} tc_fc_job_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_fc_job_layout[offsetof(tc_fc_job_t, quads) == 20 ? 1 : -1];

/* Four inputs of one row (weights at [wp, wo] or [wp], #4 after): r7 <-
 * the weight word, r8 its lanes 0, 2, r7 lanes 1, 3; acc += them times
 * r5, r6, the widened inputs. */
#define TC_FC_ROW(load, acc)                                                \
    load                                                                    \
    "sxtb16 r8, r7\n\t"                                                     \
    "sxtb16 r7, r7, ror #8\n\t"                                             \
    "smlad " acc ", r5, r8, " acc "\n\t"                                    \
    "smlad " acc ", r6, r7, " acc "\n\t"

/* Four inputs of the four rows (r0 row 0, r4 row 2; rows 1, 3 are n = r2
 * bytes further): 21 instructions per 16 MACs. */
#define TC_FC_STEP                                                          \
    "ldrd r5, r6, [r1], #8\n\t"                                             \
    TC_FC_ROW("ldr r7, [r0, r2]\n\t", "r10")                                \
    TC_FC_ROW("ldr r7, [r0], #4\n\t", "r9")                                 \
    TC_FC_ROW("ldr r7, [r4, r2]\n\t", "r12")                                \
    TC_FC_ROW("ldr r7, [r4], #4\n\t", "r11")

/* For each row quad of the job: the four sums, from the bias, into sum.
 * The inner loop keeps every value in a register (r0, r4 weights, r1
 * inputs, r2 n, r3 end of row 0, r9..r12 sums), eight inputs per pass;
 * the job, in memory, carries the quad state. */
__attribute__((naked)) static void
tc_fc_rows_asm(tc_fc_job_t *job __attribute__((unused)))
{
    __asm__ volatile(
        TC_QUAD_JOB_START
        "add r3, r0, r2\n\t"
        "add r4, r3, r2\n"
        "2:\n\t"
        TC_FC_STEP TC_FC_STEP
        "cmp r0, r3\n\t"
        "bne 2b\n\t"
        TC_QUAD_JOB_NEXT);
}

/* One batch of a dense layer with n % 8 == 0, n <= TC_FC_WIDE_MAX: the
 * input widened once (SXTAB16 adds -zp), then blocks of TC_FC_BLOCK rows
 * summed from the bias, or from zeros without one (four rows at a time by
 * tc_fc_rows_asm, the last rows % 4 by tc_row1_dsp) and requantised. */
static void tc_fc_wide(const tc_fully_connected_params_t *p,
                       const tc_out_stage_t *o, const int8_t *in,
                       int8_t *out)
{
    const int32_t n = p->input_depth;
    const int32_t rows = p->output_depth;
    const int16x2_t offset = tc_dup16(-p->input_zero_point);
    const int8_t *w = (const int8_t *)p->weights.data;
    int16x2_t wide[TC_FC_WIDE_MAX / 2];
    int32_t sum[TC_FC_BLOCK];
    int32_t zeros[TC_FC_BLOCK];
    int32_t j, r;

    for (j = 0; j < n; j += 4) {
        const uint32_t x = tc_load4(in + j);
        wide[j / 2] = __sxtab16(offset, (int8x4_t)x);
        wide[j / 2 + 1] = tc_sxtab16_odd(offset, x);
    }
    if (p->bias == NULL) {
        memset(zeros, 0, sizeof zeros);
    }
    for (r = 0; r < rows; r += TC_FC_BLOCK) {
        const int32_t block = rows - r < TC_FC_BLOCK ? rows - r : TC_FC_BLOCK;
        const int32_t quads = block / 4;
        int32_t i;
        if (quads > 0) {
            tc_fc_job_t job;
            job.w = w + r * n;
            job.x = wide;
            job.n = n;
            job.bias = p->bias != NULL ? p->bias + r : zeros;
            job.sum = sum;
            job.quads = quads;
            tc_fc_rows_asm(&job);
        }
        for (i = 4 * quads; i < block; ++i) {
            sum[i] = tc_row1_dsp(w + (r + i) * n, n, in, offset,
                                 p->bias != NULL ? p->bias[r + i] : 0);
        }
        tc_out_run_dsp(o, r, sum, block, out + r);
    }
}

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_fully_connected_check(p, input, output);
    tc_out_stage_t o;
    int32_t b;

    if (status != TC_OK) {
        return status;
    }
    if (p->weights.format != TC_WEIGHTS_S8 || p->weights_zero_point != 0) {
        if (tc_fc_packed_dsp(p, input, output)) {
            return TC_OK;
        }
        return tc_fully_connected_run(p, input, output, tc_dot_s8_dsp);
    }
    o = tc_out_stage(&p->requant, p->bias, p->output_depth, p->input_depth,
                     p->output_zero_point, p->act_min, p->act_max);
    for (b = 0; b < p->batches; ++b) {
        if (p->input_depth % 8 == 0 && p->input_depth <= TC_FC_WIDE_MAX &&
            p->output_depth >= 4) {
            tc_fc_wide(p, &o, input + b * p->input_depth,
                       output + b * p->output_depth);
            continue;
        }
        tc_rows_out_dsp((const int8_t *)p->weights.data, p->output_depth,
                        p->input_depth, input + b * p->input_depth,
                        p->input_zero_point, p->bias, &o,
                        output + b * p->output_depth);
    }
    return TC_OK;
}
