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

/* The 16 palette values of output channel `channel`. */
static inline const int8_t *tc_palette4_row(const tc_palette4_t *pal,
                                            int32_t channel)
{
    return pal->shared ? pal->palette : pal->palette + 16 * channel;
}

static inline int32_t tc_palette4_at(const tc_palette4_t *pal, int32_t i,
                                     int32_t channel)
{
    const uint8_t byte = pal->indices[i >> 1];
    const int32_t index = (i & 1) ? (byte >> 4) : (byte & 0x0F);
    return tc_palette4_row(pal, channel)[index];
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
        /* An index byte at a time: two weights per load, no nibble test. */
        const tc_palette4_t *pal = (const tc_palette4_t *)w->data;
        const int8_t *values = tc_palette4_row(pal, channel);
        const uint8_t *two = pal->indices + ((start + 1) >> 1);
        j = 0;
        if ((start & 1) != 0) {
            acc = (values[pal->indices[start >> 1] >> 4] - w_zp) *
                  ((int32_t)in[0] - in_zp);
            j = 1;
        }
        for (; j + 2 <= n; j += 2, ++two) {
            acc += (values[*two & 0x0Fu] - w_zp) * ((int32_t)in[j] - in_zp) +
                   (values[*two >> 4] - w_zp) * ((int32_t)in[j + 1] - in_zp);
        }
        if (j < n) {
            acc += (values[*two & 0x0Fu] - w_zp) * ((int32_t)in[j] - in_zp);
        }
    }
    return acc;
}

/* Decodes a packed `w` (`elements` weights, each output channel's a row of
 * `row`) into w->scratch as dense int8 and returns the dense tensor; NULL
 * when there is nothing to decode (dense weights, or no scratch planned).
 * Kernels whose fast paths read dense rows call this once per invoke, so
 * a clustered or pruned layer runs the dense loops: the decode costs a few
 * instructions per weight, once, instead of per output pixel. */
static inline const int8_t *tc_weights_decode(const tc_weights_t *w,
                                              int32_t elements, int32_t row)
{
    int8_t *out = w->scratch;
    int32_t i = 0;
    if (w->format == TC_WEIGHTS_S8 || out == NULL) {
        return NULL;
    }
    if (w->format == TC_WEIGHTS_SPARSE8) {
        const tc_sparse8_t *sp = (const tc_sparse8_t *)w->data;
        const int8_t *value = sp->values;
        for (; i + 8 <= elements; i += 8) {  /* a bitmap byte at a time */
            uint32_t bits = sp->bitmap[i >> 3];
            int32_t j;
            for (j = 0; j < 8; ++j, bits >>= 1) {
                out[i + j] = (bits & 1u) ? *value++ : 0;
            }
        }
        for (; i < elements; ++i) {
            out[i] = ((sp->bitmap[i >> 3] >> (i & 7)) & 1u) ? *value++ : 0;
        }
        return out;
    }
    {
        const tc_palette4_t *pal = (const tc_palette4_t *)w->data;
        int32_t channel;
        for (channel = 0; i < elements; ++channel) {
            const int8_t *values = tc_palette4_row(pal, channel);
            const int32_t end = i + row;
            if ((i & 1) != 0) {
                out[i] = values[pal->indices[i >> 1] >> 4];
                ++i;
            }
            for (; i + 2 <= end; i += 2) {
                const uint32_t two = pal->indices[i >> 1];
                out[i] = values[two & 0x0Fu];
                out[i + 1] = values[two >> 4];
            }
            if (i < end) {
                out[i] = values[pal->indices[i >> 1] & 0x0Fu];
                ++i;
            }
        }
    }
    return out;
}

/* p, or when its weights are packed and have a scratch, a copy of *p in
 * *dense whose weights are the decoded dense int8 tensor. */
static inline const tc_conv_params_t *tc_conv_decoded(
    const tc_conv_params_t *p, tc_conv_params_t *dense)
{
    const int32_t row = p->kernel_h * p->kernel_w * p->input.c;
    const int8_t *w = tc_weights_decode(&p->weights, row * p->output.c, row);
    if (w == NULL) {
        return p;
    }
    *dense = *p;
    dense->weights.format = TC_WEIGHTS_S8;
    dense->weights.data = w;
    dense->weights.bytes = (uint32_t)(row * p->output.c);
    dense->weights.scratch = NULL;
    return dense;
}

#endif /* TC_WEIGHTS_H */
