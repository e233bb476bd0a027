/*
 * tc_conv_1x1_s8.c (portable) - pointwise CONV_2D (1x1 filter, no padding,
 * any stride) in plain C99 for any core, with no window arithmetic; it
 * serves DS-CNN's and MobileNet's pointwise layers and ResNet's 1x1
 * stride-2 shortcuts. Dense int8 weights and up to TC_PW_PAIR_MAX output
 * channels: two output pixels per pass, four output channels of both per
 * weight load (tc_dot_rows.h; from TC_PW_COLUMN_CHANNELS output channels
 * the two pixels are first widened to an int16 column pair, tc_columns.h,
 * as the general conv's windows are); a lone last pixel, wider layers and
 * packed weights: one pixel, four channels per input load. Same integer
 * sums as the reference kernel, and outputs land in raster order after
 * the reads that precede them (see tc_pw_pair). Packed weights with a
 * decode scratch are decoded once per call (tc_conv_decoded) and run as
 * dense.
 */
#include <string.h>

#include "../../src/tc_conv_common.h"
#include "tc_columns.h"

/* Output channels of the paired path: the second pixel's outputs wait in
 * a stack buffer of this many bytes (as tc_columns_out's). */
#define TC_PW_PAIR_MAX TC_COLUMN_CHANNELS_MAX

/* Output channels from which the int16 column pair pays for its copy:
 * each 4 channels save 2 subtractions per input value, the copy costs
 * about 10 instructions per value (rv32imc). */
#define TC_PW_COLUMN_CHANNELS 20

/* All output channels of one output pixel reading input pixel `in`. */
static void tc_pw_pixel(const tc_conv_params_t *p, const tc_out_c_t *o,
                        const int8_t *in, int8_t *out)
{
    const int32_t n = p->input.c;
    const int32_t zp = p->input_zero_point;
    int32_t oc = 0;
    int32_t j;

    if (p->weights.format == TC_WEIGHTS_S8) {
        for (; oc + 4 <= p->output.c; oc += 4) {
            int32_t acc[4];
            tc_dot4_s8((const int8_t *)p->weights.data + oc * n, n, in, n, zp,
                       acc);
            for (j = 0; j < 4; ++j) {
                out[oc + j] = tc_out_c(o, oc + j, acc[j]);
            }
        }
    }
    for (; oc < p->output.c; ++oc) {
        out[oc] = tc_out_c(
            o, oc, tc_weights_dot(&p->weights, oc * n, oc, in, n, zp, 0));
    }
}

/* Output pixels a and b (the next one in raster order), reading input
 * pixels ina and inb, dense weights. Pixel a's outputs are stored as they
 * are computed, as the reference stores them; b's wait in a stack buffer
 * until every read of the pass is done, so each output still lands in
 * raster order and after all the reads that precede it: the CONV_2D
 * shifted-overlap plan holds unchanged. */
static void tc_pw_pair(const tc_conv_params_t *p, const tc_out_c_t *o,
                       const int8_t *ina, const int8_t *inb, int8_t *outa,
                       int8_t *outb)
{
    const int32_t n = p->input.c;
    const int32_t zp = p->input_zero_point;
    const int8_t *w = (const int8_t *)p->weights.data;
    int8_t later[TC_PW_PAIR_MAX];
    int32_t oc = 0;
    int32_t j;

    for (; oc + 4 <= p->output.c; oc += 4) {
        int32_t acc[8];
        tc_dot4x2_s8(w + oc * n, n, ina, inb, n, zp, acc);
        for (j = 0; j < 4; ++j) {
            outa[oc + j] = tc_out_c(o, oc + j, acc[j]);
            later[oc + j] = tc_out_c(o, oc + j, acc[4 + j]);
        }
    }
    for (; oc < p->output.c; ++oc) {
        outa[oc] = tc_out_c(
            o, oc, tc_weights_dot(&p->weights, oc * n, oc, ina, n, zp, 0));
        later[oc] = tc_out_c(
            o, oc, tc_weights_dot(&p->weights, oc * n, oc, inb, n, zp, 0));
    }
    memcpy(outb, later, (size_t)p->output.c);
}

/* tc_pw_pair through an int16 column pair (tc_columns.h), for up to
 * TC_COLUMN_MAX input and from TC_PW_COLUMN_CHANNELS output channels.
 * A function of its own: its 2.3 KiB buffer would put tc_pw_pair's stack
 * slots out of reach of a load's 12-bit offset on RISC-V. */
static void tc_pw_column_pair(const tc_conv_params_t *p, const tc_out_c_t *o,
                              const int8_t *ina, const int8_t *inb,
                              int8_t *outa, int8_t *outb)
{
    int16_t xy[2 * TC_COLUMN_MAX];
    tc_column_copy2(ina, inb, p->input.c, p->input_zero_point, xy);
    tc_columns_out((const int8_t *)p->weights.data, p->output.c, o, xy,
                   p->input.c, outa, outb);
}

/* Input pixel read by output pixel q (raster order) of batch b. */
static const int8_t *tc_pw_input(const tc_conv_params_t *p,
                                 const int8_t *input, int32_t b, int32_t q)
{
    return input + tc_offset(&p->input, b, q / p->output.w * p->stride_h,
                             q % p->output.w * p->stride_w, 0);
}

tc_status_t tc_conv_1x1_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output)
{
    const tc_status_t status = tc_conv_check(p, input, output);
    tc_conv_params_t dense;
    tc_out_c_t o;
    int32_t b, q, pixels, pair, columns;

    if (status != TC_OK) {
        return status;
    }
    p = tc_conv_decoded(p, &dense);  /* packed weights: once per call */
    if (!tc_conv_is_1x1(p)) {
        return tc_conv_s8(p, input, output);
    }
    o = tc_out_c_setup(&p->requant, p->bias, p->output_zero_point, p->act_min,
                       p->act_max);
    tc_out_c_allow_fast(&o, p->output.c, p->input.c);
    pixels = p->output.h * p->output.w;
    pair = p->weights.format == TC_WEIGHTS_S8 &&
           p->output.c <= TC_PW_PAIR_MAX;
    columns = p->input.c <= TC_COLUMN_MAX &&
              p->output.c >= TC_PW_COLUMN_CHANNELS;
    for (b = 0; b < p->input.n; ++b) {
        int8_t *out = output + b * pixels * p->output.c;
        for (q = 0; q < pixels; ++q, out += p->output.c) {
            const int8_t *in = tc_pw_input(p, input, b, q);
            if (pair && q + 1 < pixels) {
                const int8_t *next = tc_pw_input(p, input, b, q + 1);
                if (columns) {
                    tc_pw_column_pair(p, &o, in, next, out,
                                      out + p->output.c);
                } else {
                    tc_pw_pair(p, &o, in, next, out, out + p->output.c);
                }
                ++q;
                out += p->output.c;
            } else {
                tc_pw_pixel(p, &o, in, out);
            }
        }
    }
    return TC_OK;
}
