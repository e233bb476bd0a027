/*
 * tc_fully_connected_s8.c - FULLY_CONNECTED, int8 (TFLM reference
 * FullyConnected / FullyConnectedPerChannel arithmetic).
 */
#include "tc_fully_connected_common.h"

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
            int32_t acc = tc_weights_dot(&p->weights, o * p->input_depth, o,
                                         in, p->input_depth,
                                         p->input_zero_point,
                                         p->weights_zero_point);
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
