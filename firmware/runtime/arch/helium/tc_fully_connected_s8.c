/*
 * tc_fully_connected_s8.c (Helium) - FULLY_CONNECTED with 16-lane MVE dot
 * products; same integer sums and write order as the reference kernel.
 */
#include "../../src/tc_fully_connected_common.h"
#include "tc_dot_mve.h"

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_fully_connected_check(p, input, output);
    int32_t b, o;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->input_depth;
        for (o = 0; o < p->output_depth; ++o) {
            const int32_t q = p->requant.per_channel ? o : 0;
            int32_t acc;
            if (p->weights.format == TC_WEIGHTS_S8) {
                acc = tc_dot_s8_mve((const int8_t *)p->weights.data +
                                        o * p->input_depth,
                                    in, p->input_depth, p->input_zero_point,
                                    p->weights_zero_point);
            } else {
                acc = tc_weights_dot(&p->weights, o * p->input_depth, o, in,
                                     p->input_depth, p->input_zero_point,
                                     p->weights_zero_point);
            }
            if (p->bias != NULL) {
                acc += p->bias[o];
            }
            acc = tc_mbqm(acc, p->requant.multiplier[q], p->requant.shift[q]);
            acc += p->output_zero_point;
            output[b * p->output_depth + o] =
                (int8_t)tc_clamp(acc, p->act_min, p->act_max);
        }
    }
    return TC_OK;
}
