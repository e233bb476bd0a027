/*
 * tc_broadcast.h - 4-D broadcasting checks and indexing for ADD and MUL.
 */
#ifndef TC_BROADCAST_H
#define TC_BROADCAST_H

#include "tc_fixedpoint.h"

static inline int32_t tc_bdim_ok(int32_t in, int32_t out)
{
    return in == out || in == 1;
}

/* Nonzero when `in` broadcasts to `out` (each dim equal or 1). */
static inline int32_t tc_broadcasts(const tc_shape_t *in, const tc_shape_t *out)
{
    return tc_bdim_ok(in->n, out->n) && tc_bdim_ok(in->h, out->h) &&
           tc_bdim_ok(in->w, out->w) && tc_bdim_ok(in->c, out->c);
}

/* Offset in `in` of output element (n, h, w, c), size-1 dims pinned to 0. */
static inline int32_t tc_boffset(const tc_shape_t *in, int32_t n, int32_t h,
                                 int32_t w, int32_t c)
{
    return tc_offset(in, in->n == 1 ? 0 : n, in->h == 1 ? 0 : h,
                     in->w == 1 ? 0 : w, in->c == 1 ? 0 : c);
}

#endif /* TC_BROADCAST_H */
