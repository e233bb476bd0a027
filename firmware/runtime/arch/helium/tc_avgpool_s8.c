/*
 * tc_avgpool_s8.c (Helium) - AVERAGE_POOL_2D, 8 channels per vector.
 *
 * Per output pixel and group of 8 channels, VLDRB.S16 loads each in-image
 * tap's 8 channels and VADD.I16 sums them: with at most TC_AVGPOOL_MAX_TAPS
 * (256) taps |sum| <= 256 * 128 fits int16, so the sums are exact (the
 * global pools of DS-CNN, 125 taps, and ResNet-8, 64 taps, take this
 * path). The division is TFLM's, (sum +- count / 2) / count truncating
 * toward zero, done on magnitudes: n = |sum| + count / 2 < 2^16, and for
 * count >= 2, floor(n / count) = (n * m) >> 32 with m = ceil(2^32 / count)
 * (VMULH.U32): writing m * count = 2^32 + e with 0 <= e < count, the
 * error term n * e / (count * 2^32) is below 1 / count, so it never
 * carries past the next integer. The sign is then restored. Larger windows
 * take the per-channel loop with int32 sums.
 *
 * Shifted overlap: each pixel's outputs are written in increasing channel
 * order, each vector of 8 after all reads of its channels, pixels in
 * raster order: every output is written after its reads and, when written,
 * no read of a lower address is still to come.
 */
#include <arm_mve.h>

#include "../../src/tc_pool_common.h"

#define TC_AVGPOOL_MAX_TAPS 256

/* TFLM's rounded average of 4 int32 sums over `count` (>= 2) taps;
 * m = ceil(2^32 / count), half = count / 2. */
static inline int32x4_t tc_avg_div(int32x4_t sum, uint32x4_t m, int32_t half)
{
    const int32x4_t sign = vshrq_n_s32(sum, 31);
    const uint32x4_t n =
        vreinterpretq_u32_s32(vaddq_n_s32(vabsq_s32(sum), half));
    const int32x4_t q = vreinterpretq_s32_u32(vmulhq_u32(n, m));
    return vsubq_s32(veorq_s32(q, sign), sign);
}

/* Channels [c, c + 8) of one output pixel (those `pred` enables when
 * `whole` is 0; `whole` is a constant where this is inlined, so whole
 * groups need no VPST): rows x cols in-image taps from `in` (the first
 * tap's channel c), `row` bytes between input rows. */
__attribute__((always_inline)) static inline void
tc_avg_group(const tc_pool_params_t *p, const int8_t *in, int32_t rows,
             int32_t cols, int32_t row, mve_pred16_t pred, int32_t whole,
             int8_t *out)
{
    const int32_t count = rows * cols;
    int16x8_t sum = vdupq_n_s16(0);
    int32x4_t even, odd;
    int16x8_t r;
    int32_t y, x;

    for (y = 0; y < rows; ++y) {
        const int8_t *t = in + y * row;
        for (x = 0; x < cols; ++x, t += p->input.c) {
            sum = vaddq_s16(sum, whole ? vldrbq_s16(t)
                                       : vldrbq_z_s16(t, pred));
        }
    }
    even = vmovlbq_s16(sum);
    odd = vmovltq_s16(sum);
    if (count > 1) {
        const uint32x4_t m = vdupq_n_u32(0xFFFFFFFFu / (uint32_t)count + 1u);
        even = tc_avg_div(even, m, count / 2);
        odd = tc_avg_div(odd, m, count / 2);
    }
    r = vmovntq_s32(vmovnbq_s32(vuninitializedq_s16(), even), odd);
    r = vminq_s16(vmaxq_s16(r, vdupq_n_s16((int16_t)p->act_min)),
                  vdupq_n_s16((int16_t)p->act_max));
    if (whole) {
        vstrbq_s16(out, r);
    } else {
        vstrbq_p_s16(out, r, pred);
    }
}

/* Channels [c, end) of one output pixel with int32 sums, one at a time:
 * windows of more than TC_AVGPOOL_MAX_TAPS taps. */
static void tc_avg_channels(const tc_pool_params_t *p, const int8_t *in,
                            int32_t rows, int32_t cols, int32_t row,
                            int32_t c, int32_t end, int8_t *out)
{
    const int32_t count = rows * cols;
    int32_t y, x;
    for (; c < end; ++c) {
        int32_t sum = 0;
        for (y = 0; y < rows; ++y) {
            for (x = 0; x < cols; ++x) {
                sum += in[y * row + x * p->input.c + c];
            }
        }
        sum = sum > 0 ? (sum + count / 2) / count
                      : (sum - count / 2) / count;
        out[c] = (int8_t)tc_clamp(sum, p->act_min, p->act_max);
    }
}

tc_status_t tc_avgpool_s8(const tc_pool_params_t *p, const int8_t *input,
                          int8_t *output)
{
    const tc_status_t status = tc_pool_check(p, input, output);
    const int32_t channels = p->input.c;
    const int32_t row = p->input.w * channels;
    int32_t b, oy, ox, c;

    if (status != TC_OK) {
        return status;
    }
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const tc_pool_span_t wy = tc_pool_rows(p, oy);
            for (ox = 0; ox < p->output.w; ++ox) {
                const tc_pool_span_t wx = tc_pool_cols(p, ox);
                const int32_t rows = wy.end - wy.first;
                const int32_t cols = wx.end - wx.first;
                const int8_t *window;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                if (rows <= 0 || cols <= 0) {
                    return TC_ERR_SHAPE;
                }
                window = input + tc_offset(&p->input, b, wy.origin + wy.first,
                                           wx.origin + wx.first, 0);
                for (c = 0; c < channels; c += 8) {
                    if (rows * cols > TC_AVGPOOL_MAX_TAPS) {
                        tc_avg_channels(p, window, rows, cols, row, c,
                                        tc_min_i32(c + 8, channels), out);
                    } else if (c + 8 <= channels) {
                        tc_avg_group(p, window + c, rows, cols, row, 0, 1,
                                     out + c);
                    } else {
                        tc_avg_group(p, window + c, rows, cols, row,
                                     vctp16q((uint32_t)(channels - c)), 0,
                                     out + c);
                    }
                }
            }
        }
    }
    return TC_OK;
}
