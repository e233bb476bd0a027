/*
 * tc_dot_rows.h - four int8 dot products that share every input load (and
 * for two inputs, every weight load), in plain C99: the inner loops of the
 * portable CONV_2D (general and 1x1) and FULLY_CONNECTED kernels, for
 * cores without SIMD (rv32imc, Xtensa, M0).
 *
 * Each input byte is offset by the input zero point once and feeds four
 * weight rows, so a multiply-accumulate costs a weight load, a multiply
 * and an add; the loop is unrolled by two so the five pointers advance
 * once per two bytes (by four, GCC -O2 for rv32imc spills registers: 4.3
 * instructions per MAC instead of 4.25). The sums are the reference's
 * exact integers.
 */
#ifndef TC_DOT_ROWS_H
#define TC_DOT_ROWS_H

#include <stdint.h>

/* Byte k of the four rows and of the input into a0..a3 (written out: GCC
 * -O2 keeps a counted inner loop otherwise). */
#define TC_DOT4_STEP(k)                                                      \
    do {                                                                     \
        const int32_t v_ = (int32_t)x[k] - zp;                               \
        a0 += (int32_t)w0[k] * v_;                                           \
        a1 += (int32_t)w1[k] * v_;                                           \
        a2 += (int32_t)w2[k] * v_;                                           \
        a3 += (int32_t)w3[k] * v_;                                           \
    } while (0)

/* acc[r] = sum_j w[r * stride + j] * (x[j] - zp), r < 4, j < n. */
static inline void tc_dot4_s8(const int8_t *w, int32_t stride,
                              const int8_t *x, int32_t n, int32_t zp,
                              int32_t acc[4])
{
    const int8_t *w0 = w;
    const int8_t *w1 = w0 + stride;
    const int8_t *w2 = w1 + stride;
    const int8_t *w3 = w2 + stride;
    const int8_t *end = x + (n & ~1);
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;

    for (; x != end; x += 2, w0 += 2, w1 += 2, w2 += 2, w3 += 2) {
        TC_DOT4_STEP(0);
        TC_DOT4_STEP(1);
    }
    if (n & 1) {
        TC_DOT4_STEP(0);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Byte k of the four rows times input value u into a0..a3 and times v
 * into b0..b3: each weight byte is loaded once for both inputs. */
#define TC_DOT4X2_MAC(k, u, v)                                               \
    do {                                                                     \
        const int32_t u_ = (u);                                              \
        const int32_t v_ = (v);                                              \
        int32_t t_ = w0[k];                                                  \
        a0 += t_ * u_;                                                       \
        b0 += t_ * v_;                                                       \
        t_ = w1[k];                                                          \
        a1 += t_ * u_;                                                       \
        b1 += t_ * v_;                                                       \
        t_ = w2[k];                                                          \
        a2 += t_ * u_;                                                       \
        b2 += t_ * v_;                                                       \
        t_ = w3[k];                                                          \
        a3 += t_ * u_;                                                       \
        b3 += t_ * v_;                                                       \
    } while (0)

/* Byte k of the four rows into a0..a3 for input x and b0..b3 for input y. */
#define TC_DOT4X2_STEP(k)                                                    \
    TC_DOT4X2_MAC(k, (int32_t)x[k] - zp, (int32_t)y[k] - zp)

/* tc_dot4_s8 for two inputs x and y at once (two output pixels of a 1x1
 * conv): acc[r] for x, acc[4 + r] for y. Per weight byte two multiply-
 * accumulates, so 3.6 instructions per MAC on rv32imc instead of 4.25. */
static inline void tc_dot4x2_s8(const int8_t *w, int32_t stride,
                                const int8_t *x, const int8_t *y, int32_t n,
                                int32_t zp, int32_t acc[8])
{
    const int8_t *w0 = w;
    const int8_t *w1 = w0 + stride;
    const int8_t *w2 = w1 + stride;
    const int8_t *w3 = w2 + stride;
    const int8_t *end = x + (n & ~1);
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t b0 = 0, b1 = 0, b2 = 0, b3 = 0;

    for (; x != end; x += 2, y += 2, w0 += 2, w1 += 2, w2 += 2, w3 += 2) {
        TC_DOT4X2_STEP(0);
        TC_DOT4X2_STEP(1);
    }
    if (n & 1) {
        TC_DOT4X2_STEP(0);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
}

/* Window value k of both pixels (xy[2k], xy[2k + 1]) times byte k of the
 * four rows into a0..a3 and b0..b3. */
#define TC_DOT4X2_S16_STEP(k)                                                \
    TC_DOT4X2_MAC(k, xy[2 * (k)], xy[2 * (k) + 1])

/* tc_dot4x2_s8 for two inputs already offset by the input zero point and
 * widened to int16, interleaved (xy[2k] pixel a, xy[2k + 1] pixel b: one
 * pointer for both): the conv column pairs of tc_columns.h. No
 * subtraction in the loop: 50 instructions per 16 multiply-accumulates
 * on rv32imc (unrolled by four, GCC -O2 hoists the loads and spills the
 * accumulators). */
static inline void tc_dot4x2_s16(const int8_t *w, int32_t stride,
                                 const int16_t *xy, int32_t n, int32_t acc[8])
{
    const int8_t *w0 = w;
    const int8_t *w1 = w0 + stride;
    const int8_t *w2 = w1 + stride;
    const int8_t *w3 = w2 + stride;
    const int16_t *end = xy + 2 * (n & ~1);
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t b0 = 0, b1 = 0, b2 = 0, b3 = 0;

    for (; xy != end; xy += 4, w0 += 2, w1 += 2, w2 += 2, w3 += 2) {
        TC_DOT4X2_S16_STEP(0);
        TC_DOT4X2_S16_STEP(1);
    }
    if (n & 1) {
        TC_DOT4X2_S16_STEP(0);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
}

#undef TC_DOT4_STEP
#undef TC_DOT4X2_MAC
#undef TC_DOT4X2_STEP
#undef TC_DOT4X2_S16_STEP

#endif /* TC_DOT_ROWS_H */
