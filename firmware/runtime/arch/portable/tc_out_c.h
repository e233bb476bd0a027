/*
 * tc_out_c.h - the output stage (bias + requantise + clamp) of the portable
 * conv, pointwise, depthwise and fully connected kernels, in plain C99:
 * TFLM's MultiplyByQuantizedMultiplier bit for bit, in about half the
 * instructions of tc_mbqm on 32-bit cores when every channel of the layer
 * allows the short form of tc_out_c(), and tc_mbqm itself otherwise. The
 * layer-wide form of src/tc_output.h's tc_out_s8(), kept apart: routing
 * its general branch through tc_out_s8 costs the depthwise kernel 1.7 %
 * more instructions on rv32imc (GCC 12 -O2).
 *
 * The layer's parameters are copied into a tc_out_c_t once per call: each
 * int8 output store may alias the params struct, so reading them through
 * it would make the compiler reload every field after every output.
 */
#ifndef TC_OUT_C_H
#define TC_OUT_C_H

#include "../../src/tc_fixedpoint.h"

typedef struct {
    const int32_t *bias; /* NULL: no bias */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t qstep; /* 1: per-channel requantisation, 0: per-tensor */
    int32_t zp;    /* output zero point */
    int32_t zp2;   /* 2 * zp + 1, for the short form's last shift */
    int32_t act_min, act_max;
    int32_t fast; /* every channel takes the short form */
} tc_out_c_t;

/* The general form for every channel; tc_out_c_allow_fast() may then
 * enable the short one. */
static inline tc_out_c_t tc_out_c_setup(const tc_requant_t *rq,
                                        const int32_t *bias, int32_t zp,
                                        int32_t act_min, int32_t act_max)
{
    tc_out_c_t o;
    o.bias = bias;
    o.multiplier = rq->multiplier;
    o.shift = rq->shift;
    o.qstep = rq->per_channel ? 1 : 0;
    o.zp = zp;
    o.zp2 = 2 * zp + 1;
    o.act_min = act_min;
    o.act_max = act_max;
    o.fast = 0;
    return o;
}

/* Enables the short form when every accumulator stays below 2^30 in
 * magnitude and every shift is a right shift: `terms` products of an int8
 * weight and (input - zero point), each at most 128 * 255 < 2^15, are
 * summed per output, so with at most 2^14 terms and |bias| < 2^29 the
 * bound holds. */
static inline void tc_out_c_allow_fast(tc_out_c_t *o, int32_t channels,
                                       int32_t terms)
{
    int32_t c;
    o->fast = terms <= (1 << 14);
    for (c = 0; c < channels && o->fast; ++c) {
        const int32_t b = o->bias != NULL ? o->bias[c] : 0;
        o->fast = o->shift[c * o->qstep] < 0 && b > -(1 << 29) &&
                  b < (1 << 29);
    }
}

/* MultiplyByQuantizedMultiplier(acc, multiplier[q], shift[q]) + zp.
 *
 * Short form, for |acc| < 2^30 and shift <= -1: no left shift, and
 * SaturatingRoundingDoublingHighMul cannot saturate, so it is
 * floor((acc * m + 2^30) / 2^31) = floor((2 acc * m + 2^31) / 2^32), one
 * 32x32 -> 64-bit product and its high word. RoundingDivideByPOT(x, e),
 * half away from zero, equals (((x - (x < 0)) >> (e - 1)) + 1) >> 1, with
 * e - 1 = ~shift; the zero point joins the last shift as 2 * zp + 1. */
static inline int32_t tc_out_c_scale(const tc_out_c_t *o, int32_t q,
                                     int32_t acc)
{
    int32_t x;
    if (o->fast) {
        x = (int32_t)(((int64_t)(acc * 2) * o->multiplier[q] +
                       ((int64_t)1 << 31)) >>
                      32);
        x -= (int32_t)((uint32_t)x >> 31);
        return ((x >> ~o->shift[q]) + o->zp2) >> 1;
    }
    return tc_mbqm(acc, o->multiplier[q], o->shift[q]) + o->zp;
}

/* Output channel c for accumulator `acc` (bias not yet added). */
static inline int8_t tc_out_c(const tc_out_c_t *o, int32_t c, int32_t acc)
{
    if (o->bias != NULL) {
        acc += o->bias[c];
    }
    return (int8_t)tc_clamp(tc_out_c_scale(o, c * o->qstep, acc), o->act_min,
                            o->act_max);
}

#endif /* TC_OUT_C_H */
