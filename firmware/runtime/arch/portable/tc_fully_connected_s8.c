/*
 * tc_fully_connected_s8.c (portable) - FULLY_CONNECTED in plain C99 for any
 * core: dense int8 weights with zero point 0 (TFLite's int8 weights) take
 * four output rows per pass sharing each input load (tc_dot_rows.h); other
 * formats, and the last rows, go through tc_weights_dot. Same integer sums
 * and write order as the reference kernel.
 */
#include "../../src/tc_fully_connected_common.h"
#include "tc_dot_rows.h"
#include "tc_out_c.h"

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
