/*
 * tc_conv_1x1_s8.c (Helium) - pointwise CONV_2D (1x1 filter, no padding,
 * any stride) as a matrix product with no im2col: the input pixels of two
 * output pixels are the two columns of tc_gemm_mve.h (start values formed
 * once per call, three output channels x two pixels per pass, 12
 * instructions per 96 MACs, the sums requantised four at a time).
 *
 * Pixels go in raster order. The reference finishes pixel q before it
 * reads pixel q + 1, so the planner may lay pixel q + 1's outputs over
 * pixel q's input. A pair's outputs are written after both its input
 * pixels are read, which is safe while one block of sums (TC_MVE_CHUNK
 * output channels) covers the layer; with more, a later block would read
 * the pixels again, so they are copied to the stack first (inputs wider
 * than TC_PW_COPY_MAX go one pixel at a time: a lone pixel's outputs lie
 * below its own input). Packed weights with a decode scratch are decoded
 * once per call (tc_decode_mve.h) and run as dense; without one they take
 * the reference loop; padded layers go to tc_conv_s8.
 */
#include "../../src/tc_conv_common.h"
#include "tc_decode_mve.h"
#include "tc_gemm_mve.h"

/* Widest input pixels a pair copies to the stack (layers of more than
 * TC_MVE_CHUNK outputs); 2 * TC_PW_COPY_MAX bytes of stack. */
#define TC_PW_COPY_MAX 256

/* The input pixel of output pixel q (raster index over n, h, w). */
static inline const int8_t *tc_conv_1x1_pixel(const tc_conv_params_t *p,
                                              const int8_t *input, int32_t q)
{
    const int32_t ox = q % p->output.w;
    const int32_t oy = (q / p->output.w) % p->output.h;
    const int32_t b = q / (p->output.w * p->output.h);
    return input +
           tc_offset(&p->input, b, oy * p->stride_h, ox * p->stride_w, 0);
}

tc_status_t tc_conv_1x1_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    const int32_t pixels = p->output.n * p->output.h * p->output.w;
    /* More than one block of sums: pairs read from a copy (see above). */
    const int32_t copy = p->output.c > TC_MVE_CHUNK;
    tc_conv_params_t dense;
    tc_mve_gemm_t g;
    int8_t cols[2][TC_PW_COPY_MAX];
    int32_t q, oc;

    if (status != TC_OK) {
        return status;
    }
    p = tc_conv_decoded_mve(p, &dense);  /* packed: once per call */
    if (!tc_conv_is_1x1(p)) {
        return tc_conv_s8(p, input, output);
    }
    if (p->weights.format == TC_WEIGHTS_S8) {
        tc_mve_gemm_init(&g, (const int8_t *)p->weights.data, p->input.c,
                         p->output.c, p->input_zero_point, p->bias,
                         &p->requant, p->output_zero_point, p->act_min,
                         p->act_max);
    }
    for (q = 0; q < pixels; ++q) {
        const int8_t *in = tc_conv_1x1_pixel(p, input, q);
        int8_t *out = output + q * p->output.c;
        if (p->weights.format == TC_WEIGHTS_S8) {
            if (q + 1 < pixels && (!copy || p->input.c <= TC_PW_COPY_MAX)) {
                const int8_t *in1 = tc_conv_1x1_pixel(p, input, q + 1);
                if (copy) {
                    tc_mve_copy(cols[0], in, p->input.c);
                    tc_mve_copy(cols[1], in1, p->input.c);
                    in = cols[0];
                    in1 = cols[1];
                }
                tc_mve_gemm_pair(&g, in, in1, out, out + p->output.c);
                ++q;
            } else {
                tc_mve_gemm_pair(&g, in, NULL, out, NULL);
            }
            continue;
        }
        for (oc = 0; oc < p->output.c; ++oc) {
            out[oc] = tc_out_s8(tc_weights_dot(&p->weights, oc * p->input.c,
                                               oc, in, p->input.c,
                                               p->input_zero_point, 0),
                                p->bias, oc, &p->requant,
                                p->output_zero_point, p->act_min,
                                p->act_max);
        }
    }
    return TC_OK;
}
