/*
 * tc_weights.h - reading weights in any tc_weight_format_t.
 *
 * Kernels go through these helpers so a new storage format is added here
 * once instead of in every kernel. Decoding is exact: a packed tensor gives
 * the same int8 values, hence the same results, as the dense one.
 */
#ifndef TC_WEIGHTS_H
#define TC_WEIGHTS_H

#include <string.h>

#include "tc_fixedpoint.h"

/* Nonzero when this build compiles weight format `f` (a tc_weight_format_t)
 * in: bit f of TC_WEIGHT_FORMATS (tc_runtime.h); dense int8 always. */
#define TC_FORMAT_ON(f) \
    ((((TC_WEIGHT_FORMATS | TC_FORMAT_S8) >> (f)) & 1u) != 0u)

/* Nonzero when `w` is stored in format `f` and the build compiles `f` in.
 * Kernels test packed formats through it: for a format left out it is a
 * constant 0, so the compiler drops that format's path and the functions
 * only it calls, and tc_weights_check refuses the format. */
#define TC_WEIGHTS_IS(w, f) (TC_FORMAT_ON(f) && (w)->format == (f))

/* TC_OK if `w` holds `elements` weights of `channels` output channels in a
 * format the calling kernel can use. `rows` is nonzero when the kernel
 * reads each channel's weights as one contiguous row of elements /
 * channels (FULLY_CONNECTED, 1x1 CONV_2D), which TC_WEIGHTS_SPARSE8,
 * TC_WEIGHTS_BLOCK8 and TC_WEIGHTS_BLOCK4 need. A format this build leaves out
 * (TC_WEIGHT_FORMATS) is TC_ERR_UNSUPPORTED. */
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
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_PALETTE4)) {
        const tc_palette4_t *pal = (const tc_palette4_t *)w->data;
        if (pal->palette == NULL || pal->indices == NULL) {
            return TC_ERR_ARG;
        }
        return w->bytes == (uint32_t)((elements + 1) / 2) ? TC_OK
                                                          : TC_ERR_SHAPE;
    }
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_SPARSE8) && rows) {
        const tc_sparse8_t *sp = (const tc_sparse8_t *)w->data;
        if (sp->bitmap == NULL || sp->values == NULL ||
            sp->channel_start == NULL) {
            return TC_ERR_ARG;
        }
        return w->bytes == (uint32_t)((elements + 7) / 8) ? TC_OK
                                                          : TC_ERR_SHAPE;
    }
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_BLOCK8) && rows) {
        const tc_block8_t *bk = (const tc_block8_t *)w->data;
        const int32_t row = elements / channels;
        if (bk->bitmap == NULL || bk->values == NULL ||
            bk->channel_start == NULL || bk->block < 1) {
            return TC_ERR_ARG;
        }
        if (row * channels != elements || row % bk->block != 0) {
            return TC_ERR_SHAPE;
        }
        return w->bytes == (uint32_t)(channels *
                                      ((row / bk->block + 7) / 8))
                   ? TC_OK
                   : TC_ERR_SHAPE;
    }
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_BLOCK4) && rows) {
        const tc_block4_t *bk = (const tc_block4_t *)w->data;
        const int32_t row = elements / channels;
        if (bk->bitmap == NULL || bk->indices == NULL ||
            bk->channel_start == NULL || bk->palette == NULL ||
            bk->block < 2 || bk->block % 2 != 0) {
            return TC_ERR_ARG;
        }
        if (row * channels != elements || row % bk->block != 0) {
            return TC_ERR_SHAPE;
        }
        return w->bytes == (uint32_t)(channels *
                                      ((row / bk->block + 7) / 8))
                   ? TC_OK
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

/* Bits of a row's last bitmap byte that stand for its blocks (of
 * `blocks`), for the fast paths that mask off the others. */
static inline uint32_t tc_block_last_bits(int32_t blocks)
{
    return blocks % 8 != 0 ? (1u << (blocks % 8)) - 1u : 0xFFu;
}

/* Dot product of the whole row (n weights) of output channel `channel`
 * with `in`, visiting only its kept blocks. */
static inline int32_t tc_block8_dot(const tc_block8_t *bk, int32_t channel,
                                    const int8_t *in, int32_t n,
                                    int32_t in_zp)
{
    const int32_t blocks = n / bk->block;
    const uint8_t *bits = bk->bitmap + channel * ((blocks + 7) / 8);
    const int8_t *value = bk->values + bk->channel_start[channel];
    int32_t acc = 0;
    int32_t k, j;
    for (k = 0; k < blocks; ++k, in += bk->block) {
        if ((bits[k >> 3] >> (k & 7)) & 1u) {
            for (j = 0; j < bk->block; ++j) {
                acc += (int32_t)(*value++) * ((int32_t)in[j] - in_zp);
            }
        }
    }
    return acc;
}

/* tc_block8_dot for TC_WEIGHTS_BLOCK4: an index byte (two weights) at a
 * time, blocks being even. */
static inline int32_t tc_block4_dot(const tc_block4_t *bk, int32_t channel,
                                    const int8_t *in, int32_t n,
                                    int32_t in_zp)
{
    const int32_t blocks = n / bk->block;
    const uint8_t *bits = bk->bitmap + channel * ((blocks + 7) / 8);
    const uint8_t *two = bk->indices + bk->channel_start[channel];
    int32_t acc = 0;
    int32_t k, j;
    for (k = 0; k < blocks; ++k, in += bk->block) {
        if ((bits[k >> 3] >> (k & 7)) & 1u) {
            for (j = 0; j < bk->block; j += 2, ++two) {
                acc += bk->palette[*two & 0x0Fu] * ((int32_t)in[j] - in_zp) +
                       bk->palette[*two >> 4] * ((int32_t)in[j + 1] - in_zp);
            }
        }
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
 * TC_WEIGHTS_SPARSE8, TC_WEIGHTS_BLOCK8 or TC_WEIGHTS_BLOCK4 (kernels
 * using it pass rows = 0 to the check). */
static inline int32_t tc_weight_at(const tc_weights_t *w, int32_t i,
                                   int32_t channel)
{
    if (!TC_FORMAT_ON(TC_WEIGHTS_PALETTE4) || w->format == TC_WEIGHTS_S8) {
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
 * output channel `channel` (for TC_WEIGHTS_SPARSE8 and the block formats:
 * its whole row, start = channel * n, w_zp 0, as tc_weights_check and the
 * kernels' checks enforced). */
static inline int32_t tc_weights_dot(const tc_weights_t *w, int32_t start,
                                     int32_t channel, const int8_t *in,
                                     int32_t n, int32_t in_zp, int32_t w_zp)
{
    int32_t acc = 0;
    int32_t j;
    if (w->format == TC_WEIGHTS_S8) {
        acc = tc_dot_s8((const int8_t *)w->data + start, in, n, in_zp, w_zp);
    } else if (TC_WEIGHTS_IS(w, TC_WEIGHTS_SPARSE8)) {
        acc = tc_sparse8_dot((const tc_sparse8_t *)w->data, start, channel,
                             in, n, in_zp);
    } else if (TC_WEIGHTS_IS(w, TC_WEIGHTS_BLOCK8)) {
        acc = tc_block8_dot((const tc_block8_t *)w->data, channel, in, n,
                            in_zp);
    } else if (TC_WEIGHTS_IS(w, TC_WEIGHTS_BLOCK4)) {
        acc = tc_block4_dot((const tc_block4_t *)w->data, channel, in, n,
                            in_zp);
    } else if (TC_FORMAT_ON(TC_WEIGHTS_PALETTE4)) {
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
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_SPARSE8)) {
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
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_BLOCK8)) {
        const tc_block8_t *bk = (const tc_block8_t *)w->data;
        const int32_t blocks = row / bk->block;
        const size_t block = (size_t)bk->block;
        int32_t channel, k;
        for (channel = 0; i < elements; ++channel) {
            const uint8_t *bits = bk->bitmap + channel * ((blocks + 7) / 8);
            const int8_t *value = bk->values + bk->channel_start[channel];
            for (k = 0; k < blocks; ++k, i += bk->block) {
                if ((bits[k >> 3] >> (k & 7)) & 1u) {
                    memcpy(out + i, value, block);
                    value += block;
                } else {
                    memset(out + i, 0, block);
                }
            }
        }
        return out;
    }
    if (TC_WEIGHTS_IS(w, TC_WEIGHTS_BLOCK4)) {
        const tc_block4_t *bk = (const tc_block4_t *)w->data;
        const int32_t blocks = row / bk->block;
        int32_t channel, k, j;
        for (channel = 0; i < elements; ++channel) {
            const uint8_t *bits = bk->bitmap + channel * ((blocks + 7) / 8);
            const uint8_t *two = bk->indices + bk->channel_start[channel];
            for (k = 0; k < blocks; ++k, i += bk->block) {
                if ((bits[k >> 3] >> (k & 7)) & 1u) {
                    for (j = 0; j < bk->block; j += 2, ++two) {
                        out[i + j] = bk->palette[*two & 0x0Fu];
                        out[i + j + 1] = bk->palette[*two >> 4];
                    }
                } else {
                    memset(out + i, 0, (size_t)bk->block);
                }
            }
        }
        return out;
    }
    if (!TC_FORMAT_ON(TC_WEIGHTS_PALETTE4)) {
        return NULL;  /* left out of this build: the kernel's check refused it */
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
