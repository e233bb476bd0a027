/*
 * tc_columns.h - the column pair shared by the portable CONV_2D kernels
 * (general and 1x1), for cores without SIMD (rv32imc, Xtensa, M0).
 *
 * The inputs of two output pixels (a conv window, or a 1x1 input pixel)
 * are copied once to the stack, minus the input zero point, widened to
 * int16 and interleaved: value k of pixel a at xy[2k], of pixel b at
 * xy[2k + 1], 0 for out-of-image taps. The inner loop is then a plain dot
 * product with no tap tests and no subtraction, and four output channels
 * of both pixels share every weight and window load (tc_dot4x2_s16): about
 * 3.1 instructions per MAC on rv32imc. The sums are the reference's exact
 * integers.
 */
#ifndef TC_COLUMNS_H
#define TC_COLUMNS_H

#include <string.h>

#include "tc_dot_rows.h"
#include "tc_out_c.h"

/* Values per pixel (conv: kernel_h * kernel_w * input.c; 1x1: input.c):
 * the interleaved pair takes 4 bytes per value of stack, 2304 bytes. Every
 * MLPerf Tiny conv fits; ResNet-8's widest window is 3x3x64 = 576. */
#define TC_COLUMN_MAX 576
/* Output channels: pixel b's outputs wait in a stack buffer of this many
 * bytes. */
#define TC_COLUMN_CHANNELS_MAX 256

/* n input values from `in`, minus the input zero point, to every second
 * int16 of dst. */
static inline void tc_column_copy(const int8_t *in, int32_t n, int32_t zp,
                                  int16_t *dst)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        dst[2 * j] = (int16_t)(in[j] - zp);
    }
}

/* Two input pixels of n values, minus the input zero point, interleaved
 * into xy in one pass (the 1x1 conv's columns). */
static inline void tc_column_copy2(const int8_t *ina, const int8_t *inb,
                                   int32_t n, int32_t zp, int16_t *xy)
{
    const int8_t *end = ina + n;
    for (; ina != end; ++ina, ++inb, xy += 2) {
        xy[0] = (int16_t)(*ina - zp);
        xy[1] = (int16_t)(*inb - zp);
    }
}

/* n zeros (out-of-image taps) to every second int16 of dst. */
static inline void tc_column_zero(int16_t *dst, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        dst[2 * j] = 0;
    }
}

/* Every output channel of two output pixels from their interleaved
 * columns xy (n values each), dense weights w ([channels][n]): pixel a's
 * outputs are stored as they are computed, b's wait in a stack buffer
 * until the pass is done and go to outb unless it is NULL (a lone last
 * pixel fills both lanes). So each output lands in raster order, after
 * every read of the pair: the CONV_2D shifted-overlap plan holds. */
static void tc_columns_out(const int8_t *w, int32_t channels,
                           const tc_out_c_t *stage, const int16_t *xy,
                           int32_t n, int8_t *outa, int8_t *outb)
{
    /* A local copy: the int8 stores to outa may alias *stage, so through
     * the pointer every output would reload every field. */
    const tc_out_c_t copy = *stage;
    const tc_out_c_t *o = &copy;
    int8_t later[TC_COLUMN_CHANNELS_MAX];
    int32_t oc = 0;
    int32_t j;

    for (; oc + 4 <= channels; oc += 4) {
        int32_t acc[8];
        tc_dot4x2_s16(w + oc * n, n, xy, n, acc);
        for (j = 0; j < 4; ++j) {
            outa[oc + j] = tc_out_c(o, oc + j, acc[j]);
            later[oc + j] = tc_out_c(o, oc + j, acc[4 + j]);
        }
    }
    for (; oc < channels; ++oc) {
        const int8_t *row = w + oc * n;
        int32_t a = 0, b = 0;
        for (j = 0; j < n; ++j) {
            a += row[j] * xy[2 * j];
            b += row[j] * xy[2 * j + 1];
        }
        outa[oc] = tc_out_c(o, oc, a);
        later[oc] = tc_out_c(o, oc, b);
    }
    if (outb != NULL) {
        memcpy(outb, later, (size_t)channels);
    }
}

#endif /* TC_COLUMNS_H */
