/*
 * tc_weights.h - reading weights in any tc_weight_format_t.
 *
 * Kernels go through these helpers so a new storage format is added here
 * once instead of in every kernel. Decoding is exact: a packed tensor gives
 * the same int8 values, hence the same results, as the dense one.
 */
#ifndef TC_WEIGHTS_H
#define TC_WEIGHTS_H

#include "tc_fixedpoint.h"

/* TC_OK if `w` holds `elements` weights of `channels` output channels in a
 * format the calling kernel can use. `rows` is nonzero when the kernel
 * reads each channel's weights as one contiguous row (FULLY_CONNECTED, 1x1
 * CONV_2D), which TC_WEIGHTS_SPARSE8 needs. */
static inline tc_status_t tc_weights_check(const tc_weights_t *w,
                                           int32_t elements, int32_t channels,
                                           int32_t rows)
{
    if (w->data == NULL || elements < 1 || channels < 1) {
        return TC_ERR_ARG;
    }
    if (w->format == TC_WEIGHTS_S8) {
        return w->bytes == (uint32_t)elements ? TC_OK : TC_ERR_SHAPE;
    }
    if (w->format == TC_WEIGHTS_PALETTE4) {
        const tc_palette4_t *pal = (const tc_palette4_t *)w->data;
        if (pal->palette == NULL || pal->indices == NULL) {
            return TC_ERR_ARG;
        }
        return w->bytes == (uint32_t)((elements + 1) / 2) ? TC_OK
                                                          : TC_ERR_SHAPE;
    }
    if (w->format == TC_WEIGHTS_SPARSE8 && rows) {
        const tc_sparse8_t *sp = (const tc_sparse8_t *)w->data;
        if (sp->bitmap == NULL || sp->values == NULL ||
            sp->channel_start == NULL) {
            return TC_ERR_ARG;
        }
        return w->bytes == (uint32_t)((elements + 7) / 8) ? TC_OK
                                                          : TC_ERR_SHAPE;
    }
    return TC_ERR_UNSUPPORTED;
}

/* Dot product of the row of output channel `channel` (starting at dense
 * element `start`) with `in`, visiting only the nonzero weights. */
static inline int32_t tc_sparse8_dot(const tc_sparse8_t *sp, int32_t start,
                                     int32_t channel, const int8_t *in,
                                     int32_t n, int32_t in_zp)
{
    const int8_t *value = sp->values + sp->channel_start[channel];
    int32_t acc = 0;
    int32_t j = 0;
    while (j < n) {
        const int32_t bit = start + j;
        const uint32_t bits = (uint32_t)sp->bitmap[bit >> 3] >> (bit & 7);
        if (bits == 0u) {
            j += 8 - (bit & 7);
            continue;
        }
        if (bits & 1u) {
            acc += (int32_t)(*value++) * ((int32_t)in[j] - in_zp);
        }
        ++j;
    }
    return acc;
}

static inline int32_t tc_palette4_at(const tc_palette4_t *pal, int32_t i,
                                     int32_t channel)
{
    const uint8_t byte = pal->indices[i >> 1];
    const int32_t index = (i & 1) ? (byte >> 4) : (byte & 0x0F);
    return pal->palette[channel * 16 + index];
}

/* Weight element i (dense layout) of output channel `channel`; not for
 * TC_WEIGHTS_SPARSE8 (kernels using it pass rows = 0 to the check). */
static inline int32_t tc_weight_at(const tc_weights_t *w, int32_t i,
                                   int32_t channel)
{
    if (w->format == TC_WEIGHTS_S8) {
        return ((const int8_t *)w->data)[i];
    }
    return tc_palette4_at((const tc_palette4_t *)w->data, i, channel);
}

/* sum_j (w[j] - w_zp) * (in[j] - in_zp) for j < n, dense int8 weights. */
static inline int32_t tc_dot_s8(const int8_t *w, const int8_t *in, int32_t n,
                                int32_t in_zp, int32_t w_zp)
{
    int32_t acc = 0;
    int32_t j;
    for (j = 0; j < n; ++j) {
        acc += ((int32_t)w[j] - w_zp) * ((int32_t)in[j] - in_zp);
    }
    return acc;
}

/* sum_j (w[start + j] - w_zp) * (in[j] - in_zp) for j < n, all weights of
 * output channel `channel` (for TC_WEIGHTS_SPARSE8: its whole row, w_zp 0,
 * as tc_weights_check enforced). */
static inline int32_t tc_weights_dot(const tc_weights_t *w, int32_t start,
                                     int32_t channel, const int8_t *in,
                                     int32_t n, int32_t in_zp, int32_t w_zp)
{
    int32_t acc = 0;
    int32_t j;
    if (w->format == TC_WEIGHTS_S8) {
        acc = tc_dot_s8((const int8_t *)w->data + start, in, n, in_zp, w_zp);
    } else if (w->format == TC_WEIGHTS_SPARSE8) {
        acc = tc_sparse8_dot((const tc_sparse8_t *)w->data, start, channel,
                             in, n, in_zp);
    } else {
        const tc_palette4_t *pal = (const tc_palette4_t *)w->data;
        for (j = 0; j < n; ++j) {
            acc += (tc_palette4_at(pal, start + j, channel) - w_zp) *
                   ((int32_t)in[j] - in_zp);
        }
    }
    return acc;
}

#endif /* TC_WEIGHTS_H */
