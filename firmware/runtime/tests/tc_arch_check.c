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

#include "tc_port.h"
#include "tc_runtime.h"

tc_status_t tc_ref_conv_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output);
tc_status_t tc_ref_fully_connected_s8(const tc_fully_connected_params_t *p,
                                      const int8_t *input, int8_t *output);
tc_status_t tc_ref_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                     const int8_t *input, int8_t *output);

#define MAX_IO 4096
#define MAX_W 16384
#define MAX_C 64

static int8_t input_buf[MAX_IO];
static int8_t out_ref[MAX_IO];
static int8_t out_arch[MAX_IO];
static int8_t weights[MAX_W];
static int8_t palette_buf[MAX_C * 16];
static int32_t bias[MAX_C];
static int32_t mults[MAX_C];
static int32_t shifts[MAX_C];
static uint32_t rng_state = 12345u;

static void put(const char *s);

static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static void fill(int8_t *buf, int32_t n, int32_t capacity)
{
    int32_t i;
    if (n > capacity) {
        put("TC_ARCH_CHECK FAIL: test layer larger than its buffer\n");
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
        put("TC_ARCH_CHECK FAIL: too many channels\n");
        tc_port_exit(255);
    }
    for (c = 0; c < channels; ++c) {
        bias[c] = (int32_t)(rnd() % 20001u) - 10000;
        mults[c] = (int32_t)(0x40000000u + (rnd() & 0x3FFFFFFFu));
        shifts[c] = depth > 64 ? -11 : -8;
    }
}

static void put(const char *s)
{
    tc_port_write((const uint8_t *)s, strlen(s));
}

static void put_u32(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    put(buf + i);
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
    put(name);
    put(" ref=");
    put_u32(ref_ticks);
    put(" arch=");
    put_u32(arch_ticks);
    put(" bytes=");
    put_u32((uint32_t)size);
    put(" mismatches=");
    put_u32((uint32_t)diff);
    if (first >= 0) {
        put(" first=");
        put_u32((uint32_t)first);
        put(" ref_value=");
        put_u32((uint32_t)(out_ref[first] + 128));
        put(" arch_value=");
        put_u32((uint32_t)(out_arch[first] + 128));
        put(" (+128)");
    }
    put(s1 == TC_OK && s2 == TC_OK ? "\n" : " status-error\n");
    return diff != 0 || s1 != TC_OK || s2 != TC_OK;
}

/* A conv layer: square kernel k, stride, symmetric pad, dilation; weights
 * dense int8 or (palette != 0) TC_WEIGHTS_PALETTE4. */
static int check_conv(const char *name, tc_shape_t in, int32_t oc, int32_t k,
                      int32_t stride, int32_t pad, int32_t dilation,
                      int palette)
{
    static tc_palette4_t packed;
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
    p.act_min = -128;
    p.act_max = 127;
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
    p.bias = bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel = 1;

    t0 = tc_port_timer_read();
    s1 = tc_ref_depthwise_conv_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_depthwise_conv_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, p.output.n * p.output.h * p.output.w * oc, t1 - t0,
                  t2 - t1, s1, s2);
}

static int check_fc(const char *name, int32_t in_depth, int32_t out_depth)
{
    tc_fully_connected_params_t p;
    uint32_t t0, t1, t2;
    tc_status_t s1, s2;

    memset(&p, 0, sizeof p);
    p.batches = 1;
    p.input_depth = in_depth;
    p.output_depth = out_depth;
    p.input_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.weights_zero_point = 0;
    p.output_zero_point = (int32_t)(rnd() % 256u) - 128;
    p.act_min = -100;
    p.act_max = 120;
    fill(weights, in_depth * out_depth, MAX_W);
    fill(input_buf, in_depth, MAX_IO);
    fill_requant(out_depth, in_depth);
    p.weights.format = TC_WEIGHTS_S8;
    p.weights.data = weights;
    p.weights.bytes = (uint32_t)(in_depth * out_depth);
    p.bias = bias;
    p.requant.multiplier = mults;
    p.requant.shift = shifts;
    p.requant.per_channel = 1;

    t0 = tc_port_timer_read();
    s1 = tc_ref_fully_connected_s8(&p, input_buf, out_ref);
    t1 = tc_port_timer_read();
    s2 = tc_fully_connected_s8(&p, input_buf, out_arch);
    t2 = tc_port_timer_read();
    return report(name, out_depth, t1 - t0, t2 - t1, s1, s2);
}

int main(void)
{
    static const tc_shape_t pw = {1, 8, 8, 32};
    static const tc_shape_t c3 = {1, 9, 9, 16};
    static const tc_shape_t odd = {1, 7, 6, 3};
    static const tc_shape_t c6 = {1, 9, 8, 6};
    static const tc_shape_t dw32 = {1, 10, 10, 32};
    static const tc_shape_t dw40 = {1, 9, 10, 40};
    int failures = 0;

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
    put(failures == 0 ? "TC_ARCH_CHECK PASS\n" : "TC_ARCH_CHECK FAIL\n");
    return failures;
}
