/*
 * tc_fully_connected_s8.c (Helium) - FULLY_CONNECTED.
 *
 * Dense int8 weights with weight zero point 0 (every converted model):
 * blocks of TC_MVE_CHUNK rows, three rows per pass sharing each loaded
 * 16-byte input vector, each row's sum of weights (for the input zero
 * point) formed in the same loop, since each weight is read once
 * (tc_mve_rows_fold: 11 instructions per 48 MACs); the sums requantised
 * four at a time. Batches go one after the other and each output
 * is written after all the input reads of its row, as in the reference
 * kernel. Packed weights take tc_fc_packed_mve.h where it has a path;
 * other packed layers and a nonzero weight zero point the shared loop
 * with 16-lane dot products (tc_fully_connected_run).
 */
#include <string.h>

#include "../../src/tc_fully_connected_common.h"
#include "tc_dot_mve.h"
#include "tc_fc_packed_mve.h"
#include "tc_gemm_mve.h"

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_fully_connected_check(p, input, output);
    const int32_t n = p->input_depth;
    const int32_t rows = p->output_depth;
    const int8_t *w = (const int8_t *)p->weights.data;
    tc_mve_out_t o;
    int32_t zeros[TC_MVE_CHUNK];
    int32_t sums[TC_MVE_CHUNK];
    int32_t b, r0;

    if (status != TC_OK) {
        return status;
    }
    if (p->weights.format != TC_WEIGHTS_S8 || p->weights_zero_point != 0) {
        if (tc_fc_packed_mve(p, input, output)) { /* tc_fc_packed_mve.h */
            return TC_OK;
        }
        return tc_fully_connected_run(p, input, output, tc_dot_s8_mve);
    }
    o = tc_mve_out(&p->requant, rows, p->output_zero_point, p->act_min,
                   p->act_max);
    if (p->bias == NULL) {
        memset(zeros, 0, sizeof zeros);
    }
    for (b = 0; b < p->batches; ++b) {
        for (r0 = 0; r0 < rows; r0 += TC_MVE_CHUNK) {
            const int32_t count =
                rows - r0 < TC_MVE_CHUNK ? rows - r0 : TC_MVE_CHUNK;
            tc_mve_rows_fold(w + r0 * n, n, count, input + b * n,
                             p->input_zero_point,
                             p->bias != NULL ? p->bias + r0 : zeros, sums);
            tc_mve_out_run(&o, r0, sums, count, output + b * rows + r0);
        }
    }
    return TC_OK;
}
