/*
 * tc_pool_common.h - argument checks and window bounds shared by the
 * pooling kernels.
 */
#ifndef TC_POOL_COMMON_H
#define TC_POOL_COMMON_H

#include "tc_fixedpoint.h"

static inline tc_status_t tc_pool_check(const tc_pool_params_t *p,
                                        const int8_t *input,
                                        const int8_t *output)
{
    if (p == NULL || input == NULL || output == NULL ||
        !tc_shape_valid(&p->input) || !tc_shape_valid(&p->output) ||
        p->filter_h < 1 || p->filter_w < 1 || p->stride_h < 1 ||
        p->stride_w < 1 || p->pad_top < 0 || p->pad_left < 0 ||
        !tc_act_valid(p->act_min, p->act_max)) {
        return TC_ERR_ARG;
    }
    if (p->output.n != p->input.n || p->output.c != p->input.c) {
        return TC_ERR_SHAPE;
    }
    return TC_OK;
}

static inline int32_t tc_max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static inline int32_t tc_min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/* The window of one output position along one axis: the input index of
 * filter tap 0 and the taps [first, end) inside the input (TFLM skips the
 * padding taps rather than reading zeros). */
typedef struct {
    int32_t origin;
    int32_t first;
    int32_t end;
} tc_pool_span_t;

static inline tc_pool_span_t tc_pool_span(int32_t out, int32_t stride,
                                          int32_t pad, int32_t filter,
                                          int32_t size)
{
    tc_pool_span_t s;
    s.origin = out * stride - pad;
    s.first = tc_max_i32(0, -s.origin);
    s.end = tc_min_i32(filter, size - s.origin);
    return s;
}

/* The window rows of output row oy. */
static inline tc_pool_span_t tc_pool_rows(const tc_pool_params_t *p,
                                          int32_t oy)
{
    return tc_pool_span(oy, p->stride_h, p->pad_top, p->filter_h,
                        p->input.h);
}

/* The window columns of output column ox. */
static inline tc_pool_span_t tc_pool_cols(const tc_pool_params_t *p,
                                          int32_t ox)
{
    return tc_pool_span(ox, p->stride_w, p->pad_left, p->filter_w,
                        p->input.w);
}

#endif /* TC_POOL_COMMON_H */
