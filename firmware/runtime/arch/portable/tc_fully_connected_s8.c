/*
 * tc_fully_connected_s8.c (portable) - FULLY_CONNECTED in plain C99 for any
 * core: two output rows share each input load. Same integer sums and write
 * order as the reference kernel.
 */
#include "../../src/tc_fully_connected_common.h"

static int8_t tc_fc_out(const tc_fully_connected_params_t *p, int32_t o,
                        int32_t acc)
{
    const int32_t q = p->requant.per_channel ? o : 0;
    if (p->bias != NULL) {
        acc += p->bias[o];
    }
    acc = tc_mbqm(acc, p->requant.multiplier[q], p->requant.shift[q]) +
          p->output_zero_point;
    return (int8_t)tc_clamp(acc, p->act_min, p->act_max);
}

tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_fully_connected_check(p, input, output);
    const int32_t n = p->input_depth;
    int32_t b, o, j;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * n;
        int8_t *out = output + b * p->output_depth;
        for (o = 0; o < p->output_depth; o += 2) {
            if (p->weights.format == TC_WEIGHTS_S8 && o + 1 < p->output_depth) {
                const int8_t *w0 = (const int8_t *)p->weights.data + o * n;
                const int8_t *w1 = w0 + n;
                int32_t a0 = 0;
                int32_t a1 = 0;
                for (j = 0; j < n; ++j) {
                    const int32_t x = (int32_t)in[j] - p->input_zero_point;
                    a0 += ((int32_t)w0[j] - p->weights_zero_point) * x;
                    a1 += ((int32_t)w1[j] - p->weights_zero_point) * x;
                }
                out[o] = tc_fc_out(p, o, a0);
                out[o + 1] = tc_fc_out(p, o + 1, a1);
            } else {
                const int32_t last = o + 2 < p->output_depth ? o + 2
                                                             : p->output_depth;
                for (j = o; j < last; ++j) {
                    out[j] = tc_fc_out(
                        p, j,
                        tc_weights_dot(&p->weights, j * n, j, in, n,
                                       p->input_zero_point,
                                       p->weights_zero_point));
                }
            }
        }
    }
    return TC_OK;
}
