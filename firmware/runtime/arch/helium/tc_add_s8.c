/*
 * tc_add_s8.c (Helium) - ADD. Inputs of the output's shape (ResNet's
 * residual adds) run TFLM's arithmetic on 4 int32 lanes; broadcasting
 * takes the reference loop of src/tc_add_common.h.
 *
 * Per lane, as src/tc_add_s8.c: each input (q - zp) << left_shift (one
 * VMLAS: q * 2^left_shift + (-zp * 2^left_shift), wrapping as TFLM's
 * shift does), rescaled by MultiplyByQuantizedMultiplier with its
 * (multiplier, shift), the two summed, the sum rescaled to the output,
 * the zero point added and the result clamped. The rescaling is
 * tc_requant_mve.h's, bit-exact for every shift the kernel accepts
 * (<= 0), so the result equals TFLM's for any parameters, not only
 * TFLM's usual left_shift of 20. A shift of 0 (the larger-scale input's)
 * has no rounding divide: the loop is instantiated for the shift signs
 * TFLM produces, the general masked form covering the others. Each group
 * of 4 outputs is stored after its 4 inputs are read, so an output written
 * over an input (the planner's in-place ADD) is still correct.
 */
#include "../../src/tc_add_common.h"
#include "tc_requant_mve.h"

/* MultiplyByQuantizedMultiplier(x, m, s) for s <= 0, m and s broadcast
 * from scalar registers (the scalar forms of VQRDMULH and VRSHL leave the
 * Q registers to the data). `right`: 1 when s < 0, 0 when s == 0, -1 when
 * either (tc_rdbypot_mve's masked fix). */
__attribute__((always_inline)) static inline int32x4_t
tc_add_rescale(int32x4_t x, int32_t m, int32_t s, int32_t right)
{
    const int32x4_t y = vqrdmulhq_n_s32(x, m);
    if (right == 1) {
        return vrshlq_n_s32(vaddq_s32(y, vshrq_n_s32(y, 31)), s);
    }
    if (right == 0) {
        return y;
    }
    return tc_rdbypot_mve(y, vdupq_n_s32(s));
}

/* One group of up to 4 elements (`whole` 0: those `pred` enables). */
__attribute__((always_inline)) static inline void
tc_add_group(const tc_add_params_t *p, const int8_t *in1, const int8_t *in2,
             int8_t *out, mve_pred16_t pred, int32_t whole, int32_t r1,
             int32_t r2, int32_t ro)
{
    const int32x4_t scale = vdupq_n_s32((int32_t)(1u << p->left_shift));
    const int32_t off1 =
        (int32_t)((uint32_t)-p->input1_zero_point << p->left_shift);
    const int32_t off2 =
        (int32_t)((uint32_t)-p->input2_zero_point << p->left_shift);
    const int32x4_t a = whole ? vldrbq_s32(in1) : vldrbq_z_s32(in1, pred);
    const int32x4_t b = whole ? vldrbq_s32(in2) : vldrbq_z_s32(in2, pred);
    const int32x4_t sum = vaddq_s32(
        tc_add_rescale(vmlasq_n_s32(a, scale, off1), p->input1_multiplier,
                       p->input1_shift, r1),
        tc_add_rescale(vmlasq_n_s32(b, scale, off2), p->input2_multiplier,
                       p->input2_shift, r2));
    int32x4_t r = tc_add_rescale(sum, p->output_multiplier, p->output_shift,
                                 ro);
    r = vminq_s32(vmaxq_s32(vaddq_n_s32(r, p->output_zero_point),
                            vdupq_n_s32(p->act_min)),
                  vdupq_n_s32(p->act_max));
    if (whole) {
        vstrbq_s32(out, r);
    } else {
        vstrbq_p_s32(out, r, pred);
    }
}

/* `size` elements, no broadcasting. The parameters are copied first: a
 * byte store may alias them, which would reload every constant per
 * group. */
__attribute__((always_inline)) static inline void
tc_add_run(const tc_add_params_t *params, const int8_t *input1,
           const int8_t *input2, int8_t *output, int32_t size, int32_t r1,
           int32_t r2, int32_t ro)
{
    const tc_add_params_t p = *params;
    int32_t i;

    for (i = 0; i + 4 <= size; i += 4) {
        tc_add_group(&p, input1 + i, input2 + i, output + i, 0, 1, r1, r2,
                     ro);
    }
    if (i < size) {
        tc_add_group(&p, input1 + i, input2 + i, output + i,
                     vctp32q((uint32_t)(size - i)), 0, r1, r2, ro);
    }
}

/* TFLM's shift signs, named input1, input2, output: r a negative shift, 0
 * none. One input has shift 0 (the larger scale; both when the scales are
 * equal), the output a negative one. */
static void tc_add_r0r(const tc_add_params_t *p, const int8_t *input1,
                       const int8_t *input2, int8_t *output, int32_t size)
{
    tc_add_run(p, input1, input2, output, size, 1, 0, 1);
}

static void tc_add_0rr(const tc_add_params_t *p, const int8_t *input1,
                       const int8_t *input2, int8_t *output, int32_t size)
{
    tc_add_run(p, input1, input2, output, size, 0, 1, 1);
}

static void tc_add_00r(const tc_add_params_t *p, const int8_t *input1,
                       const int8_t *input2, int8_t *output, int32_t size)
{
    tc_add_run(p, input1, input2, output, size, 0, 0, 1);
}

/* Any other signs, per lane. */
static void tc_add_masked(const tc_add_params_t *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output, int32_t size)
{
    tc_add_run(p, input1, input2, output, size, -1, -1, -1);
}

static int32_t tc_add_shape_equal(const tc_shape_t *a, const tc_shape_t *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

tc_status_t tc_add_s8(const tc_add_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output)
{
    const tc_status_t status = tc_add_check(p, input1, input2, output);
    int32_t size;

    if (status != TC_OK) {
        return status;
    }
    if (!tc_add_shape_equal(&p->input1, &p->output) ||
        !tc_add_shape_equal(&p->input2, &p->output)) {
        tc_add_broadcast(p, input1, input2, output);
        return TC_OK;
    }
    size = p->output.n * p->output.h * p->output.w * p->output.c;
    if (p->output_shift < 0 && p->input1_shift < 0 && p->input2_shift == 0) {
        tc_add_r0r(p, input1, input2, output, size);
    } else if (p->output_shift < 0 && p->input1_shift == 0 &&
               p->input2_shift < 0) {
        tc_add_0rr(p, input1, input2, output, size);
    } else if (p->output_shift < 0 && p->input1_shift == 0 &&
               p->input2_shift == 0) {
        tc_add_00r(p, input1, input2, output, size);
    } else {
        tc_add_masked(p, input1, input2, output, size);
    }
    return TC_OK;
}
