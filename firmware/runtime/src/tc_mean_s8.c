/*
 * tc_mean_s8.c - MEAN, int8, 4-D, any set of axes (TFLM reference
 * QuantizedMeanOrSum: exact int32 sum, then one requantisation whose
 * multiplier absorbs 1/count).
 */
#include "tc_fixedpoint.h"

static int32_t tc_clz64(uint64_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 64;
    }
    while ((x & ((uint64_t)1 << 63)) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* Extent of dim d: 0 = n, 1 = h, 2 = w, 3 = c. */
static int32_t tc_dim(const tc_shape_t *s, int32_t d)
{
    return d == 0 ? s->n : d == 1 ? s->h : d == 2 ? s->w : s->c;
}

tc_status_t tc_mean_s8(const tc_mean_params_t *p, const int8_t *input,
                       int8_t *output)
{
    int32_t kept[4];
    int32_t red[4];
    int32_t stride[4];
    int32_t count = 1;
    int32_t outputs = 1;
    int32_t multiplier, shift, d, o;
    int32_t norm;

    if (p == NULL || input == NULL || output == NULL ||
        !tc_shape_valid(&p->input) || p->axis_mask == 0 ||
        p->axis_mask > 15 || !tc_shift_valid(p->shift)) {
        return TC_ERR_ARG;
    }
    stride[3] = 1;
    for (d = 2; d >= 0; --d) {
        stride[d] = stride[d + 1] * tc_dim(&p->input, d + 1);
    }
    for (d = 0; d < 4; ++d) {
        const int32_t reduced = (p->axis_mask >> d) & 1u;
        kept[d] = reduced ? 1 : tc_dim(&p->input, d);
        red[d] = reduced ? tc_dim(&p->input, d) : 1;
        count *= red[d];
        outputs *= kept[d];
    }
    norm = 63 - tc_clz64((uint64_t)count);
    if (norm > 32) {
        norm = 32;
    }
    if (norm > 31 + p->shift) {
        norm = 31 + p->shift;
    }
    multiplier = (int32_t)((((int64_t)p->multiplier) << norm) / count);
    shift = p->shift - norm;

    for (o = 0; o < outputs; ++o) {
        int32_t idx[4];
        int32_t rest = o;
        int32_t r;
        int32_t sum = 0;
        int32_t value;
        for (d = 3; d >= 0; --d) {
            idx[d] = rest % kept[d];
            rest /= kept[d];
        }
        for (r = 0; r < count; ++r) {
            int32_t off = 0;
            int32_t rr = r;
            for (d = 3; d >= 0; --d) {
                off += (idx[d] + rr % red[d]) * stride[d];
                rr /= red[d];
            }
            sum += input[off];
        }
        value = tc_mbqm(sum - p->input_zero_point * count, multiplier, shift) +
                p->output_zero_point;
        output[o] = (int8_t)tc_clamp(value, TC_INT8_MIN, TC_INT8_MAX);
    }
    return TC_OK;
}
