/*
 * tc_quantize_f32_s8.c - QUANTIZE float32 -> int8 (TFLM's AffineQuantize:
 * x / scale in float, rounded half away from zero). Rounds without libm so
 * the runtime links on bare-metal toolchains.
 */
#include "tc_fixedpoint.h"

static int32_t tc_round_sat(float q)
{
    int32_t r;
    float frac;
    if (!(q == q)) {
        return 0;
    }
    if (q > 1073741824.0f) {
        return 1073741824;
    }
    if (q < -1073741824.0f) {
        return -1073741824;
    }
    r = (int32_t)q;
    frac = q - (float)r;
    if (frac >= 0.5f) {
        ++r;
    } else if (frac <= -0.5f) {
        --r;
    }
    return r;
}

tc_status_t tc_quantize_f32_s8(const tc_quantize_f32_params_t *p,
                               const float *input, int8_t *output)
{
    int32_t i;

    if (p == NULL || input == NULL || output == NULL || p->size < 0 ||
        !(p->scale > 0.0f)) {
        return TC_ERR_ARG;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t value =
            tc_round_sat(input[i] / p->scale) + p->zero_point;
        output[i] = (int8_t)tc_clamp(value, TC_INT8_MIN, TC_INT8_MAX);
    }
    return TC_OK;
}
