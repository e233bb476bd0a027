/*
 * tc_arch_check.c - on-target check of architecture-optimised kernels.
 *
 * Built with the reference kernels renamed (tc_ref_<op>) beside the arch
 * variants (tc_<op>); runs both on the same pseudo-random layers, compares
 * every output byte and reports the timer counts of each. Prints one line per
 * layer and the sentinel "TC_ARCH_CHECK PASS" (or FAIL); exits with the
 * number of differing layers.
 */
#include <stdint.h>
#include <string.h>

#include "tc_check_put.h"
#include "tc_port.h"
#include "tc_runtime.h"

tc_status_t tc_ref_conv_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output);
tc_status_t tc_ref_fully_connected_s8(const tc_fully_connected_params_t *p,
                                      const int8_t *input, int8_t *output);
tc_status_t tc_ref_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                     const int8_t *input, int8_t *output);
tc_status_t tc_ref_conv_1x1_s8(const tc_conv_params_t *p, const int8_t *input,
                               int8_t *output);
tc_status_t tc_ref_add_s8(const tc_add_params_t *p, const int8_t *input1,
                          const int8_t *input2, int8_t *output);
tc_status_t tc_ref_avgpool_s8(const tc_pool_params_t *p, const int8_t *input,
                              int8_t *output);
tc_status_t tc_ref_mean_s8(const tc_mean_params_t *p, const int8_t *input,
                           int8_t *output);

#define MAX_IO 8192
#define MAX_W 16384
#define MAX_C 320

static int8_t input_buf[MAX_IO];
static int8_t out_ref[MAX_IO];
static int8_t out_arch[MAX_IO];
static int8_t weights[MAX_W];
static int8_t palette_buf[MAX_C * 16];
static int8_t scratch_buf[MAX_W];
static uint8_t bitmap_buf[MAX_W / 8];
/* Word-aligned, as the generator aligns its arrays (the M4 block path
 * reads the kept blocks with LDRD), with room for a misaligned copy. */
static union {
    int32_t align;
    int8_t bytes[MAX_W + 4];
} values_store;
static int8_t *const values_buf = values_store.bytes;
static uint32_t starts_buf[MAX_C];
static int32_t bias[MAX_C];
static int32_t mults[MAX_C];
static int32_t shifts[MAX_C];
static uint32_t rng_state = 12345u;
/* Nonzero: odd channels get a left shift (+1), which keeps kernels off
 * their short requantisation form for the whole layer. */
static int left_shifts;
/* Depthwise, pointwise and FC layers off the portable short output stage
 * (arch/portable/tc_out_c.h) or dot-product rows: VAR_BIG_BIAS gives
 * |bias| >= 2^29, VAR_PER_TENSOR one (multiplier, shift) for every channel,
 * VAR_FC_BATCH_WZP two FC batches with weights zero point 3. Off the
 * assembly paths' forms: VAR_ACT a fused activation range inside
 * [-128, 127] (depthwise, pointwise), VAR_NO_BIAS no bias (also FC and
 * CONV_2D); VAR_FULL_RANGE an FC layer with no activation (its outputs
 * saturate). */
#define VAR_BIG_BIAS 1
#define VAR_PER_TENSOR 2
#define VAR_FC_BATCH_WZP 4
#define VAR_ACT 8
#define VAR_NO_BIAS 16
#define VAR_FULL_RANGE 32
/* Depthwise: weights in -1..1, multiplier 2^30 and shift -3, so about one
 * output in 8 lands on a rounding tie of the last shift. */
#define VAR_TIES 64
/* FC: two batches (weights zero point 0, so packed weights keep their
 * fast paths). */
#define VAR_FC_BATCH2 128
static int variant;


static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static void fill(int8_t *buf, int32_t n, int32_t capacity)
{
    int32_t i;
    if (n > capacity) {
        tc_put("TC_ARCH_CHECK FAIL: test layer larger than its buffer\n");
        tc_port_exit(255);
    }
    for (i = 0; i < n; ++i) {
        buf[i] = (int8_t)(rnd() & 0xFFu);
    }
}

static void fill_requant(int32_t channels, int32_t depth)
{
    int32_t c;
    if (channels > MAX_C) {
        tc_put("TC_ARCH_CHECK FAIL: too many channels\n");
        tc_port_exit(255);
    }
    for (c = 0; c < channels; ++c) {
        bias[c] = (int32_t)(rnd() % 20001u) - 10000;
        if (variant & VAR_BIG_BIAS) {
            bias[c] += (c & 1) ? -(1 << 29) : (1 << 29);
        }
        mults[c] = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
        shifts[c] = depth > 64 ? -11 : -8;
        if (left_shifts && (c & 1)) {
            shifts[c] = 1;
        }
    }
}

static int report(const char *name, int32_t size, uint32_t ref_ticks,
                  uint32_t arch_ticks, tc_status_t s1, tc_status_t s2)
{
    int32_t diff = 0;
    int32_t first = -1;
    int32_t i;
    for (i = 0; i < size; ++i) {
        if (out_ref[i] != out_arch[i]) {
            first = first < 0 ? i : first;
            ++diff;
        }
    }
    tc_put(name);
    tc_put(" ref=");
    tc_put_u32(ref_ticks);
    tc_put(" arch=");
    tc_put_u32(arch_ticks);
    tc_put(" bytes=");
    tc_put_u32((uint32_t)size);
    tc_put(" mismatches=");
    tc_put_u32((uint32_t)diff);
    if (first >= 0) {
        tc_put(" first=");
        tc_put_u32((uint32_t)first);
        tc_put(" ref_value=");
        tc_put_u32((uint32_t)(out_ref[first] + 128));
        tc_put(" arch_value=");
        tc_put_u32((uint32_t)(out_arch[first] + 128));
        tc_put(" (+128)");
    }
    tc_put(s1 == TC_OK && s2 == TC_OK ? "\n" : " status-error\n");
    return diff != 0 || s1 != TC_OK || s2 != TC_OK;
}

/* How check_conv / check_pw store the layer's weights. */
#define PACK_DENSE 0
#define PACK_PALETTE 1          /* TC_WEIGHTS_PALETTE4, decoded per tap */
#define PACK_PALETTE_SCRATCH 2  /* the same, decoded once into a scratch */
#define PACK_SPARSE 3           /* TC_WEIGHTS_SPARSE8 (about half zeros) */
#define PACK_SPARSE_SCRATCH 4   /* the same, decoded once into a scratch */
#define PACK_PALETTE_SHARED 5   /* TC_WEIGHTS_PALETTE4, one shared palette */
#define PACK_BLOCK 6            /* TC_WEIGHTS_BLOCK8 (block pruning) */
#define PACK_BLOCK_SCRATCH 7    /* the same, decoded once into a scratch */
#define PACK_BLOCK4 8           /* TC_WEIGHTS_BLOCK4 (the same, clustered) */
#define PACK_BLOCK4_SCRATCH 9   /* the same, decoded once into a scratch */

/* PACK_SPARSE*: sparse_zeros weights in sparse_period are zeroed;
 * PACK_BLOCK* (PACK_BLOCK4* too): sparse_zeros blocks of block_size
 * weights in sparse_period are dropped, and so are whole rows whose index
 * is a multiple of block_drop_rows (when nonzero); the kept blocks start
 * block_misalign bytes after a word boundary; with block_padding, the
 * bits of each row's last bitmap byte past its last block are set
 * (kernels must ignore them, as the reference does). */
static uint32_t sparse_zeros = 1;
static uint32_t sparse_period = 2;
static int32_t block_size = 16;
static int32_t block_drop_rows;
static int32_t block_misalign;
static int block_padding;

/* Draws whether block k of row c (its weights at src) is kept (one rnd()
 * per block, the row dropped every block_drop_rows rows): if so sets its
 * bit in bitmap_buf (`bytes` a row), else zeroes its weights. */
static int keep_block(int8_t *src, int32_t c, int32_t k, int32_t bytes)
{
    if (rnd() % sparse_period < sparse_zeros ||
        (block_drop_rows > 0 && c % block_drop_rows == 0)) {
        memset(src, 0, (size_t)block_size);
        return 0;
    }
    bitmap_buf[c * bytes + (k >> 3)] |= (uint8_t)(1u << (k & 7));
    return 1;
}

/* With block_padding, sets the bits of row c's last bitmap byte past its
 * last block (of `blocks`). */
static void pad_row(int32_t c, int32_t blocks, int32_t bytes)
{
    if (block_padding) {
        bitmap_buf[c * bytes + bytes - 1] |=
            (uint8_t)(0xFFu << (blocks % 8 != 0 ? blocks % 8 : 8));
    }
}

/* Keeps a random subset of the blocks of `oc` rows of `weights` (the
 * others zeroed) as TC_WEIGHTS_BLOCK8 in *bk; returns the bitmap bytes. */
static uint32_t pack_blocks(tc_block8_t *bk, int32_t elements, int32_t oc)
{
    const int32_t row = elements / oc;
    const int32_t blocks = row / block_size;
    const int32_t bytes = (blocks + 7) / 8;
    int8_t *values = values_buf + block_misalign;
    int32_t c, k, n = 0;

    memset(bitmap_buf, 0, (size_t)(oc * bytes));
    for (c = 0; c < oc; ++c) {
        starts_buf[c] = (uint32_t)n;
        for (k = 0; k < blocks; ++k) {
            int8_t *src = weights + c * row + k * block_size;
            if (!keep_block(src, c, k, bytes)) {
                continue;
            }
            memcpy(values + n, src, (size_t)block_size);
            n += block_size;
        }
        pad_row(c, blocks, bytes);
    }
    bk->bitmap = bitmap_buf;
    bk->values = values;
    bk->channel_start = starts_buf;
    bk->block = block_size;
    return (uint32_t)(oc * bytes);
}

/* Keeps a random subset of the blocks of `oc` rows of `weights` as
 * TC_WEIGHTS_BLOCK4 in *bk, as pack_blocks does, each kept weight replaced
 * by the palette value its random low nibble picks, so that `weights`
 * ends as the dense tensor *bk encodes; returns the bitmap bytes. */
static uint32_t pack_blocks4(tc_block4_t *bk, int32_t elements, int32_t oc)
{
    const int32_t row = elements / oc;
    const int32_t blocks = row / block_size;
    const int32_t bytes = (blocks + 7) / 8;
    uint8_t *indices = (uint8_t *)values_buf + block_misalign;
    int32_t c, k, j, n = 0;

    fill(palette_buf, 16, MAX_C * 16);
    memset(bitmap_buf, 0, (size_t)(oc * bytes));
    for (c = 0; c < oc; ++c) {
        starts_buf[c] = (uint32_t)n;
        for (k = 0; k < blocks; ++k) {
            int8_t *src = weights + c * row + k * block_size;
            if (!keep_block(src, c, k, bytes)) {
                continue;
            }
            for (j = 0; j < block_size; j += 2) {
                const uint32_t lo = (uint32_t)src[j] & 15u;
                const uint32_t hi = (uint32_t)src[j + 1] & 15u;
                src[j] = palette_buf[lo];
                src[j + 1] = palette_buf[hi];
                indices[n++] = (uint8_t)(lo | hi << 4);
            }
        }
        pad_row(c, blocks, bytes);
    }
    bk->bitmap = bitmap_buf;
    bk->indices = indices;
    bk->channel_start = starts_buf;
    bk->palette = palette_buf;
    bk->block = block_size;
    return (uint32_t)(oc * bytes);
}

/* Stores `elements` weights of `oc` rows (the random bytes of `weights`) in
 * w as `pack` says; the scratch is filled with garbage first, so a kernel
 * that reads it before decoding fails the comparison. */
static void pack_weights(tc_weights_t *w, int32_t elements, int32_t oc,
                         int pack)
{
    static tc_palette4_t pal;
    static tc_sparse8_t sp;
    static tc_block8_t bk;
    static tc_block4_t bk4;
    int32_t i, n = 0;

    w->format = TC_WEIGHTS_S8;
    w->data = weights;
    w->bytes = (uint32_t)elements;
    w->scratch = NULL;
    if (pack == PACK_PALETTE || pack == PACK_PALETTE_SCRATCH ||
        pack == PACK_PALETTE_SHARED) {
        pal.shared = pack == PACK_PALETTE_SHARED;
        fill(palette_buf, pal.shared ? 16 : 16 * oc, MAX_C * 16);
        pal.palette = palette_buf;
        pal.indices = (const uint8_t *)weights;
        w->format = TC_WEIGHTS_PALETTE4;
        w->data = &pal;
        w->bytes = (uint32_t)((elements + 1) / 2);
    } else if (pack == PACK_SPARSE || pack == PACK_SPARSE_SCRATCH) {
        memset(bitmap_buf, 0, (size_t)(elements + 7) / 8);
        for (i = 0; i < elements; ++i) {
            if (i % (elements / oc) == 0) {
                starts_buf[i / (elements / oc)] = (uint32_t)n;
            }
            if (rnd() % sparse_period < sparse_zeros) {
                weights[i] = 0;
            }
            if (weights[i] != 0) {
                bitmap_buf[i >> 3] |= (uint8_t)(1u << (i & 7));
                values_buf[n++] = weights[i];
            }
        }
        sp.bitmap = bitmap_buf;
        sp.values = values_buf;
        sp.channel_start = starts_buf;
        w->format = TC_WEIGHTS_SPARSE8;
        w->data = &sp;
        w->bytes = (uint32_t)((elements + 7) / 8);
    } else if (pack == PACK_BLOCK || pack == PACK_BLOCK_SCRATCH) {
        w->format = TC_WEIGHTS_BLOCK8;
        w->data = &bk;
        w->bytes = pack_blocks(&bk, elements, oc);
    } else if (pack == PACK_BLOCK4 || pack == PACK_BLOCK4_SCRATCH) {
        w->format = TC_WEIGHTS_BLOCK4;
        w->data = &bk4;
        w->bytes = pack_blocks4(&bk4, elements, oc);
    }
    if (pack == PACK_PALETTE_SCRATCH || pack == PACK_SPARSE_SCRATCH ||
        pack == PACK_BLOCK_SCRATCH || pack == PACK_BLOCK4_SCRATCH) {
        fill(scratch_buf, elements, MAX_W);
        w->scratch = scratch_buf;
    }
}

/* A conv layer: square kernel k, stride, symmetric pad, dilation; weights
 * stored as `palette` (a PACK_* value) says. */
static int check_conv(const char *name, tc_shape_t in, int32_t oc, int32_t k,
                      int32_t stride, int32_t pad, int32_t dilation,
                      int palette)
{
    tc_conv_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;
    const int32_t elements = oc * k * k * in.c;
    const int32_t span = (k - 1) * dilation + 1;

    memset(&p, 0, sizeof p);
    p.input = in;
    p.output.n = in.n;
    p.output.h = (in.h + 2 * pad - span) / stride + 1;
    p.output.w = (in.w + 2 * pad - span) / stride + 1;
    p.output.c = oc;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dilation;
    p.pad_top = p.pad_left = pad;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.act_min = -128;
    p.act_max = 127;
    fill(weights, elements, MAX_W);
    fill(input_buf, in.n * in.h * in.w * in.c, MAX_IO);
    fill_requant(oc, k * k * in.c);
    pack_weights(&p.weights, elements, oc, palette);
    p.bias = bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel = !palette;

    t0 = tc_port_timer_read();
    s1 = tc_ref_conv_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_conv_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.output.n * p.output.h * p.output.w * oc, t1 - t0,
                  t2 - t1, s1, s2);
}

/* A conv layer with a kh x kw kernel, strides sh, sw and TFLite "same"
 * padding (pad = total / 2 before), dense weights, the shapes of the
 * MLPerf Tiny first layers (DS-CNN's 10x4 stride 2 on 1 channel, ResNet's
 * 3x3 on 3). flags: 1 = one requantisation for the tensor, 2 = biases near
 * +-2^30 (kernels' short requantisation forms must fall back exactly),
 * 4 = batch of 2, 8 = weights in -1..1 and shift -3, so outputs stay in
 * range and one in 8 hits a rounding tie, 16 = dilation_h 2. */
static int check_conv_same(const char *name, tc_shape_t in, int32_t oc,
                           int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                           int flags)
{
    tc_conv_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;
    const int32_t elements = oc * kh * kw * in.c;
    int32_t c, pad;

    memset(&p, 0, sizeof p);
    in.n = (flags & 4) ? 2 : 1;
    p.input = in;
    p.output.n = in.n;
    p.output.h = (in.h + sh - 1) / sh;
    p.output.w = (in.w + sw - 1) / sw;
    p.output.c = oc;
    p.kernel_h = kh;
    p.kernel_w = kw;
    p.stride_h = sh;
    p.stride_w = sw;
    p.dilation_h = (flags & 16) ? 2 : 1;
    p.dilation_w = 1;
    pad = (p.output.h - 1) * sh + (kh - 1) * p.dilation_h + 1 - in.h;
    p.pad_top = pad > 0 ? pad / 2 : 0;
    pad = (p.output.w - 1) * sw + kw - in.w;
    p.pad_left = pad > 0 ? pad / 2 : 0;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.act_min = p.output_zero_point;
    p.act_max = 127;
    fill(weights, elements, MAX_W);
    fill(input_buf, in.n * in.h * in.w * in.c, MAX_IO);
    fill_requant(oc, kh * kw * in.c);
    for (c = 0; (flags & 2) && c < oc; ++c) {
        bias[c] = (int32_t)(0x3FFF0000u + (rnd() & 0x1FFFFu)) *
                  (c & 1 ? -1 : 1);
    }
    if (flags & 8) {
        for (c = 0; c < elements; ++c) {
            weights[c] = (int8_t)((int32_t)(rnd() % 3u) - 1);
        }
        for (c = 0; c < oc; ++c) {
            shifts[c] = -3;
        }
        p.act_min = -128;
    }
    p.weights.format = TC_WEIGHTS_S8;
    p.weights.data = weights;
    p.weights.bytes = (uint32_t)elements;
    p.bias = (variant & VAR_NO_BIAS) ? NULL : bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel = !(flags & 1);

    t0 = tc_port_timer_read();
    s1 = tc_ref_conv_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_conv_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.output.n * p.output.h * p.output.w * oc, t1 - t0,
                  t2 - t1, s1, s2);
}

/* Nonzero: check_pw runs the arch kernel in one buffer, the input this
 * many bytes above the output, as the planner overlaps a layer's output
 * with its dying input (docs/codegen.md: for a stride-1 pointwise layer
 * with input.c >= output.c the gap is output.c - 1; the output of pixel
 * q + 1 then lies over the input of pixel q). */
static int32_t pw_overlap;

/* A pointwise layer through tc_conv_1x1_s8: 1x1 filter, stride, pad (a
 * padded layer must fall back to tc_conv_s8); weights stored as `palette`
 * (a PACK_* value) says. */
static int check_pw(const char *name, tc_shape_t in, int32_t oc,
                    int32_t stride, int32_t pad, int palette)
{
    tc_conv_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;
    const int32_t elements = oc * in.c;

    memset(&p, 0, sizeof p);
    p.input = in;
    p.output.n = in.n;
    p.output.h = (in.h + 2 * pad - 1) / stride + 1;
    p.output.w = (in.w + 2 * pad - 1) / stride + 1;
    p.output.c = oc;
    p.kernel_h = p.kernel_w = 1;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = 1;
    p.pad_top = p.pad_left = pad;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.act_min = (variant & VAR_ACT) ? -90 : -128;
    p.act_max = (variant & VAR_ACT) ? 100 : 127;
    fill(weights, elements, MAX_W);
    fill(input_buf, in.n * in.h * in.w * in.c, MAX_IO);
    fill_requant(oc, in.c);
    pack_weights(&p.weights, elements, oc, palette);
    p.bias = (variant & VAR_NO_BIAS) ? NULL : bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel = !palette && !(variant & VAR_PER_TENSOR);
    if (pw_overlap > 0) {
        memcpy(out_arch + pw_overlap, input_buf,
               (size_t)(in.n * in.h * in.w * in.c));
    }

    t0 = tc_port_timer_read();
    s1 = tc_ref_conv_1x1_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_conv_1x1_s8(&p, pw_overlap > 0 ? out_arch + pw_overlap : input_buf,
                        out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.output.n * p.output.h * p.output.w * oc, t1 - t0,
                  t2 - t1, s1, s2);
}

/* A depthwise layer: square kernel k, depth multiplier dm, stride, pad,
 * dilation; dense int8 or (palette != 0) TC_WEIGHTS_PALETTE4 weights. */
static int check_dw(const char *name, tc_shape_t in, int32_t dm, int32_t k,
                    int32_t stride, int32_t pad, int32_t dilation, int palette)
{
    static tc_palette4_t packed;
    tc_depthwise_conv_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;
    const int32_t oc = in.c * dm;
    const int32_t elements = k * k * oc;
    const int32_t span = (k - 1) * dilation + 1;
    int32_t i;

    memset(&p, 0, sizeof p);
    p.input = in;
    p.output.n = in.n;
    p.output.h = (in.h + 2 * pad - span) / stride + 1;
    p.output.w = (in.w + 2 * pad - span) / stride + 1;
    p.output.c = oc;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dilation;
    p.pad_top = p.pad_left = pad;
    p.depth_multiplier = dm;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.act_min = (variant & VAR_ACT) ? -90 : -128;
    p.act_max = (variant & VAR_ACT) ? 100 : 127;
    fill(weights, elements, MAX_W);
    fill(input_buf, in.n * in.h * in.w * in.c, MAX_IO);
    fill_requant(oc, k * k);
    p.weights.format = TC_WEIGHTS_S8;
    p.weights.data = weights;
    p.weights.bytes = (uint32_t)elements;
    if (palette) {
        fill(palette_buf, 16 * oc, MAX_C * 16);
        packed.palette = palette_buf;
        packed.indices = (const uint8_t *)weights;
        p.weights.format = TC_WEIGHTS_PALETTE4;
        p.weights.data = &packed;
        p.weights.bytes = (uint32_t)((elements + 1) / 2);
    }
    p.bias = (variant & VAR_NO_BIAS) ? NULL : bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel = !(variant & VAR_PER_TENSOR);
    for (i = 0; (variant & VAR_TIES) && i < elements; ++i) {
        weights[i] = (int8_t)((int32_t)(rnd() % 3u) - 1);
    }
    for (i = 0; (variant & VAR_TIES) && i < oc; ++i) {
        bias[i] = (int32_t)(rnd() % 64u) - 32;
        mults[i] = 1 << 30;
        shifts[i] = -3;
    }

    t0 = tc_port_timer_read();
    s1 = tc_ref_depthwise_conv_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_depthwise_conv_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.output.n * p.output.h * p.output.w * oc, t1 - t0,
                  t2 - t1, s1, s2);
}

/* 1 (and a line saying so) unless the reference kernel gives out_ref
 * again with p's weights as the dense tensor in `weights`: the packed
 * reference path is held to the dense one, which the kernel tests hold to
 * TFLM. Uses out_arch, already compared. */
static int dense_differs(const char *name,
                         const tc_fully_connected_params_t *p, int32_t size)
{
    tc_fully_connected_params_t dense = *p;
    dense.weights.format = TC_WEIGHTS_S8;
    dense.weights.data = weights;
    dense.weights.bytes = (uint32_t)(p->input_depth * p->output_depth);
    if (tc_ref_fully_connected_s8(&dense, input_buf, out_arch) == TC_OK &&
        memcmp(out_arch, out_ref, (size_t)size) == 0) {
        return 0;
    }
    tc_put(name);
    tc_put(" packed reference differs from the dense one\n");
    return 1;
}

/* An FC layer, weights stored as `pack` (a PACK_* value without scratch)
 * says. */
static int check_fc_packed(const char *name, int32_t in_depth,
                           int32_t out_depth, int pack)
{
    tc_fully_connected_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;

    memset(&p, 0, sizeof p);
    p.batches = (variant & (VAR_FC_BATCH_WZP | VAR_FC_BATCH2)) ? 2 : 1;
    p.input_depth = in_depth;
    p.output_depth = out_depth;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.weights_zero_point = (variant & VAR_FC_BATCH_WZP) ? 3 : 0;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.act_min = (variant & VAR_FULL_RANGE) ? -128 : -100;
    p.act_max = (variant & VAR_FULL_RANGE) ? 127 : 120;
    fill(weights, in_depth * out_depth, MAX_W);
    fill(input_buf, p.batches * in_depth, MAX_IO);
    fill_requant(out_depth, in_depth);
    pack_weights(&p.weights, in_depth * out_depth, out_depth, pack);
    p.bias = (variant & VAR_NO_BIAS) ? NULL : bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel =
        !(variant & VAR_PER_TENSOR) && pack != PACK_PALETTE_SHARED;

    t0 = tc_port_timer_read();
    s1 = tc_ref_fully_connected_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_fully_connected_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.batches * out_depth, t1 - t0, t2 - t1, s1, s2) +
           (pack == PACK_BLOCK4 &&
            dense_differs(name, &p, p.batches * out_depth));
}

static int check_fc(const char *name, int32_t in_depth, int32_t out_depth)
{
    return check_fc_packed(name, in_depth, out_depth, PACK_DENSE);
}

/* An ADD: input1 of shape `out`, input2 of shape `in2` (broadcast when it
 * differs), random zero points and multipliers, input shifts 0..-3 (with
 * shift 0, input1's multiplier is exactly 1/2 as TFLM's larger-scale input
 * has; unless `tflm`, input2 gets shift 0 with a random multiplier, which
 * the fast paths leave to the general loop) and an output shift of
 * out_shift..out_shift - 4; `relu` clamps at the output zero point. TFLM
 * uses left_shift 20 (then out_shift -17 makes outputs span int8); a small
 * left_shift with an output shift near 0 makes every rounding step hit its
 * ties often, which the fast paths' rounding must get right. */
/* With bit 3 set, check_add's input shifts instead of random ones:
 * input1's -2 when bit 0 is set, input2's -3 when bit 1 is (else 0,
 * multiplier 2^30); bit 2 sets the output shift to 0 (each combination of
 * shift signs is a separate loop of the Helium kernel). */
static int add_pattern;

static int check_add(const char *name, tc_shape_t out, tc_shape_t in2,
                     int relu, int32_t left_shift, int32_t out_shift,
                     int tflm)
{
    static int8_t input2[MAX_IO];
    tc_add_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;
    const int32_t size = out.n * out.h * out.w * out.c;

    memset(&p, 0, sizeof p);
    p.input1 = out;
    p.input2 = in2;
    p.output = out;
    p.input1_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.input2_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.left_shift = left_shift;
    p.input1_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
    p.input1_shift = -(int32_t)(rnd() % 4u);
    p.input2_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
    p.input2_shift = -(int32_t)(rnd() % 4u);
    if (p.input1_shift == 0) {
        p.input1_multiplier = 0x40000000;
    }
    if (p.input2_shift == 0 && tflm) {
        p.input2_multiplier = 0x40000000;
    }
    if (!tflm) {
        p.input2_shift = 0;
    }
    p.output_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
    p.output_shift = out_shift - (int32_t)(rnd() % 5u);
    if (add_pattern) {
        p.input1_shift = (add_pattern & 1) ? -2 : 0;
        p.input2_shift = (add_pattern & 2) ? -3 : 0;
        p.input1_multiplier =
            p.input1_shift ? p.input1_multiplier : 0x40000000;
        p.input2_multiplier =
            p.input2_shift ? p.input2_multiplier : 0x40000000;
        p.output_shift = (add_pattern & 4) ? 0 : p.output_shift;
    }
    p.act_min = relu ? p.output_zero_point : -128;
    p.act_max = 127;
    fill(input_buf, size, MAX_IO);
    fill(input2, in2.n * in2.h * in2.w * in2.c, MAX_IO);
    input_buf[0] = -128;
    input_buf[1] = 127;
    input2[0] = 127;

    t0 = tc_port_timer_read();
    s1 = tc_ref_add_s8(&p, input_buf, input2, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_add_s8(&p, input_buf, input2, out_arch);
    t2 = tc_port_timer_read();
    return report(name, size, t1 - t0, t2 - t1, s1, s2);
}

/* An AVERAGE_POOL_2D: filter fh x fw, stride, padding pad before (the
 * output size as TFLite "same" gives it when pad > 0, "valid" otherwise);
 * `relu` clamps at 0. Global pools of MLPerf Tiny's shapes, partial border
 * windows, channel counts with a tail after the groups of 4, and a window
 * of more than 255 taps (the 32-bit path). */
/* Nonzero: check_avgpool's input is all -128 instead of random. */
static int pool_min_input;

static int check_avgpool(const char *name, tc_shape_t in, int32_t fh,
                         int32_t fw, int32_t stride, int32_t pad, int relu)
{
    tc_pool_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;

    memset(&p, 0, sizeof p);
    p.input = in;
    p.output = in;
    p.output.h = pad ? (in.h + stride - 1) / stride : (in.h - fh) / stride + 1;
    p.output.w = pad ? (in.w + stride - 1) / stride : (in.w - fw) / stride + 1;
    p.filter_h = fh;
    p.filter_w = fw;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = pad;
    p.act_min = relu ? 0 : -128;
    p.act_max = 127;
    fill(input_buf, in.n * in.h * in.w * in.c, MAX_IO);
    input_buf[0] = -128;
    if (pool_min_input) {
        memset(input_buf, -128, (size_t)(in.n * in.h * in.w * in.c));
    }

    t0 = tc_port_timer_read();
    s1 = tc_ref_avgpool_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_avgpool_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.output.n * p.output.h * p.output.w * in.c, t1 - t0,
                  t2 - t1, s1, s2);
}

/* check_add of an 8x8x63 tensor (a tail after the groups of 4) with the
 * shift signs of `pattern` (see add_pattern); ReLU when input1 shifts. */
static int check_add_shifts(const char *name, int pattern)
{
    static const tc_shape_t shape = {1, 8, 8, 63};
    int failed;
    add_pattern = pattern;
    failed = check_add(name, shape, shape, pattern & 1, 3, -2, 1);
    add_pattern = 0;
    return failed;
}

/* A MEAN over the axes in `mask` (bit 0 = n .. 3 = c), random zero points,
 * a multiplier in [2^30, 2^31) and the given shift (TFLM's is near 0: the
 * input and output scales are close). */
static int check_mean(const char *name, tc_shape_t in, uint32_t mask,
                      int32_t shift)
{
    tc_mean_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;
    int32_t outputs = 1;

    memset(&p, 0, sizeof p);
    p.input = in;
    p.axis_mask = mask;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.multiplier = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
    p.shift = shift;
    outputs *= (mask & 1u) ? 1 : in.n;
    outputs *= (mask & 2u) ? 1 : in.h;
    outputs *= (mask & 4u) ? 1 : in.w;
    outputs *= (mask & 8u) ? 1 : in.c;
    fill(input_buf, in.n * in.h * in.w * in.c, MAX_IO);

    t0 = tc_port_timer_read();
    s1 = tc_ref_mean_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_mean_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, outputs, t1 - t0, t2 - t1, s1, s2);
}

/* A block-pruned FC case (PACK_BLOCK or PACK_BLOCK4): its shape, block
 * size, variant and how pack_blocks / pack_blocks4 draw its mask (dropped
 * blocks per period, every drop_rows-th row dropped, kept blocks off a word
 * boundary, set padding bits). */
typedef struct {
    const char *name;
    int32_t depth, rows, block;
    int variant;
    uint32_t dropped, period;
    int32_t drop_rows, misalign;
    int padding;
} fc_block_case_t;

/* The `count` cases of `cases`, weights stored as `pack` says, in order
 * (each draws its data from rnd()); returns the failures. */
static int check_fc_blocks(const fc_block_case_t *cases, int count, int pack)
{
    int failures = 0;
    int c;
    for (c = 0; c < count; ++c) {
        variant = cases[c].variant;
        block_size = cases[c].block;
        sparse_zeros = cases[c].dropped;
        sparse_period = cases[c].period;
        block_drop_rows = cases[c].drop_rows;
        block_misalign = cases[c].misalign;
        block_padding = cases[c].padding;
        failures += check_fc_packed(cases[c].name, cases[c].depth,
                                    cases[c].rows, pack);
    }
    return failures;
}

int main(void)
{
    static const tc_shape_t pw = {1, 8, 8, 32};
    static const tc_shape_t c3 = {1, 9, 9, 16};
    static const tc_shape_t odd = {1, 7, 6, 3};
    static const tc_shape_t c6 = {1, 9, 8, 6};
    static const tc_shape_t dw32 = {1, 10, 10, 32};
    static const tc_shape_t dw40 = {1, 9, 10, 40};
    static const tc_shape_t dscnn = {1, 25, 5, 64};
    static const tc_shape_t interior = {1, 7, 8, 64};
    static const tc_shape_t dw12 = {1, 11, 9, 12};
    static const tc_shape_t odd7 = {1, 5, 5, 7};
    static const tc_shape_t wide300 = {1, 2, 3, 300};
    static const tc_shape_t wide8 = {1, 2, 3, 8};
    static const tc_shape_t add16 = {1, 16, 16, 16};
    static const tc_shape_t add63 = {1, 8, 8, 63};
    static const tc_shape_t bcast = {1, 16, 16, 1};
    static const tc_shape_t dscnn_in = {1, 49, 10, 1};
    static const tc_shape_t rn_in = {1, 16, 16, 3};
    static const tc_shape_t big_c = {1, 5, 4, 80};
    static const tc_shape_t interior8 = {1, 8, 8, 64};
    static const tc_shape_t pool256 = {1, 16, 16, 12};
    static const tc_shape_t demo = {1, 8, 8, 16};
    static const tc_shape_t dw_vww = {1, 13, 12, 9};
    static const tc_shape_t dw_vww8 = {1, 24, 24, 8};
    static const tc_shape_t dw_4ch = {2, 6, 7, 4};
    static const tc_shape_t dw260 = {1, 3, 4, 260};
    static const tc_shape_t pw12 = {1, 5, 5, 12};
    static const tc_shape_t pw8b2 = {2, 6, 5, 8};
    static const tc_shape_t col64 = {1, 5, 3, 64};
    static const tc_shape_t col65 = {1, 4, 3, 65};
    static const tc_shape_t col4 = {1, 2, 3, 4};
    /* Packed FC layers of the demo CNN's fc1 depth (half its rows, to fit
     * the buffers) against their dense twin fc_512to32 (test_runtime_arch.py
     * bounds the shared palette's ratio), sparse at 50, 25 and 12.5 %
     * nonzeros; then the packed paths' tails (rows % 4, depth % 32), no
     * bias, two batches, and the generic fallbacks (a per-channel palette,
     * an odd depth). In this order: each case draws its data from rnd(). */
    static const struct {
        const char *name;
        int32_t depth, rows;
        int pack, variant;
        uint32_t sparse_zeros, sparse_period;
    } fc_packed[] = {
        {"fc_512to32_palette4_shared", 512, 32, PACK_PALETTE_SHARED, 0, 1, 2},
        {"fc_512to32_sparse8", 512, 32, PACK_SPARSE, 0, 1, 2},
        {"fc_512to32_sparse8_25pct", 512, 32, PACK_SPARSE, 0, 3, 4},
        {"fc_512to32_sparse8_12pct", 512, 32, PACK_SPARSE, 0, 7, 8},
        {"fc_palette4_shared_200to30_tails", 200, 30, PACK_PALETTE_SHARED, 0,
         1, 2},
        {"fc_sparse8_200to30_tails", 200, 30, PACK_SPARSE, 0, 1, 2},
        {"fc_palette4_per_channel_96to20", 96, 20, PACK_PALETTE, 0, 1, 2},
        {"fc_palette4_shared_75to9_odd_depth", 75, 9, PACK_PALETTE_SHARED, 0,
         1, 2},
        {"fc_sparse8_76to9_fallback", 76, 9, PACK_SPARSE, 0, 1, 2},
        {"fc_palette4_shared_no_bias_64to70", 64, 70, PACK_PALETTE_SHARED,
         VAR_NO_BIAS, 1, 2},
        {"fc_sparse8_no_bias_64to70", 64, 70, PACK_SPARSE, VAR_NO_BIAS, 1, 2},
        {"fc_palette4_shared_batch2_96to12", 96, 12, PACK_PALETTE_SHARED,
         VAR_FC_BATCH2, 1, 2},
        {"fc_sparse8_batch2_96to12", 96, 12, PACK_SPARSE, VAR_FC_BATCH2, 1,
         2},
    };
    /* Block-pruned FC layers (TC_WEIGHTS_BLOCK8): the demo fc1 depth against
     * the same dense twin fc_512to32 (test_runtime_arch.py bounds the
     * ratio) with blocks of 16, 8 and 4 at 50 % kept, 25 % kept and all
     * kept (the block scan's worst case); then row and depth tails, no
     * bias, two batches, the AD model's depth 640, rows with every block
     * dropped, a block of 32, set bits past a row's last block, and the
     * fallbacks (blocks of 3 and 6, kept blocks off a word boundary). */
    static const fc_block_case_t fc_block[] = {
        {"fc_512to32_block8", 512, 32, 16, 0, 1, 2, 0, 0, 0},
        {"fc_512to32_block8_b8", 512, 32, 8, 0, 1, 2, 0, 0, 0},
        {"fc_512to32_block8_b4", 512, 32, 4, 0, 1, 2, 0, 0, 0},
        {"fc_512to32_block8_25pct", 512, 32, 16, 0, 3, 4, 0, 0, 0},
        {"fc_512to32_block8_b4_25pct", 512, 32, 4, 0, 3, 4, 0, 0, 0},
        {"fc_512to32_block8_all", 512, 32, 16, 0, 0, 1, 0, 0, 0},
        {"fc_512to32_block8_b4_all", 512, 32, 4, 0, 0, 1, 0, 0, 0},
        {"fc_block8_b8_200to30_tails", 200, 30, 8, 0, 1, 2, 0, 0, 0},
        {"fc_block8_b4_100to7_tails", 100, 7, 4, 0, 1, 2, 0, 0, 0},
        {"fc_block8_176to13_tails", 176, 13, 16, 0, 1, 2, 0, 0, 0},
        {"fc_block8_no_bias_64to70", 64, 70, 16, VAR_NO_BIAS, 1, 2, 0, 0, 0},
        {"fc_block8_b8_batch2_96to12", 96, 12, 8, VAR_FC_BATCH2, 1, 2, 0,
         0, 0},
        {"fc_block8_640to24", 640, 24, 16, 0, 1, 2, 0, 0, 0},
        {"fc_block8_b8_dropped_rows_128to20", 128, 20, 8, 0, 1, 2, 3, 0, 0},
        {"fc_block8_b32_256to16", 256, 16, 32, 0, 1, 2, 0, 0, 0},
        {"fc_block8_176to9_padding_bits", 176, 9, 16, 0, 1, 2, 0, 0, 1},
        {"fc_block8_b8_200to5_padding_bits", 200, 5, 8, 0, 1, 2, 0, 0, 1},
        {"fc_block8_b3_96to9_fallback", 96, 9, 3, 0, 1, 2, 0, 0, 0},
        {"fc_block8_b6_96to10_fallback", 96, 10, 6, 0, 1, 2, 0, 0, 0},
        {"fc_block8_misaligned_128to12", 128, 12, 16, 0, 1, 2, 0, 1, 0},
    };
    /* Block-pruned and clustered FC layers (TC_WEIGHTS_BLOCK4), the same
     * cases as fc_block (fields alike): blocks of 16, 8 and 4 against the
     * dense twin, then tails, no bias, two batches, depth 640, dropped
     * rows, blocks of 32 and 12, padding bits, kept blocks off a word
     * boundary and the fallbacks (blocks of 2 and 6). */
    static const fc_block_case_t fc_block4[] = {
        {"fc_512to32_block4", 512, 32, 16, 0, 1, 2, 0, 0, 0},
        {"fc_512to32_block4_b8", 512, 32, 8, 0, 1, 2, 0, 0, 0},
        {"fc_512to32_block4_b4", 512, 32, 4, 0, 1, 2, 0, 0, 0},
        {"fc_512to32_block4_25pct", 512, 32, 16, 0, 3, 4, 0, 0, 0},
        {"fc_512to32_block4_b4_25pct", 512, 32, 4, 0, 3, 4, 0, 0, 0},
        {"fc_512to32_block4_all", 512, 32, 16, 0, 0, 1, 0, 0, 0},
        {"fc_512to32_block4_b4_all", 512, 32, 4, 0, 0, 1, 0, 0, 0},
        {"fc_block4_b8_200to30_tails", 200, 30, 8, 0, 1, 2, 0, 0, 0},
        {"fc_block4_b4_100to7_tails", 100, 7, 4, 0, 1, 2, 0, 0, 0},
        {"fc_block4_176to13_tails", 176, 13, 16, 0, 1, 2, 0, 0, 0},
        {"fc_block4_no_bias_64to70", 64, 70, 16, VAR_NO_BIAS, 1, 2, 0, 0, 0},
        {"fc_block4_b8_batch2_96to12", 96, 12, 8, VAR_FC_BATCH2, 1, 2, 0,
         0, 0},
        {"fc_block4_640to24", 640, 24, 16, 0, 1, 2, 0, 0, 0},
        {"fc_block4_b8_dropped_rows_128to20", 128, 20, 8, 0, 1, 2, 3, 0, 0},
        {"fc_block4_b32_256to16", 256, 16, 32, 0, 1, 2, 0, 0, 0},
        {"fc_block4_b12_192to10", 192, 10, 12, 0, 1, 2, 0, 0, 0},
        {"fc_block4_176to9_padding_bits", 176, 9, 16, 0, 1, 2, 0, 0, 1},
        {"fc_block4_b8_200to5_padding_bits", 200, 5, 8, 0, 1, 2, 0, 0, 1},
        {"fc_block4_b4_100to9_padding_bits", 100, 9, 4, 0, 1, 2, 0, 0, 1},
        {"fc_block4_misaligned_128to12", 128, 12, 16, 0, 1, 2, 0, 1, 0},
        {"fc_block4_b2_96to9_fallback", 96, 9, 2, 0, 1, 2, 0, 0, 0},
        {"fc_block4_b6_96to10_fallback", 96, 10, 6, 0, 1, 2, 0, 0, 0},
    };
    int failures = 0;
    int c;

    tc_port_init();
    failures += check_conv("conv_pointwise_32to32", pw, 32, 1, 1, 0, 1, 0);
    failures += check_conv("conv_3x3_s2_pad_16to24", c3, 24, 3, 2, 1, 1, 0);
    failures += check_conv("conv_3x3_3ch_tail", odd, 8, 3, 1, 1, 1, 0);
    failures += check_conv("conv_3x3_dil2_6to5", c6, 5, 3, 1, 2, 2, 0);
    failures += check_conv("conv_3x3_palette4_6to5", c6, 5, 3, 2, 1, 1, 1);
    failures += check_dw("dw_3x3_32ch", dw32, 1, 3, 1, 1, 1, 0);
    failures += check_dw("dw_3x3_s2_40ch", dw40, 1, 3, 2, 1, 1, 0);
    failures += check_dw("dw_3x3_mult2_dil2", c6, 2, 3, 1, 2, 2, 0);
    failures += check_dw("dw_3x3_palette4", c6, 1, 3, 1, 1, 1, 1);
    failures += check_fc("fc_250to30_tail", 250, 30);
    failures += check_fc("fc_256to64", 256, 64);
    failures += check_dw("dw_3x3_dscnn_25x5x64", dscnn, 1, 3, 1, 1, 1, 0);
    failures += check_dw("dw_3x3_valid_interior", interior, 1, 3, 1, 0, 1, 0);
    failures += check_dw("dw_3x3_tail_6ch", c6, 1, 3, 2, 1, 1, 0);
    failures += check_dw("dw_5x5_s2_dil1_12ch", dw12, 1, 5, 2, 2, 1, 0);
    failures += check_dw("dw_3x3_pad3_empty_windows", c3, 1, 3, 1, 3, 1, 0);
    failures += check_pw("pw_dscnn_64to64", dscnn, 64, 1, 0, 0);
    failures += check_pw("pw_s2_16to30_tail", c3, 30, 2, 0, 0);
    failures += check_pw("pw_7to5_tails", odd7, 5, 1, 0, 0);
    failures += check_pw("pw_palette4_16to12", c3, 12, 1, 0, 1);
    failures += check_pw("pw_padded_fallback", c3, 8, 2, 1, 0);
    failures += check_pw("pw_300to20_unpaired", wide300, 20, 1, 0, 0);
    failures += check_conv("conv_3x3_palette4_scratch_6to5", c6, 5, 3, 2, 1,
                           1, PACK_PALETTE_SCRATCH);
    failures += check_conv("conv_3x3_3ch_odd_row_palette4_scratch", odd, 8, 3,
                           1, 1, 1, PACK_PALETTE_SCRATCH);
    failures += check_conv("conv_3x3x80_taps_palette4_scratch_4oc", big_c, 4,
                           3, 1, 1, 1, PACK_PALETTE_SCRATCH);
    failures += check_conv("conv_3x3_dil2_palette4_scratch", c6, 5, 3, 1, 2, 2,
                           PACK_PALETTE_SCRATCH);
    failures += check_pw("pw_palette4_scratch_16to12", c3, 12, 1, 0,
                         PACK_PALETTE_SCRATCH);
    failures += check_pw("pw_palette4_scratch_odd_row_7to5", odd7, 5, 1, 0,
                         PACK_PALETTE_SCRATCH);
    failures += check_pw("pw_padded_palette4_scratch", c3, 8, 2, 1,
                         PACK_PALETTE_SCRATCH);
    failures += check_pw("pw_sparse8_16to12", c3, 12, 1, 0, PACK_SPARSE);
    failures += check_pw("pw_sparse8_scratch_16to12", c3, 12, 2, 0,
                         PACK_SPARSE_SCRATCH);
    failures += check_pw("pw_sparse8_scratch_odd_row_7to5", odd7, 5, 1, 0,
                         PACK_SPARSE_SCRATCH);
    /* Packed layers against their dense twins (test_runtime_arch.py
     * bounds the ratio): the demo CNN's conv2, DS-CNN's pointwise. */
    failures += check_conv("conv_demo_3x3_16to32", demo, 32, 3, 1, 1, 1,
                           PACK_DENSE);
    failures += check_conv("conv_demo_3x3_16to32_palette4_scratch", demo, 32,
                           3, 1, 1, 1, PACK_PALETTE_SCRATCH);
    failures += check_pw("pw_dscnn_64to64_palette4_scratch", dscnn, 64, 1, 0,
                         PACK_PALETTE_SCRATCH);
    failures += check_pw("pw_dscnn_64to64_sparse8_scratch", dscnn, 64, 1, 0,
                         PACK_SPARSE_SCRATCH);
    failures += check_fc("fc_128to128", 128, 128);
    failures += check_fc("fc_640to24", 640, 24);
    left_shifts = 1;
    failures += check_dw("dw_3x3_left_shift", dw32, 1, 3, 1, 1, 1, 0);
    failures += check_pw("pw_left_shift", pw, 20, 1, 0, 0);
    failures += check_fc("fc_left_shift_64to13", 64, 13);
    left_shifts = 0;
    failures += check_fc("fc_75to9_odd_depth", 75, 9);
    failures += check_pw("pw_8to260_unpaired_wide", wide8, 260, 1, 0, 0);
    failures += check_dw("dw_3x3_dil2_40ch", dw40, 1, 3, 1, 2, 2, 0);
    variant = VAR_BIG_BIAS;
    failures += check_dw("dw_3x3_big_bias", dw12, 1, 3, 1, 1, 1, 0);
    failures += check_pw("pw_big_bias", odd7, 12, 1, 0, 0);
    failures += check_fc("fc_big_bias_64to12", 64, 12);
    variant = VAR_PER_TENSOR;
    failures += check_dw("dw_3x3_per_tensor", dw40, 1, 3, 2, 1, 1, 0);
    failures += check_pw("pw_per_tensor", c3, 24, 1, 0, 0);
    failures += check_fc("fc_per_tensor_96to20", 96, 20);
    variant = VAR_FC_BATCH_WZP;
    failures += check_fc("fc_batch2_weights_zp", 77, 10);
    variant = VAR_ACT;
    failures += check_dw("dw_3x3_act_range_s2_9ch", dw_vww, 1, 3, 2, 1, 1, 0);
    failures += check_pw("pw_act_range_16to10", c3, 10, 1, 0, 0);
    variant = VAR_NO_BIAS;
    failures += check_dw("dw_3x3_no_bias_32ch", dw32, 1, 3, 1, 1, 1, 0);
    failures += check_pw("pw_no_bias_16to12", c3, 12, 1, 0, 0);
    failures += check_fc("fc_no_bias_128to70", 128, 70);
    failures += check_conv_same("conv_3x3_no_bias_3to8", rn_in, 8, 3, 3, 2, 2,
                                0);
    variant = VAR_FULL_RANGE;
    failures += check_fc("fc_full_range_136to77", 136, 77);
    failures += check_fc("fc_256to2_three_row_path", 256, 2);
    variant = VAR_FULL_RANGE | VAR_NO_BIAS;
    failures += check_fc("fc_full_range_no_bias_64to130", 64, 130);
    variant = 0;
    failures += check_pw("pw_12to9_pairs_c_path", pw12, 9, 1, 0, 0);
    failures += check_pw("pw_vww_8to16_batch2", pw8b2, 16, 1, 0, 0);
    failures += check_dw("dw_3x3_vww_s2_8ch", dw_vww8, 1, 3, 2, 1, 1, 0);
    failures += check_dw("dw_3x3_4ch_pad2", dw_4ch, 1, 3, 1, 2, 1, 0);
    failures += check_dw("dw_3x3_260ch_fallback", dw260, 1, 3, 1, 1, 1, 0);
    failures += check_conv_same("conv_dscnn_10x4_s2_1to16", dscnn_in, 16, 10,
                                4, 2, 2, 0);
    failures += check_conv_same("conv_resnet_3x3_3to16", rn_in, 16, 3, 3, 1,
                                1, 0);
    failures += check_conv_same("conv_3x3_s2_odd_oc_batch2", odd, 7, 3, 3, 2,
                                2, 4);
    failures += check_conv_same("conv_5x3_s1x2_per_tensor", c6, 9, 5, 3, 1, 2,
                                1);
    failures += check_conv_same("conv_3x3_big_bias", c3, 12, 3, 3, 1, 1, 2);
    failures += check_conv_same("conv_3x3_rounding_ties", rn_in, 16, 3, 3, 1,
                                1, 8);
    failures += check_conv_same("conv_3x3x80_tap_path", big_c, 4, 3, 3, 1, 1,
                                0);
    /* The portable column path's limits: a 3x3x64 window (576 values, its
     * widest; 15 pixels, so a lone last one; 22 channels, a tail of 2) and
     * 256 output channels take it; 3x3x65 and 260 channels fall back to
     * the tap path. */
    failures += check_conv_same("conv_3x3x64_widest_column_22oc", col64, 22,
                                3, 3, 1, 1, 0);
    failures += check_conv_same("conv_3x3x65_tap_path", col65, 6, 3, 3, 1, 1,
                                0);
    failures += check_conv_same("conv_3x3_256oc_column", col4, 256, 3, 3, 1,
                                1, 0);
    failures += check_conv_same("conv_3x3_260oc_tap_path", col4, 260, 3, 3,
                                1, 1, 0);
    /* The Helium column path's limits: windows of up to 576 values go two
     * pixels at a time (above), up to 1152 one at a time (3x3x120), the
     * tap path beyond (3x3x130); an FC with more rows than the start
     * values it keeps per call (256) forms them per block of rows. */
    failures += check_conv_same("conv_3x3x120_one_column", (tc_shape_t){1, 5,
                                3, 120}, 5, 3, 3, 1, 1, 0);
    failures += check_conv_same("conv_3x3x130_mve_tap_path", (tc_shape_t){1,
                                4, 3, 130}, 6, 3, 3, 1, 1, 0);
    failures += check_fc("fc_24to300_row_blocks", 24, 300);
    /* A pointwise layer of more output channels than Helium sums per
     * block (96), written over its input at the planner's gap. */
    pw_overlap = 127;
    failures += check_pw("pw_128to128_planner_overlap", (tc_shape_t){1, 3,
                         4, 128}, 128, 1, 0, 0);
    pw_overlap = 0;
    failures += check_conv_same("conv_3x3_dil2x1_3ch", rn_in, 6, 3, 3, 1, 1,
                                16);
    failures += check_conv_same("conv_3x3_dil2x1_16ch", c3, 6, 3, 3, 1, 2,
                                16);
    left_shifts = 1;
    failures += check_conv_same("conv_3x3_left_shift", c3, 10, 3, 3, 2, 1, 0);
    failures += check_conv_same("conv_3x3_left_shift_big_bias", c6, 10, 3, 3,
                                1, 1, 2);
    left_shifts = 0;
    failures += check_avgpool("avgpool_global_dscnn", dscnn, 25, 5, 1, 0, 0);
    failures += check_avgpool("avgpool_global_8x8x64", interior8, 8, 8, 1, 0,
                              1);
    failures += check_avgpool("avgpool_3x3_s2_same_tail", c6, 3, 3, 2, 1, 0);
    failures += check_avgpool("avgpool_16x16_256taps", pool256, 16, 16, 1, 0,
                              0);
    /* Helium: a window of 272 taps (int32 sums, one channel at a time), a
     * 256-tap window of -128 (the int16 sums' extreme), the depthwise
     * fast path's widest layer (256 channels) and its rounding ties, and
     * each ADD loop of shift signs (input1, input2, output). */
    failures += check_avgpool("avgpool_17x16_272taps", (tc_shape_t){1, 17,
                              16, 12}, 17, 16, 1, 0, 0);
    pool_min_input = 1;
    failures += check_avgpool("avgpool_256taps_all_min", pool256, 16, 16, 1,
                              0, 0);
    pool_min_input = 0;
    failures += check_dw("dw_3x3_256ch_widest", (tc_shape_t){1, 3, 5, 256},
                         1, 3, 1, 1, 1, 0);
    variant = VAR_TIES;
    failures += check_dw("dw_3x3_rounding_ties_s2_20ch",
                         (tc_shape_t){1, 9, 8, 20}, 1, 3, 2, 1, 1, 0);
    failures += check_dw("dw_5x5_rounding_ties_12ch", dw12, 1, 5, 1, 2, 1,
                         0);
    variant = VAR_ACT | VAR_PER_TENSOR;
    failures += check_dw("dw_3x3_per_tensor_act_tail_13ch",
                         (tc_shape_t){2, 6, 5, 13}, 1, 3, 1, 1, 1, 0);
    variant = 0;
    failures += check_add_shifts("add_shifts_00r", 8);
    failures += check_add_shifts("add_shifts_r0r", 9);
    failures += check_add_shifts("add_shifts_0rr", 10);
    failures += check_add_shifts("add_shifts_rrr", 11);
    failures += check_add_shifts("add_shifts_000", 12);
    failures += check_add_shifts("add_shifts_r00", 13);
    failures += check_add_shifts("add_shifts_0r0", 14);
    failures += check_add_shifts("add_shifts_rr0", 15);
    failures += check_mean("mean_hw_vww_3x3x256", (tc_shape_t){1, 3, 3, 256},
                           6, -1);
    failures += check_mean("mean_hw_batch2_tail_13ch",
                           (tc_shape_t){2, 4, 5, 13}, 6, 1);
    failures += check_mean("mean_hw_256px_shift0", pool256, 6, 0);
    failures += check_mean("mean_c_general", (tc_shape_t){1, 4, 5, 13}, 8,
                           -2);
    failures += check_mean("mean_w_general", (tc_shape_t){2, 4, 5, 13}, 4,
                           0);
    failures += check_add("add_16x16x16", add16, add16, 0, 20, -17, 1);
    failures += check_add("add_relu_8x8x63_tail", add63, add63, 1, 20, -17, 1);
    failures += check_add("add_ties_ls1", add16, add16, 0, 1, -1, 1);
    failures += check_add("add_ties_ls3", add16, add16, 0, 3, -2, 1);
    failures += check_add("add_general_shift0", add16, add16, 0, 20, -17, 0);
    failures += check_add("add_broadcast_c", add16, bcast, 0, 20, -17, 1);
    /* The dense twin of the packed FC cases (fc_packed, above). */
    failures += check_fc("fc_512to32", 512, 32);
    for (c = 0; c < (int)(sizeof fc_packed / sizeof fc_packed[0]); ++c) {
        variant = fc_packed[c].variant;
        sparse_zeros = fc_packed[c].sparse_zeros;
        sparse_period = fc_packed[c].sparse_period;
        failures += check_fc_packed(fc_packed[c].name, fc_packed[c].depth,
                                    fc_packed[c].rows, fc_packed[c].pack);
    }
    failures += check_fc_blocks(
        fc_block, (int)(sizeof fc_block / sizeof fc_block[0]), PACK_BLOCK);
    failures += check_fc_blocks(
        fc_block4, (int)(sizeof fc_block4 / sizeof fc_block4[0]), PACK_BLOCK4);
    variant = 0;
    sparse_zeros = 1;
    sparse_period = 2;
    block_drop_rows = 0;
    block_misalign = 0;
    block_padding = 0;
    /* Block-pruned 1x1 convs: blocks of 4 through tc_weights_dot, blocks
     * of 8 decoded into a scratch, and a padded layer (the general conv). */
    block_size = 4;
    failures += check_pw("pw_block8_16to12", c3, 12, 1, 0, PACK_BLOCK);
    block_size = 8;
    failures += check_pw("pw_block8_scratch_16to12", c3, 12, 2, 0,
                         PACK_BLOCK_SCRATCH);
    failures += check_pw("pw_padded_block8_16to8", c3, 8, 2, 1, PACK_BLOCK);
    /* The same with TC_WEIGHTS_BLOCK4: blocks of 4 through tc_weights_dot,
     * blocks of 8 decoded into a scratch, the general conv. */
    block_size = 4;
    failures += check_pw("pw_block4_16to12", c3, 12, 1, 0, PACK_BLOCK4);
    block_size = 8;
    failures += check_pw("pw_block4_scratch_16to12", c3, 12, 2, 0,
                         PACK_BLOCK4_SCRATCH);
    failures += check_pw("pw_padded_block4_16to8", c3, 8, 2, 1, PACK_BLOCK4);
    block_size = 16;
    tc_put(failures == 0 ? "TC_ARCH_CHECK PASS\n" : "TC_ARCH_CHECK FAIL\n");
    return failures;
}
