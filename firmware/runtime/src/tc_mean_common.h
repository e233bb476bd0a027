/*
 * tc_mean_common.h - MEAN argument checks, TFLM's folding of 1/count into
 * the multiplier, and the general loop over any set of axes; shared by the
 * reference kernel and the architecture-optimised variants (which fall
 * back to the loop for axes their fast path does not take).
 */
#ifndef TC_MEAN_COMMON_H
#define TC_MEAN_COMMON_H

#include "tc_fixedpoint.h"

/* The reduction a MEAN layer performs, derived once per call. */
typedef struct {
    int32_t kept[4];     /* output extent of dim d: 0 = n, 1 = h, 2 = w, 3 = c */
    int32_t red[4];      /* reduced extent of dim d (1 when kept) */
    int32_t stride[4];   /* input elements between steps of dim d */
    int32_t count;       /* elements averaged per output */
    int32_t outputs;
    int32_t multiplier;  /* the layer's, with 1/count folded in */
    int32_t shift;
} tc_mean_plan_t;

static inline int32_t tc_mean_clz64(uint64_t x)
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
static inline int32_t tc_mean_dim(const tc_shape_t *s, int32_t d)
{
    return d == 0 ? s->n : d == 1 ? s->h : d == 2 ? s->w : s->c;
}

/* Checks the arguments and fills *m (TFLM's QuantizedMeanOrSum: the
 * multiplier absorbs 1/count with as much precision as the shift allows). */
static inline tc_status_t tc_mean_prepare(const tc_mean_params_t *p,
                                          const int8_t *input,
                                          const int8_t *output,
                                          tc_mean_plan_t *m)
{
    int32_t d, norm;

    if (p == NULL || input == NULL || output == NULL ||
        !tc_shape_valid(&p->input) || p->axis_mask == 0 ||
        p->axis_mask > 15 || !tc_shift_valid(p->shift)) {
        return TC_ERR_ARG;
    }
    m->stride[3] = 1;
    for (d = 2; d >= 0; --d) {
        m->stride[d] = m->stride[d + 1] * tc_mean_dim(&p->input, d + 1);
    }
    m->count = 1;
    m->outputs = 1;
    for (d = 0; d < 4; ++d) {
        const int32_t reduced = (p->axis_mask >> d) & 1u;
        m->kept[d] = reduced ? 1 : tc_mean_dim(&p->input, d);
        m->red[d] = reduced ? tc_mean_dim(&p->input, d) : 1;
        m->count *= m->red[d];
        m->outputs *= m->kept[d];
    }
    norm = 63 - tc_mean_clz64((uint64_t)m->count);
    if (norm > 32) {
        norm = 32;
    }
    if (norm > 31 + p->shift) {
        norm = 31 + p->shift;
    }
    m->multiplier =
        (int32_t)((((int64_t)p->multiplier) << norm) / m->count);
    m->shift = p->shift - norm;
    return TC_OK;
}

/* Every output in order: exact int32 sum, then one requantisation. */
static inline void tc_mean_general(const tc_mean_params_t *p,
                                   const tc_mean_plan_t *m,
                                   const int8_t *input, int8_t *output)
{
    int32_t o, d;

    for (o = 0; o < m->outputs; ++o) {
        int32_t idx[4];
        int32_t rest = o;
        int32_t r;
        int32_t sum = 0;
        int32_t value;
        for (d = 3; d >= 0; --d) {
            idx[d] = rest % m->kept[d];
            rest /= m->kept[d];
        }
        for (r = 0; r < m->count; ++r) {
            int32_t off = 0;
            int32_t rr = r;
            for (d = 3; d >= 0; --d) {
                off += (idx[d] + rr % m->red[d]) * m->stride[d];
                rr /= m->red[d];
            }
            sum += input[off];
        }
        value = tc_mbqm(sum - p->input_zero_point * m->count, m->multiplier,
                        m->shift) +
                p->output_zero_point;
        output[o] = (int8_t)tc_clamp(value, TC_INT8_MIN, TC_INT8_MAX);
    }
}

#endif /* TC_MEAN_COMMON_H */
