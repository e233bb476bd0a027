/*
 * tc_mean_s8.c (Helium) - MEAN. The mean over height and width (axis mask
 * 6: MobileNet's global pooling, 3x3x256 -> 256 in VWW) sums 4 channels
 * per vector, one VLDRB.S32 and one VADD per pixel, in int32 lanes that
 * wrap exactly as the reference's int32 sum; the zero-point term, TFLM's
 * requantisation (tc_requant_mve.h, any shift) and the int8 clamp follow
 * on the 4 lanes. Other axes take the general loop of
 * src/tc_mean_common.h. Outputs are written in order, each after all its
 * reads.
 */
#include "../../src/tc_mean_common.h"
#include "tc_requant_mve.h"

/* Outputs [c, c + 4) of batch b (those `pred` enables when `whole` is 0;
 * a constant where this is inlined, so whole groups need no VPST). */
__attribute__((always_inline)) static inline void
tc_mean_group(const int8_t *in, int32_t pixels, int32_t channels,
              int32_t offset, int32x4_t mult, int32x4_t shift, int32_t zp,
              mve_pred16_t pred, int32_t whole, int8_t *out)
{
    int32x4_t sum = vdupq_n_s32(0);
    int32_t i;
    for (i = 0; i < pixels; ++i, in += channels) {
        sum = vaddq_s32(sum, whole ? vldrbq_s32(in) : vldrbq_z_s32(in, pred));
    }
    sum = vaddq_n_s32(tc_mbqm_mve(vaddq_n_s32(sum, offset), mult, shift),
                      zp);
    sum = vminq_s32(vmaxq_s32(sum, vdupq_n_s32(TC_INT8_MIN)),
                    vdupq_n_s32(TC_INT8_MAX));
    if (whole) {
        vstrbq_s32(out, sum);
    } else {
        vstrbq_p_s32(out, sum, pred);
    }
}

tc_status_t tc_mean_s8(const tc_mean_params_t *p, const int8_t *input,
                       int8_t *output)
{
    tc_mean_plan_t m;
    const tc_status_t status = tc_mean_prepare(p, input, output, &m);
    const int32_t channels = p->input.c;
    const int32_t pixels = p->input.h * p->input.w;
    int32x4_t mult, shift;
    int32_t offset, zp, b, c;

    if (status != TC_OK) {
        return status;
    }
    if (p->axis_mask != 6) {
        tc_mean_general(p, &m, input, output);
        return TC_OK;
    }
    mult = vdupq_n_s32(m.multiplier);
    shift = vdupq_n_s32(m.shift);
    offset = -p->input_zero_point * m.count;
    zp = p->output_zero_point;
    for (b = 0; b < p->input.n; ++b) {
        const int8_t *in = input + b * pixels * channels;
        int8_t *out = output + b * channels;
        for (c = 0; c + 4 <= channels; c += 4) {
            tc_mean_group(in + c, pixels, channels, offset, mult, shift, zp,
                          0, 1, out + c);
        }
        if (c < channels) {
            tc_mean_group(in + c, pixels, channels, offset, mult, shift, zp,
                          vctp32q((uint32_t)(channels - c)), 0, out + c);
        }
    }
    return TC_OK;
}
