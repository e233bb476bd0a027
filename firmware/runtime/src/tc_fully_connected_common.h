/*
 * tc_fully_connected_common.h - FULLY_CONNECTED argument checks and loop
 * shared by the reference kernel and the architecture-optimised variants.
 */
#ifndef TC_FULLY_CONNECTED_COMMON_H
#define TC_FULLY_CONNECTED_COMMON_H

#include "tc_output.h"
#include "tc_weights.h"

static inline tc_status_t
tc_fully_connected_check(const tc_fully_connected_params_t *p,
                         const int8_t *input, const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL ||
        p->requant.multiplier == NULL || p->requant.shift == NULL) {
        return TC_ERR_ARG;
    }
    if (p->batches < 1 || p->input_depth < 1 || p->output_depth < 1 ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if ((p->weights.format == TC_WEIGHTS_SPARSE8 ||
         p->weights.format == TC_WEIGHTS_BLOCK8 ||
         p->weights.format == TC_WEIGHTS_BLOCK4) &&
        p->weights_zero_point != 0) {
        return TC_ERR_UNSUPPORTED;
    }
    return tc_weights_check(&p->weights, p->input_depth * p->output_depth,
                            p->output_depth, 1);
}

/* sum_j (w[j] - w_zp) * (in[j] - in_zp), j < n: tc_dot_s8 or an arch's
 * SIMD equivalent. */
typedef int32_t (*tc_dot_s8_fn)(const int8_t *w, const int8_t *in, int32_t n,
                                int32_t in_zp, int32_t w_zp);

/* FULLY_CONNECTED (TFLM reference FullyConnected / FullyConnectedPerChannel
 * arithmetic): dense int8 weights go through dot_s8, every other weight
 * format through tc_weights_dot. Static inline, so each kernel's constant
 * dot_s8 is inlined (and no out-of-line copy of it is left). */
static inline tc_status_t
tc_fully_connected_run(const tc_fully_connected_params_t *p,
                       const int8_t *input, int8_t *output,
                       tc_dot_s8_fn dot_s8)
{
    const tc_status_t status = tc_fully_connected_check(p, input, output);
    int32_t b, o;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->input_depth;
        for (o = 0; o < p->output_depth; ++o) {
            int32_t acc;
            if (p->weights.format == TC_WEIGHTS_S8) {
                acc = dot_s8((const int8_t *)p->weights.data +
                                 o * p->input_depth,
                             in, p->input_depth, p->input_zero_point,
                             p->weights_zero_point);
            } else {
                acc = tc_weights_dot(&p->weights, o * p->input_depth, o, in,
                                     p->input_depth, p->input_zero_point,
                                     p->weights_zero_point);
            }
            output[b * p->output_depth + o] =
                tc_out_s8(acc, p->bias, o, &p->requant, p->output_zero_point,
                          p->act_min, p->act_max);
        }
    }
    return TC_OK;
}

#endif /* TC_FULLY_CONNECTED_COMMON_H */
