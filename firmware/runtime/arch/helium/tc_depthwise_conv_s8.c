/*
 * tc_depthwise_conv_s8.c (Helium) - DEPTHWISE_CONV_2D.
 *
 * Depth-multiplier-1 layers with dense int8 weights and at most
 * TC_DWM_MAX_C channels (every DS-CNN / MobileNet depthwise layer), any
 * kernel size, stride, padding and dilation, take 8 channels per vector
 * pass: per tap, VLDRB.S16 widens 8 input bytes and 8 weights, VMULLB /
 * VMULLT multiply the even and the odd channels into int32 lanes and two
 * VADDs accumulate them. The pass ends with the vector requantisation of
 * tc_requant_mve.h on the even and the odd lanes; VQMOVNB / VQMOVNT put
 * the 8 results back in channel order and one VSTRB.16 stores them. The
 * last output.c % 8 channels take the same pass under a tail predicate.
 *
 * The sums start from bias - input_zp * (sum of the channel's weights),
 * computed once per call, so a tap is load, load, multiply, add. 3x3
 * layers without dilation run the nine taps unrolled in asm, from weights
 * reordered once per call into the order the pass reads them; a tap
 * outside the image reads a row of input zero points (adding exactly
 * nothing), so border pixels take the same pass. Other kernel sizes visit
 * the in-image taps of each pixel, subtracting the zero point, from the
 * bias. The sums are the reference's exact integers (wrapping int32, as
 * TFLM's), so outputs equal TFLM's. Other layers take the portable
 * per-pixel code.
 *
 * Each pixel's outputs are written in increasing channel order, each
 * vector of 8 after all reads of its channels, pixels in raster order: the
 * shifted-overlap contract of tc_runtime.h holds.
 */
#include <stddef.h>

#include "../portable/tc_depthwise_pixel.h"
#include "tc_requant_mve.h"

/* Channels of the fast path: its per-call tables live on the stack
 * (tc_dwm_t: 3.9 KB at 256 channels). */
#define TC_DWM_MAX_C 256

/* One group of 8 channels of a 3x3 layer, in the order the unrolled pass
 * reads it: its 9 taps' weights (zero beyond the last channel), then its
 * start values. The asm of tc_dwm_3x3_rows / _table relies on this
 * layout (start at byte 72, 104 bytes per group). */
typedef struct {
    int8_t w[72];
    int32_t start[8];
} tc_dwm_block_t;
/* Fails to compile if the layout the assembly assumes does not hold. */
typedef char tc_dwm_block_layout[
    offsetof(tc_dwm_block_t, start) == 72 && sizeof(tc_dwm_block_t) == 104
        ? 1
        : -1];

/* The layer's constants, set up once per call. Start values are in vector
 * order: per group of 8 channels, the even channels' 4, then the odd
 * channels'. */
typedef struct {
    const int8_t *w;       /* weights [kernel_h][kernel_w][ch] */
    const int32_t *bias;   /* NULL: none */
    const int32_t *mult;   /* per channel, or tensor_mult */
    const int32_t *shift;  /* per channel, or tensor_shift */
    int32_t per_channel;
    int32_t ch, full;      /* channels; those in whole groups of 8 */
    int32_t zp, out_zp, lo, hi;
    int32_t right_only;    /* every shift <= -1 */
    int32_t x_col, x_row;  /* input step between kernel columns / rows */
    int32_t w_row;         /* weight step between kernel rows */
    union {
        /* bias - zp * sum of the channel's weights, general path */
        int32_t start[TC_DWM_MAX_C + 8];
        /* the same and the weights, per group, 3x3 path */
        tc_dwm_block_t block[TC_DWM_MAX_C / 8 + 1];
    } u;
    int8_t pad[TC_DWM_MAX_C];  /* the input zero point, per channel */
    int32_t tail_bias[8], tail_mult[8], tail_shift[8];
    int32_t tensor_mult[8], tensor_shift[8];
} tc_dwm_t;

/* The even and the odd channels' accumulators of one group. */
typedef struct {
    int32x4_t even, odd;
} tc_dwm_acc_t;

/* Eight consecutive int32 values as (even, odd) lanes. */
static inline tc_dwm_acc_t tc_dwm_load_eo(const int32_t *v)
{
    const int32x4x2_t d = vld2q_s32(v);
    tc_dwm_acc_t r;
    r.even = d.val[0];
    r.odd = d.val[1];
    return r;
}

/* One tap: acc += w * x for 8 channels. In asm: written with intrinsics,
 * GCC forms all the products of a window first and sums them as a tree,
 * spilling Q registers. */
static inline void tc_dwm_mac(tc_dwm_acc_t *acc, int16x8_t x, int16x8_t w)
{
    int32x4_t t;
    __asm__("vmullb.s16 %q[t], %q[x], %q[w]\n\t"
            "vadd.i32 %q[e], %q[e], %q[t]\n\t"
            "vmullt.s16 %q[t], %q[x], %q[w]\n\t"
            "vadd.i32 %q[o], %q[o], %q[t]"
            : [t] "=&w"(t), [e] "+w"(acc->even), [o] "+w"(acc->odd)
            : [x] "w"(x), [w] "w"(w));
}

/* 8 bytes widened to int16; a tail group (`whole` 0) loads only the lanes
 * `pred` enables (the others read as 0). `whole` is a constant wherever
 * this is inlined, so whole groups need no VPST. */
__attribute__((always_inline)) static inline int16x8_t
tc_dwm_ld(const int8_t *p, mve_pred16_t pred, int32_t whole)
{
    return whole ? vldrbq_s16(p) : vldrbq_z_s16(p, pred);
}

/* The output constants, copied out of tc_dwm_t before a loop: every byte
 * store may alias it, which would reload them per group. */
typedef struct {
    int32_t zp, lo, hi;
} tc_dwm_clamp_t;

/* Requantises, clamps and stores the group's 8 channels (those `pred`
 * enables) at out, in channel order. mult/shift: the group's 8 values in
 * memory order; right_only as in tc_dwm_t. VQMOVNB / VQMOVNT put the even
 * and odd lanes back in channel order as int16, saturating; the zero
 * point is then added saturating too, which leaves every value the int8
 * clamp keeps exact and every other one outside int8. VSTRB.16 stores the
 * low byte of each clamped lane. */
__attribute__((always_inline)) static inline void
tc_dwm_out(tc_dwm_acc_t acc, const int32_t *mult, const int32_t *shift,
           tc_dwm_clamp_t q, int32_t right_only, mve_pred16_t pred,
           int32_t whole, int8_t *out)
{
    const tc_dwm_acc_t m = tc_dwm_load_eo(mult);
    const tc_dwm_acc_t s = tc_dwm_load_eo(shift);
    int32x4_t even, odd;
    int16x8_t r;
    if (right_only) {
        even = tc_mbqm_mve_right(acc.even, m.even, s.even);
        odd = tc_mbqm_mve_right(acc.odd, m.odd, s.odd);
    } else {
        even = tc_mbqm_mve(acc.even, m.even, s.even);
        odd = tc_mbqm_mve(acc.odd, m.odd, s.odd);
    }
    r = vqmovnbq_s32(vuninitializedq_s16(), even);
    r = vqaddq_n_s16(vqmovntq_s32(r, odd), (int16_t)q.zp);
    r = vminq_s16(vmaxq_s16(r, vdupq_n_s16((int16_t)q.lo)),
                  vdupq_n_s16((int16_t)q.hi));
    if (whole) {
        vstrbq_s16(out, r);
    } else {
        vstrbq_p_s16(out, r, pred);
    }
}

/* One tap of the unrolled 3x3 pass: the input bytes at address operand
 * xa, the weights at blk + wo; (%[e], %[o]) += their products. */
#define TC_DWM_TAP(xa, wo)                                                   \
    "vldrb.s16 %q[x], " xa "\n\t"                                            \
    "vldrb.s16 %q[w], [%[blk], #" wo "]\n\t"                                 \
    "vmullb.s16 %q[t], %q[x], %q[w]\n\t"                                     \
    "vadd.i32 %q[e], %q[e], %q[t]\n\t"                                       \
    "vmullt.s16 %q[t], %q[x], %q[w]\n\t"                                     \
    "vadd.i32 %q[o], %q[o], %q[t]\n\t"

/* tc_dwm_3x3_rows: the sums of one whole group of a pixel whose window
 * lies inside the image. x0, x1, x2 point at the group's first channel in
 * the window's three rows and, like blk, move on to the next group. The
 * middle and right taps of a row cost one ADD each. In asm because GCC
 * sums the products as a tree (spilling) and computes every tap address
 * separately; widening loads take r0-r7 bases ("l"). */
#define TC_DWM_ROW(x, w0, w1, w2)                                            \
    "add %[a], %[" x "], %[ch]\n\t"                                          \
    TC_DWM_TAP("[%[" x "]], #8", w0)                                         \
    TC_DWM_TAP("[%[a]]", w1)                                                 \
    "add %[a], %[a], %[ch]\n\t"                                              \
    TC_DWM_TAP("[%[a]]", w2)

__attribute__((always_inline)) static inline tc_dwm_acc_t
tc_dwm_3x3_rows(const int8_t **x0, const int8_t **x1, const int8_t **x2,
                const tc_dwm_block_t **blk, int32_t ch)
{
    tc_dwm_acc_t acc;
    int16x8_t x, w;
    int32x4_t t;
    const int8_t *a;
    __asm__("vldrw.u32 %q[e], [%[blk], #72]\n\t"
            "vldrw.u32 %q[o], [%[blk], #88]\n\t"
            TC_DWM_ROW("x0", "0", "8", "16")
            TC_DWM_ROW("x1", "24", "32", "40")
            TC_DWM_ROW("x2", "48", "56", "64")
            "adds %[blk], %[blk], #104"
            : [e] "=&w"(acc.even), [o] "=&w"(acc.odd), [x] "=&w"(x),
              [w] "=&w"(w), [t] "=&w"(t), [a] "=&l"(a), [x0] "+l"(*x0),
              [x1] "+l"(*x1), [x2] "+l"(*x2), [blk] "+l"(*blk)
            : [ch] "r"(ch)
            : "memory", "cc");
    return acc;
}
#undef TC_DWM_ROW

/* tc_dwm_3x3_table: the same for a border pixel, tap t reading
 * tab[t] + c (the zero-point row for taps outside the image): one LDR and
 * one ADD more per tap. */
#define TC_DWM_ENTRY(t, wo)                                                  \
    "ldr %[a], [%[tab], #" t "]\n\t"                                         \
    "add %[a], %[a], %[c]\n\t"                                               \
    TC_DWM_TAP("[%[a]]", wo)

__attribute__((always_inline)) static inline tc_dwm_acc_t
tc_dwm_3x3_table(const int8_t *const *tab, int32_t c,
                 const tc_dwm_block_t **blk)
{
    tc_dwm_acc_t acc;
    int16x8_t x, w;
    int32x4_t t;
    const int8_t *a;
    __asm__("vldrw.u32 %q[e], [%[blk], #72]\n\t"
            "vldrw.u32 %q[o], [%[blk], #88]\n\t"
            TC_DWM_ENTRY("0", "0") TC_DWM_ENTRY("4", "8")
            TC_DWM_ENTRY("8", "16") TC_DWM_ENTRY("12", "24")
            TC_DWM_ENTRY("16", "32") TC_DWM_ENTRY("20", "40")
            TC_DWM_ENTRY("24", "48") TC_DWM_ENTRY("28", "56")
            TC_DWM_ENTRY("32", "64")
            "adds %[blk], %[blk], #104"
            : [e] "=&w"(acc.even), [o] "=&w"(acc.odd), [x] "=&w"(x),
              [w] "=&w"(w), [t] "=&w"(t), [a] "=&l"(a), [blk] "+l"(*blk)
            : [tab] "r"(tab), [c] "r"(c)
            : "memory", "cc");
    return acc;
}
#undef TC_DWM_ENTRY
#undef TC_DWM_TAP

/* The tail group (channels [c, ch)) of a 3x3 pixel, tap t reading
 * tab[t] + c under a predicate; the block's weights are 0 past the last
 * channel. */
static inline tc_dwm_acc_t tc_dwm_3x3_tail(const tc_dwm_block_t *blk,
                                           const int8_t *const *tab,
                                           int32_t c, mve_pred16_t pred)
{
    tc_dwm_acc_t acc;
    int32_t t;

    acc.even = vldrwq_s32(blk->start);
    acc.odd = vldrwq_s32(blk->start + 4);
    for (t = 0; t < 9; ++t) {
        tc_dwm_mac(&acc, vldrbq_z_s16(tab[t] + c, pred),
                   vldrbq_s16(blk->w + 8 * t));
    }
    return acc;
}

/* `count` output pixels of a 3x3, dilation 1 layer, from out on (output
 * pixels of output.c bytes), tap t of pixel i reading tab[t] + i * step.
 * `inside` (each window lies in the image: tab holds its three rows at
 * tab[0], tab[3], tab[6]; else count is 1), right_only and per_channel
 * are constants where this is inlined (tc_dwm_3x3_fast) or the layer's. */
__attribute__((always_inline)) static inline void
tc_dwm_3x3_run(const tc_dwm_t *k, const int8_t *const *tab, int32_t count,
               int32_t step, int8_t *out, int32_t inside, int32_t right_only,
               int32_t per_channel)
{
    const tc_dwm_clamp_t q = {k->out_zp, k->lo, k->hi};
    const int32_t ch = k->ch;
    const int32_t full = k->full;
    const int32_t *mult = k->mult;
    const int32_t *shift = k->shift;
    const int8_t *x0 = tab[0];
    const int8_t *x1 = tab[3];
    const int8_t *x2 = tab[6];
    int32_t i, c;

    for (i = 0; i < count; ++i, out += ch) {
        const tc_dwm_block_t *blk = k->u.block;
        for (c = 0; c < full; c += 8) {
            const tc_dwm_acc_t acc =
                inside ? tc_dwm_3x3_rows(&x0, &x1, &x2, &blk, ch)
                       : tc_dwm_3x3_table(tab, c, &blk);
            tc_dwm_out(acc, per_channel ? mult + c : mult,
                       per_channel ? shift + c : shift, q, right_only, 0, 1,
                       out + c);
        }
        if (c < ch) {
            const mve_pred16_t pred = vctp16q((uint32_t)(ch - c));
            tc_dwm_out(tc_dwm_3x3_tail(blk, tab, c + i * step, pred),
                       k->tail_mult, k->tail_shift, q, right_only, pred, 0,
                       out + c);
        }
        /* the rows pass moved x0..x2 on by `full` */
        x0 += step - full;
        x1 += step - full;
        x2 += step - full;
    }
}

/* tc_dwm_3x3_run for the common layer: right shifts, per channel. Not
 * inlined, so that each variant gets its own register allocation. */
__attribute__((noinline)) static void
tc_dwm_3x3_fast(const tc_dwm_t *k, const int8_t *const *tab, int32_t count,
                int32_t step, int8_t *out, int32_t inside)
{
    if (inside) {
        tc_dwm_3x3_run(k, tab, count, step, out, 1, 1, 1);
    } else {
        tc_dwm_3x3_run(k, tab, 1, 0, out, 0, 1, 1);
    }
}

/* tc_dwm_3x3_run for any other layer. */
__attribute__((noinline)) static void
tc_dwm_3x3_any(const tc_dwm_t *k, const int8_t *const *tab, int32_t count,
               int32_t step, int8_t *out, int32_t inside)
{
    tc_dwm_3x3_run(k, tab, count, step, out, inside, k->right_only,
                   k->per_channel);
}

/* Channels [c, c + 8) of any output pixel: the rows x cols in-image taps
 * from x (the first one's input pixel) and w (its weights). `inside`: the
 * whole window is in the image, so the folded start values apply;
 * otherwise the taps subtract the zero point and the sums start from the
 * bias. */
__attribute__((always_inline)) static inline void
tc_dwm_group(const tc_dwm_t *k, const int8_t *x, const int8_t *w,
             int32_t rows, int32_t cols, int32_t inside, int32_t c,
             mve_pred16_t pred, int32_t whole, int8_t *out)
{
    const tc_dwm_clamp_t q = {k->out_zp, k->lo, k->hi};
    const int16_t zp = (int16_t)(inside ? 0 : k->zp);
    const int32_t qc = k->per_channel ? c : 0;
    tc_dwm_acc_t acc;
    int32_t r, t;

    if (inside) {
        acc.even = vldrwq_s32(k->u.start + c);
        acc.odd = vldrwq_s32(k->u.start + c + 4);
    } else if (k->bias == NULL) {
        acc.even = vdupq_n_s32(0);
        acc.odd = acc.even;
    } else {
        acc = tc_dwm_load_eo(whole ? k->bias + c : k->tail_bias);
    }
    for (r = 0; r < rows; ++r) {
        const int8_t *xr = x + r * k->x_row + c;
        const int8_t *wr = w + r * k->w_row + c;
        for (t = 0; t < cols; ++t) {
            tc_dwm_mac(&acc, vsubq_n_s16(tc_dwm_ld(xr, pred, whole), zp),
                       tc_dwm_ld(wr, pred, whole));
            xr += k->x_col;
            wr += k->ch;
        }
    }
    tc_dwm_out(acc, whole ? k->mult + qc : k->tail_mult,
               whole ? k->shift + qc : k->tail_shift, q, k->right_only, pred,
               whole, out + c);
}

/* Any output pixel (see tc_dwm_group). */
static void tc_dwm_pixel(const tc_dwm_t *k, const int8_t *x, const int8_t *w,
                         int32_t rows, int32_t cols, int32_t inside,
                         int8_t *out)
{
    int32_t c;
    for (c = 0; c < k->full; c += 8) {
        tc_dwm_group(k, x, w, rows, cols, inside, c, 0, 1, out);
    }
    if (c < k->ch) {
        tc_dwm_group(k, x, w, rows, cols, inside, c,
                     vctp16q((uint32_t)(k->ch - c)), 0, out);
    }
}

/* The per-call constants: start values (with the reordered weights for the
 * unrolled 3x3 path), the zero-point row, tail and per-tensor copies. */
static void tc_dwm_setup(const tc_depthwise_conv_params_t *p,
                         int32_t unrolled, tc_dwm_t *k)
{
    const int32_t ch = p->output.c;
    const int32_t taps = p->kernel_h * p->kernel_w;
    const int32_t per_channel = p->requant.per_channel != 0;
    int32_t c, t, j;

    k->w = (const int8_t *)p->weights.data;
    k->bias = p->bias;
    k->ch = ch;
    k->full = ch & ~7;
    k->zp = p->input_zero_point;
    k->out_zp = p->output_zero_point;
    k->lo = p->act_min;
    k->hi = p->act_max;
    k->x_col = p->dilation_w * ch;
    k->x_row = p->dilation_h * p->input.w * ch;
    k->w_row = p->kernel_w * ch;
    k->per_channel = per_channel;
    k->mult = per_channel ? p->requant.multiplier : k->tensor_mult;
    k->shift = per_channel ? p->requant.shift : k->tensor_shift;
    k->right_only = 1;
    for (c = 0; c < (per_channel ? ch : 1); ++c) {
        k->right_only = k->right_only && p->requant.shift[c] <= -1;
    }
    for (j = 0; j < 8; ++j) {
        const int32_t oc = k->full + j < ch ? k->full + j : ch - 1;
        const int32_t q = per_channel ? oc : 0;
        k->tail_bias[j] = p->bias != NULL ? p->bias[oc] : 0;
        k->tail_mult[j] = p->requant.multiplier[q];
        k->tail_shift[j] = p->requant.shift[q];
        k->tensor_mult[j] = p->requant.multiplier[0];
        k->tensor_shift[j] = p->requant.shift[0];
    }
    for (c = 0; c < ch; c += 8) {
        const mve_pred16_t pred = vctp16q((uint32_t)(ch - c));
        tc_dwm_acc_t sum, start;
        sum.even = vdupq_n_s32(0);
        sum.odd = sum.even;
        vstrbq_p_s8(k->pad + c, vdupq_n_s8((int8_t)k->zp),
                    vctp8q((uint32_t)(ch - c)));
        for (t = 0; t < taps; ++t) {
            /* lanes past the last channel load as 0 */
            const int16x8_t w = vldrbq_z_s16(k->w + t * ch + c, pred);
            if (unrolled) {
                vstrbq_s16(k->u.block[c / 8].w + 8 * t, w);
            }
            sum.even = vaddq_s32(sum.even, vmovlbq_s16(w));
            sum.odd = vaddq_s32(sum.odd, vmovltq_s16(w));
        }
        if (p->bias == NULL) {
            start.even = vdupq_n_s32(0);
            start.odd = start.even;
        } else {
            start = tc_dwm_load_eo(c < k->full ? p->bias + c : k->tail_bias);
        }
        start.even = vsubq_s32(start.even, vmulq_n_s32(sum.even, k->zp));
        start.odd = vsubq_s32(start.odd, vmulq_n_s32(sum.odd, k->zp));
        vstrwq_s32(unrolled ? k->u.block[c / 8].start : k->u.start + c,
                   start.even);
        vstrwq_s32(unrolled ? k->u.block[c / 8].start + 4 : k->u.start + c + 4,
                   start.odd);
    }
}

/* Output row (b, oy) of a 3x3, dilation 1 layer: pixels whose window
 * crosses the border one by one, with a tap table whose outside taps read
 * the zero-point row; the run of pixels whose window lies inside the image
 * in one call, from the rows of the first one's window. */
static void tc_dwm_3x3_row(const tc_depthwise_conv_params_t *p,
                           const tc_dwm_t *k, const int8_t *input, int32_t b,
                           int32_t oy, int8_t *out)
{
    void (*pass)(const tc_dwm_t *, const int8_t *const *, int32_t, int32_t,
                 int8_t *, int32_t) =
        k->right_only && k->per_channel ? tc_dwm_3x3_fast : tc_dwm_3x3_any;
    const int32_t ch = k->ch;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t step = p->stride_w * ch;
    /* output columns [lo, hi) have their window inside the image */
    const int32_t lo = (p->pad_left + p->stride_w - 1) / p->stride_w;
    int32_t hi = p->input.w + p->pad_left >= 3
                     ? (p->input.w + p->pad_left - 3) / p->stride_w + 1
                     : 0;
    /* the window's three input rows; NULL outside the image */
    const int8_t *rows[3];
    const int8_t *tab[9];
    int32_t ox, ky, kx;

    for (ky = 0; ky < 3; ++ky) {
        const int32_t iy = iy0 + ky;
        rows[ky] = iy >= 0 && iy < p->input.h
                       ? input + tc_offset(&p->input, b, iy, 0, 0)
                       : NULL;
    }
    hi = hi > p->output.w ? p->output.w : hi;
    if (rows[0] == NULL || rows[2] == NULL || hi < lo) {
        hi = lo;
    }
    for (ox = 0; ox < p->output.w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_left;
        const int32_t inside = ox == lo && lo < hi;
        for (kx = 0; kx < 3; ++kx) {
            const int32_t ix = ix0 + kx;
            const int32_t column = ix >= 0 && ix < p->input.w;
            for (ky = 0; ky < 3; ++ky) {
                tab[3 * ky + kx] = column && rows[ky] != NULL
                                       ? rows[ky] + ix * ch
                                       : k->pad;
            }
        }
        if (inside) {
            pass(k, tab, hi - lo, step, out + ox * ch, 1);
            ox = hi - 1;
        } else {
            pass(k, tab, 1, 0, out + ox * ch, 0);
        }
    }
}

/* Depth multiplier 1, dense weights, ch <= TC_DWM_MAX_C. */
static void tc_dwm_layer(const tc_depthwise_conv_params_t *p,
                         const int8_t *input, int8_t *output)
{
    tc_dwm_t k;
    const int32_t unrolled = p->kernel_h == 3 && p->kernel_w == 3 &&
                             p->dilation_h == 1 && p->dilation_w == 1;
    int32_t b, oy, ox;

    tc_dwm_setup(p, unrolled, &k);
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t ky0, ky1;
            if (unrolled) {
                tc_dwm_3x3_row(p, &k, input, b, oy,
                               output + tc_offset(&p->output, b, oy, 0, 0));
                continue;
            }
            tc_tap_range(iy0, p->dilation_h, p->kernel_h, p->input.h, &ky0,
                         &ky1);
            for (ox = 0; ox < p->output.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int8_t *out = output + tc_offset(&p->output, b, oy, ox, 0);
                int32_t kx0, kx1;
                tc_tap_range(ix0, p->dilation_w, p->kernel_w, p->input.w,
                             &kx0, &kx1);
                if (ky0 >= ky1 || kx0 >= kx1) {
                    /* no in-image tap: the bias alone */
                    tc_dwm_pixel(&k, input, k.w, 0, 0, 0, out);
                    continue;
                }
                tc_dwm_pixel(&k,
                             input + tc_offset(&p->input, b,
                                               iy0 + p->dilation_h * ky0,
                                               ix0 + p->dilation_w * kx0, 0),
                             k.w + (ky0 * p->kernel_w + kx0) * k.ch,
                             ky1 - ky0, kx1 - kx0,
                             ky1 - ky0 == p->kernel_h &&
                                 kx1 - kx0 == p->kernel_w,
                             out);
            }
        }
    }
}

tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output)
{
    const tc_status_t status = tc_dw_check(p, input, output);
    tc_out_c_t o;
    int32_t b, oy, ox;

    if (status != TC_OK) {
        return status;
    }
    if (p->weights.format == TC_WEIGHTS_S8 && p->depth_multiplier == 1 &&
        p->output.c <= TC_DWM_MAX_C) {
        tc_dwm_layer(p, input, output);
        return TC_OK;
    }
    o = tc_dw_out_stage(p);
    for (b = 0; b < p->input.n; ++b) {
        for (oy = 0; oy < p->output.h; ++oy) {
            for (ox = 0; ox < p->output.w; ++ox) {
                tc_dw_pixel_out(p, &o, input, b, oy, ox, 0, output);
            }
        }
    }
    return TC_OK;
}
