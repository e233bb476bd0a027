/*
 * tc_pad_s8.c - PAD / PADV2, int8, 4-D, constant pad value.
 */
#include "tc_fixedpoint.h"

static int32_t tc_inside(int32_t i, int32_t before, int32_t size)
{
    return i >= before && i < before + size;
}

tc_status_t tc_pad_s8(const tc_pad_params_t *p, const int8_t *input,
                      int8_t *output)
{
    const tc_shape_t *in;
    const tc_shape_t *out;
    const tc_shape_t *pre;
    int32_t n, h, w, c;

    if (p == NULL || input == NULL || output == NULL ||
        !tc_shape_valid(&p->input) || !tc_shape_valid(&p->output) ||
        p->before.n < 0 || p->before.h < 0 || p->before.w < 0 ||
        p->before.c < 0 || p->pad_value < TC_INT8_MIN ||
        p->pad_value > TC_INT8_MAX) {
        return TC_ERR_ARG;
    }
    in = &p->input;
    out = &p->output;
    pre = &p->before;
    if (out->n < in->n + pre->n || out->h < in->h + pre->h ||
        out->w < in->w + pre->w || out->c < in->c + pre->c) {
        return TC_ERR_SHAPE;
    }
    for (n = 0; n < out->n; ++n) {
        for (h = 0; h < out->h; ++h) {
            for (w = 0; w < out->w; ++w) {
                for (c = 0; c < out->c; ++c) {
                    int8_t value = (int8_t)p->pad_value;
                    if (tc_inside(n, pre->n, in->n) &&
                        tc_inside(h, pre->h, in->h) &&
                        tc_inside(w, pre->w, in->w) &&
                        tc_inside(c, pre->c, in->c)) {
                        value = input[tc_offset(in, n - pre->n, h - pre->h,
                                                w - pre->w, c - pre->c)];
                    }
                    output[tc_offset(out, n, h, w, c)] = value;
                }
            }
        }
    }
    return TC_OK;
}
