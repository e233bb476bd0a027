/*
 * tc_add_fast.h - ADD of two inputs of the output's shape (ResNet's
 * residual adds), exact TFLM arithmetic in 32-bit steps, 4 elements per
 * iteration. Shared by arch/portable and arch/cortex-m-dsp, which differ
 * only in tc_smmlar(), defined before including this file:
 *   a + round(v * m / 2^32), rounding half up (Arm's SMMLAR).
 * The including file gets tc_add_s8() itself from here.
 *
 * TFLM rescales each input as MultiplyByQuantizedMultiplier((q - zp) <<
 * left_shift, m, s): SaturatingRoundingDoublingHighMul, then
 * RoundingDivideByPOT by e = -s. With |q - zp| <= 255 and left_shift <= 20
 * nothing saturates or wraps, and the high multiply,
 * floor(((q - zp) * 2^ls * m + 2^30) / 2^31), is
 * floor(((q - zp) * 2^(ls + 1) * m + 2^31) / 2^32). SMMLAR adds the
 * divide's rounding half 2^(e - 1) in the same step, and the divide's
 * "one less when negative" takes the sign of (q - zp): multipliers are
 * >= 0, so the product has that sign, and when it rounds to 0 the
 * correction vanishes in the shift. That needs e >= 1; the input with the
 * larger scale has e = 0 and m = 2^30 (a factor of exactly 1/2), which is
 * the same as e = 1 on (q - zp) * 2^(ls + 2). The output step is the same
 * on 2 * (sum of the two), with the output zero point folded into its
 * rounding half. Constants are derived once per call, so results equal
 * src/tc_add_s8.c bit for bit; broadcasting and other constants take its
 * general loop.
 */
#ifndef TC_ADD_FAST_H
#define TC_ADD_FAST_H

#include "../../src/tc_add_common.h"

/* One rescaling step (q - zp) -> round(q * scale + offset, multiplier) >>
 * shift, as above; shift >= 1. */
typedef struct {
    int32_t scale;       /* 2^(left_shift + 1), 2^(left_shift + 2) for e 0 */
    int32_t offset;      /* -zero_point * scale */
    int32_t multiplier;
    int32_t half;        /* 2^(shift - 1) (+ output zero point << shift) */
    int32_t shift;
} tc_add_step_t;

static inline int32_t tc_add_rescale(int32_t v, const tc_add_step_t *s)
{
    return (tc_smmlar(v, s->multiplier, s->half) + (v >> 31)) >> s->shift;
}

/* The step for an input (zero point zp) or, with zp 0, the output; 0 when
 * the constants are outside the fast path. */
static int32_t tc_add_step(tc_add_step_t *s, int32_t left_shift, int32_t zp,
                           int32_t multiplier, int32_t shift)
{
    const int32_t exact_half = shift == 0 && multiplier == 0x40000000;
    if (multiplier < 0 || (shift == 0 && !exact_half)) {
        return 0;
    }
    s->scale = (int32_t)((exact_half ? 4u : 2u) << left_shift);
    s->offset = -zp * s->scale;
    s->multiplier = multiplier;
    s->shift = exact_half ? 1 : -shift;
    s->half = (int32_t)(1u << (s->shift - 1));
    return 1;
}

/* The elementwise loop, constants held in locals so they stay in
 * registers; 4 elements per iteration. */
static void tc_add_same_shape(const tc_add_step_t *s1, const tc_add_step_t *s2,
                              const tc_add_step_t *so, int32_t act_min,
                              int32_t act_max, int32_t size,
                              const int8_t *input1, const int8_t *input2,
                              int8_t *output)
{
    const tc_add_step_t in1 = *s1, in2 = *s2, out = *so;
    int32_t i = 0;

#define TC_ADD_ONE(k)                                                        \
    do {                                                                     \
        const int32_t a = tc_add_rescale(                                    \
            input1[i + (k)] * in1.scale + in1.offset, &in1);                 \
        const int32_t b = tc_add_rescale(                                    \
            input2[i + (k)] * in2.scale + in2.offset, &in2);                 \
        output[i + (k)] = (int8_t)tc_clamp(                                  \
            tc_add_rescale((a + b) * 2, &out), act_min, act_max);            \
    } while (0)

    for (; i + 4 <= size; i += 4) {
        TC_ADD_ONE(0);
        TC_ADD_ONE(1);
        TC_ADD_ONE(2);
        TC_ADD_ONE(3);
    }
    for (; i < size; ++i) {
        TC_ADD_ONE(0);
    }
#undef TC_ADD_ONE
}

/* ADD of two inputs of the output's shape (arguments already checked);
 * 0, with nothing written, when the constants are outside the fast path. */
static int32_t tc_add_same_shape_fast(const tc_add_params_t *p,
                                      const int8_t *input1,
                                      const int8_t *input2, int8_t *output)
{
    tc_add_step_t in1, in2, out;

    /* The output step's |2 * sum| < 2^30 leaves room for the zero point
     * << shift when shift <= 22 (TFLM's constants give about 19). */
    if (p->input1.n != p->output.n || p->input1.h != p->output.h ||
        p->input1.w != p->output.w || p->input1.c != p->output.c ||
        p->input2.n != p->output.n || p->input2.h != p->output.h ||
        p->input2.w != p->output.w || p->input2.c != p->output.c ||
        p->left_shift > 20 || p->output_shift < -22 ||
        !tc_add_step(&in1, p->left_shift, p->input1_zero_point,
                     p->input1_multiplier, p->input1_shift) ||
        !tc_add_step(&in2, p->left_shift, p->input2_zero_point,
                     p->input2_multiplier, p->input2_shift) ||
        !tc_add_step(&out, 0, 0, p->output_multiplier, p->output_shift) ||
        out.shift != -p->output_shift) {
        return 0;
    }
    out.half += (int32_t)((uint32_t)p->output_zero_point << out.shift);
    tc_add_same_shape(&in1, &in2, &out, p->act_min, p->act_max,
                      p->output.n * p->output.h * p->output.w * p->output.c,
                      input1, input2, output);
    return 1;
}

/* The kernel itself, the same for every arch that includes this file. */
tc_status_t tc_add_s8(const tc_add_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    const tc_status_t status = tc_add_check(p, input1, input2, output);

    if (status != TC_OK) {
        return status;
    }
    if (!tc_add_same_shape_fast(p, input1, input2, output)) {
        tc_add_broadcast(p, input1, input2, output);
    }
    return TC_OK;
}

#endif /* TC_ADD_FAST_H */
