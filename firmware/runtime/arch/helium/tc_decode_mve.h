/*
 * tc_decode_mve.h - decoding packed CONV_2D weights into their scratch
 * (tc_conv_decoded of src/tc_weights.h) with Helium, for the Helium conv
 * kernels: their dense loops are several times faster than the DSP ones,
 * so the scalar decode would cost a packed layer up to 1.4x its dense
 * twin (issue 9 asks for at most 1.15x).
 *
 * 4-bit palette, rows of an even length: 16 index bytes give 32 weights
 * with two 16-lane byte gathers from the row's palette (low nibbles,
 * high nibbles) and one interleaving store (VST20/VST21). Sparse bitmap:
 * the scratch is zeroed 16 bytes per store, then each set bit of a 32-bit
 * bitmap word is found with CLZ (on the bit-reversed word) and gets the
 * next nonzero value, six instructions per nonzero weight. Both give
 * exactly the bytes of tc_weights_decode.
 */
#ifndef TC_DECODE_MVE_H
#define TC_DECODE_MVE_H

#include <string.h>

#include "../../src/tc_weights.h"
#include "tc_gemm_mve.h"

/* Palette weights, whole rows of an even length `row`. */
static inline void tc_palette4_decode_mve(const tc_palette4_t *pal,
                                          int32_t elements, int32_t row,
                                          int8_t *out)
{
    int32_t channel, i;
    for (channel = 0, i = 0; i < elements; ++channel, i += row) {
        const int8_t *values = tc_palette4_row(pal, channel);
        const uint8_t *idx = pal->indices + i / 2;
        int8_t *dst = out + i;
        int32_t n = row;
        int8x16x2_t v;
        for (; n >= 32; n -= 32, idx += 16, dst += 32) {
            const uint8x16_t b = vldrbq_u8(idx);
            v.val[0] = vldrbq_gather_offset_s8(values,
                                               vandq_u8(b, vdupq_n_u8(15)));
            v.val[1] = vldrbq_gather_offset_s8(values, vshrq_n_u8(b, 4));
            vst2q_s8(dst, v);
        }
        if (n > 0) {
            /* The row's last n < 32 weights, through a small buffer: the
             * interleaving store has no predicated form. */
            int8_t tail[32];
            const uint8x16_t b =
                vldrbq_z_u8(idx, vctp8q((uint32_t)(n / 2)));
            v.val[0] = vldrbq_gather_offset_s8(values,
                                               vandq_u8(b, vdupq_n_u8(15)));
            v.val[1] = vldrbq_gather_offset_s8(values, vshrq_n_u8(b, 4));
            vst2q_s8(tail, v);
            tc_mve_copy(dst, tail, n);
        }
    }
}

/* x with its bits in reverse order (RBIT). */
static inline uint32_t tc_rbit(uint32_t x)
{
    uint32_t r;
    __asm__("rbit %0, %1" : "=r"(r) : "r"(x));
    return r;
}

/* For each set bit of `bits` from the top (bit 31 - j: element j of
 * out), out[j] = the next value; bits nonzero. Six instructions per set
 * bit: GCC's loop takes nine. */
static inline void tc_sparse8_scatter(uint32_t bits, const int8_t **value,
                                      int8_t *out)
{
    const int8_t *v = *value;
    uint32_t pos, x;
    __asm__ volatile(
        "1:\n\t"
        "clz %[pos], %[bits]\n\t"
        "ldrsb %[x], [%[v]], #1\n\t"
        "strb %[x], [%[out], %[pos]]\n\t"
        "lsr %[pos], %[top], %[pos]\n\t"
        "eors %[bits], %[bits], %[pos]\n\t"
        "bne 1b\n\t"
        : [bits] "+r"(bits), [v] "+r"(v), [pos] "=&r"(pos), [x] "=&r"(x)
        : [out] "r"(out), [top] "r"(0x80000000u)
        : "cc", "memory");
    *value = v;
}

/* Sparse weights: element i is the next value when bit i is set. */
static inline void tc_sparse8_decode_mve(const tc_sparse8_t *sp,
                                         int32_t elements, int8_t *out)
{
    const int8_t *value = sp->values;
    int32_t i;
    tc_mve_fill(out, 0, elements);
    for (i = 0; i < elements; i += 32) {
        const int32_t left = elements - i;
        uint32_t bits = 0;
        if (left >= 32) {
            memcpy(&bits, sp->bitmap + i / 8, sizeof bits);
        } else {
            memcpy(&bits, sp->bitmap + i / 8, (size_t)(left + 7) / 8);
            bits &= (1u << left) - 1u;
        }
        bits = tc_rbit(bits);
        if (bits != 0u) {
            tc_sparse8_scatter(bits, &value, out + i);
        }
    }
}

/* tc_conv_decoded (src/tc_weights.h) with the decoders above; the others
 * (palette rows of an odd length) decode as there. */
static inline const tc_conv_params_t *tc_conv_decoded_mve(
    const tc_conv_params_t *p, tc_conv_params_t *dense)
{
    const int32_t row = p->kernel_h * p->kernel_w * p->input.c;
    const int32_t elements = row * p->output.c;
    const tc_weights_t *w = &p->weights;
    if (w->scratch != NULL && TC_WEIGHTS_IS(w, TC_WEIGHTS_PALETTE4) &&
        row % 2 == 0) {
        tc_palette4_decode_mve((const tc_palette4_t *)w->data, elements, row,
                               w->scratch);
    } else if (w->scratch != NULL && TC_WEIGHTS_IS(w, TC_WEIGHTS_SPARSE8)) {
        tc_sparse8_decode_mve((const tc_sparse8_t *)w->data, elements,
                              w->scratch);
    } else {
        return tc_conv_decoded(p, dense);
    }
    *dense = *p;
    dense->weights.format = TC_WEIGHTS_S8;
    dense->weights.data = w->scratch;
    dense->weights.bytes = (uint32_t)elements;
    dense->weights.scratch = NULL;
    return dense;
}

#endif /* TC_DECODE_MVE_H */
