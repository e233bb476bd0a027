/*
 * tc_runtime.h - the tinycompress C99 int8 inference runtime.
 *
 * One public header documents every kernel. Kernels are named
 * tc_<op>_<dtype>(), live one per file in firmware/runtime/src/, never
 * allocate, and return a tc_status_t. They compute bit for bit what
 * TensorFlow Lite Micro's reference kernels compute, so generated code can be
 * checked against the TFLM interpreter on every output byte.
 *
 * Conventions shared by all kernels
 *   - Tensors are dense, row-major, NHWC (batch, height, width, channels).
 *     Tensors of rank < 4 are passed as tc_shape_t with leading dims = 1.
 *   - Zero points are the raw TFLite values (-128..127 for int8); kernels
 *     negate them where TFLM uses "offsets".
 *   - Requantisation uses TFLite's fixed-point form: a Q31 multiplier in
 *     [2^30, 2^31) (or 0) and a power-of-two shift in [-31, 30] (positive =
 *     left), exactly as tinycompress/codegen/quant.py:quantize_multiplier()
 *     produces them. The product is computed with TFLM's double rounding
 *     (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT).
 *   - act_min/act_max are the fused-activation clamp in the output's
 *     quantised domain: -128 <= act_min <= act_max <= 127.
 *   - Parameter structs hold only per-layer constants, so the code generator
 *     can emit them as `static const` data in flash; activations are passed
 *     as pointers into the arena.
 *   - Unless a kernel says "in place allowed" or "shifted overlap allowed",
 *     input and output must not overlap.
 *   - Shifted overlap (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D,
 *     SOFTMAX): the output may start before the input and overlap it when
 *     every output write lands below the lowest input byte still to be read
 *     in raster order (the memory planner guarantees it). These kernels
 *     write each output element exactly once, in increasing address order
 *     (TFLM loop order: n, y, x, channel; depthwise n, y, x, ic, m; softmax
 *     finishes a row's max and sum before writing that row), only after
 *     all reads for that element, and never use the output as scratch.
 *     Optimised variants must keep this or document their look-ahead.
 *
 * Extension points
 *   - Weight storage: kernels with weights take a tc_weights_t whose format
 *     says how the int8 values are stored: TC_WEIGHTS_S8 (dense),
 *     TC_WEIGHTS_PALETTE4 (4-bit indices, for clustered models),
 *     TC_WEIGHTS_SPARSE8 (bitmap + nonzeros, for pruned models) or
 *     TC_WEIGHTS_BLOCK8 (bitmap of blocks + kept blocks, for
 *     block-pruned FULLY_CONNECTED and 1x1 CONV_2D) or TC_WEIGHTS_BLOCK4
 *     (the same with 4-bit palette indices, block-pruned and clustered).
 *     A new
 *     format adds a value, its TC_FORMAT_* bit (TC_WEIGHT_FORMATS) and a
 *     descriptor that `data` points to; kernels read weights through
 *     src/tc_weights.h, and one given a format it cannot use, or one the
 *     build leaves out, returns TC_ERR_UNSUPPORTED.
 *   - Architecture-optimised kernels live in firmware/runtime/arch/<arch>/
 *     and keep the reference file and symbol name: a build takes each
 *     kernel file from the first folder that has it, most specific first,
 *     so arch/<arch>/<name>.c replaces src/<name>.c. Today:
 *       arch/portable/      plain C99 for any core (RISC-V, Xtensa, M0):
 *                           conv, 1x1 conv (2 pixels x 4 channels per
 *                           pass, int16 column pairs: tc_columns.h),
 *                           depthwise (4 channels in registers
 *                           over the window, two interior pixels per
 *                           pass), FC (4 rows per input load; block-
 *                           pruned rows as runs of kept blocks, 4 MACs
 *                           per pass: 0.80x dense at 50 % of blocks of
 *                           16 kept; with 4-bit indices (BLOCK4) each
 *                           index byte's weights from a byte table:
 *                           0.92x),
 *                           a short exact requantisation (tc_out_c.h),
 *                           ADD (32-bit exact rescaling)
 *       arch/cortex-m-dsp/  Cortex-M4/M7/M33/M55, before portable: conv
 *                           (int16 window columns) and 1x1 conv, both
 *                           2 filters x 2 pixels per SMLAD pass, FC (4
 *                           rows per pass; block-pruned rows as CLZ-found
 *                           runs of kept blocks, 22 instructions per 16
 *                           MACs: 0.72x dense at 50 % of blocks of 16
 *                           kept; BLOCK4 through the shared palette's
 *                           table of SMLAD pairs, 29 per 16: 0.93x),
 *                           depthwise 3x3 with
 *                           SMLABB/SMLATT channel lanes (the inner loops
 *                           in hand-allocated assembly), requantisation to
 *                           int8 in one SSAT, ADD with SMMLAR, average pool 4
 *                           channels per SXTAB16
 *       arch/helium/        Cortex-M55, before cortex-m-dsp: conv (the DSP
 *                           columns for small windows) and FC with 16-lane
 *                           MVE dot products (block-pruned rows of blocks
 *                           of 16, 8, 4 through a TBH per bitmap nibble:
 *                           0.95x dense at 50 % of blocks of 16 kept,
 *                           2.6x with blocks of 4; BLOCK4 runs decoded
 *                           by a halfword gather of index-byte weight
 *                           pairs: 1.14x); depthwise (8 channels per
 *                           vector, 3x3 unrolled), ADD, average pool and
 *                           MEAN on int32 lanes with the vector
 *                           requantisation of tc_requant_mve.h
 *     src/ alone is complete (the reference the kernel tests hold against
 *     TFLM); the host build of `verify` uses portable, then src. The
 *     chains live in one table, RUNTIME_ARCH_CHAINS of
 *     tinycompress/resources.py. The variants are
 *     checked bit-exact against the reference on the emulated cores
 *     (firmware/runtime/tests/tc_arch_check.c). The
 *     choice of kernel per layer (e.g. tc_lut_s8 vs tc_logistic_s8) is made
 *     by the code generator, which emits the call.
 */
#ifndef TC_RUNTIME_H
#define TC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_RUNTIME_VERSION "0.1.0"

/* Maximum number of inputs of tc_concat_s8(): TFLM's limit (kMaxInputNum). */
#define TC_CONCAT_MAX_INPUTS 10

/* Element types of a generated model's input and output
 * (<PREFIX>_INPUT_TYPE, <PREFIX>_OUTPUT_TYPE in model.h). */
#define TC_TYPE_INT8 1
#define TC_TYPE_FLOAT32 2

/* ---------------------------------------------------------------- common */

/* Every kernel and tc_model_invoke() return one of these; TC_OK is 0. */
typedef enum {
    TC_OK = 0,              /* success */
    TC_ERR_ARG = 1,         /* NULL pointer or parameter out of its range */
    TC_ERR_SHAPE = 2,       /* shapes inconsistent with each other */
    TC_ERR_UNSUPPORTED = 3  /* valid but not implemented (e.g. weight format) */
} tc_status_t;

/* One entry per generated layer: name and op for reports, MACs for
 * profiling (docs/architecture.md, "Generated model C API"). */
typedef struct {
    const char *name;  /* layer (output tensor) name from the .tflite */
    const char *op;    /* TFLite builtin op name, e.g. "CONV_2D" */
    uint32_t macs;     /* multiply-accumulates of one invocation */
} tc_layer_info_t;

/* A 4-D NHWC shape; every dim >= 1. */
typedef struct {
    int32_t n, h, w, c;
} tc_shape_t;

/* How a weight tensor is stored. */
typedef enum {
    TC_WEIGHTS_S8 = 0,        /* dense int8, layout given by the kernel */
    TC_WEIGHTS_PALETTE4 = 1,  /* 4-bit indices into 16-value palettes */
    TC_WEIGHTS_SPARSE8 = 2,   /* bitmap + nonzero int8 values (pruning) */
    TC_WEIGHTS_BLOCK8 = 3,    /* bitmap of blocks + kept blocks (block pruning) */
    TC_WEIGHTS_BLOCK4 = 4     /* as BLOCK8, kept blocks as 4-bit palette indices */
} tc_weight_format_t;

/* Which weight formats a build compiles in: TC_WEIGHT_FORMATS is a mask of
 * the bits below, bit n standing for tc_weight_format_t value n (macros, so
 * that `#if` can test them). Every kernel carries the decode paths of every
 * packed format, selected at run time, which --gc-sections cannot drop; a
 * generated project passes -DTC_WEIGHT_FORMATS=<P>_WEIGHT_FORMATS (model.h)
 * so a dense model links none of them. A format left out is refused by the
 * kernels (TC_ERR_UNSUPPORTED), never computed wrongly. Undefined: every
 * format. Dense int8 is always compiled. */
#define TC_FORMAT_S8 (1u << 0)
#define TC_FORMAT_PALETTE4 (1u << 1)
#define TC_FORMAT_SPARSE8 (1u << 2)
#define TC_FORMAT_BLOCK8 (1u << 3)
#define TC_FORMAT_BLOCK4 (1u << 4)
#define TC_FORMAT_ALL 0x1Fu
#ifndef TC_WEIGHT_FORMATS
#define TC_WEIGHT_FORMATS TC_FORMAT_ALL
#endif

/* A weight tensor: format + pointer to its data (usually in flash). */
typedef struct {
    tc_weight_format_t format;
    const void *data;  /* TC_WEIGHTS_S8: const int8_t[elements];
                        * TC_WEIGHTS_PALETTE4: const tc_palette4_t *;
                        * TC_WEIGHTS_SPARSE8: const tc_sparse8_t *;
                        * TC_WEIGHTS_BLOCK8: const tc_block8_t *;
                        * TC_WEIGHTS_BLOCK4: const tc_block4_t * */
    uint32_t bytes;    /* TC_WEIGHTS_S8: elements; TC_WEIGHTS_PALETTE4:
                        * bytes of `indices`, i.e. (elements + 1) / 2;
                        * TC_WEIGHTS_SPARSE8: bytes of `bitmap`, i.e.
                        * (elements + 7) / 8; TC_WEIGHTS_BLOCK8 and
                        * TC_WEIGHTS_BLOCK4: bytes of `bitmap`, i.e.
                        * channels * ((row / block + 7) / 8) */
    int8_t *scratch;   /* NULL, or (packed formats, CONV_2D) `elements`
                        * bytes of arena where a kernel with a fast path
                        * for dense weights decodes them once per call and
                        * reuses them at every output pixel; the generator
                        * plans it only for layers that gain from it */
} tc_weights_t;

/* TC_WEIGHTS_PALETTE4: weights of clustered models take at most 16 distinct
 * int8 values per output channel, so each is stored as a 4-bit index. The
 * decoded tensor has the kernel's dense layout; element i's index is the low
 * nibble of indices[i / 2] for even i, the high nibble for odd i; its value is
 * palette[16 * channel + index], channel being the output channel of
 * element i, or palette[index] when `shared` is nonzero: a clustered tensor
 * quantised per tensor (FULLY_CONNECTED) has the same 16 values in every
 * row, which FULLY_CONNECTED kernels turn into one decoding table per call.
 * Decoding is exact, so results equal the dense kernel's. */
typedef struct {
    const int8_t *palette;   /* [output channels][16], or [16] if shared */
    const uint8_t *indices;  /* [(elements + 1) / 2] */
    int32_t shared;          /* 0: a palette per output channel; 1: one */
} tc_palette4_t;

/* TC_WEIGHTS_SPARSE8: pruned weights without their zeros. Bit i of the
 * bitmap ((bitmap[i / 8] >> (i % 8)) & 1) is set when dense element i is
 * nonzero; the nonzero values follow in dense order in `values`, output
 * channel c's first one at values[channel_start[c]]. Zero weights cost
 * neither flash nor MACs. Supported where each output channel's weights
 * are one contiguous row: FULLY_CONNECTED and 1x1 CONV_2D (other kernels
 * return TC_ERR_UNSUPPORTED); the weight zero point must be 0. */
typedef struct {
    const uint8_t *bitmap;           /* [(elements + 7) / 8] */
    const int8_t *values;            /* [nonzero elements] */
    const uint32_t *channel_start;   /* [output channels] */
} tc_sparse8_t;

/* TC_WEIGHTS_BLOCK8: weights pruned in blocks of `block` consecutive
 * elements of an output channel's row (tfmot block pruning of a Dense
 * kernel, block_size (block, 1)), so the kernels skip whole blocks and run
 * their dense SIMD loops on the kept ones. A row of `row` weights (a
 * multiple of `block`) is row / block blocks; channel c's bits take
 * (row / block + 7) / 8 bytes of the bitmap from byte
 * c * ((row / block + 7) / 8), and bit k (LSB first) is set when its block k
 * is kept. The kept blocks follow in dense order in `values`, `block` bytes
 * each (they may hold zeros), channel c's first one at
 * values[channel_start[c]]. A dropped block is all zeros. Supported where
 * each output channel's weights are one contiguous row: FULLY_CONNECTED
 * and 1x1 CONV_2D; the weight zero point must be 0. */
typedef struct {
    const uint8_t *bitmap;           /* [channels][(row / block + 7) / 8] */
    const int8_t *values;            /* [kept blocks * block] */
    const uint32_t *channel_start;   /* [channels], in bytes of `values` */
    int32_t block;                   /* elements per block, >= 1 */
} tc_block8_t;

/* TC_WEIGHTS_BLOCK4: a block-pruned and clustered tensor quantised per
 * tensor (FULLY_CONNECTED of a Dense pruned with [prune] block and
 * clustered to at most 16 values): the bitmap is TC_WEIGHTS_BLOCK8's, and
 * each kept block is block / 2 bytes of 4-bit indices into the one 16-value
 * `palette` every row shares (element 2j of a kept block in the low nibble
 * of its byte j, element 2j + 1 in the high one), so a weight takes half a
 * byte and a dropped block none. channel_start[c] is the byte offset of
 * channel c's first kept block in `indices`. `block` is even; supported
 * where TC_WEIGHTS_BLOCK8 is, with the weight zero point 0. */
typedef struct {
    const uint8_t *bitmap;           /* [channels][(row / block + 7) / 8] */
    const uint8_t *indices;          /* [kept blocks * block / 2] */
    const uint32_t *channel_start;   /* [channels], in bytes of `indices` */
    const int8_t *palette;           /* [16] */
    int32_t block;                   /* elements per block, even, >= 2 */
} tc_block4_t;

/* Output requantisation of a conv / depthwise / fully connected layer.
 * per_channel = 1: one (multiplier, shift) per output channel;
 * per_channel = 0: multiplier[0], shift[0] apply to every channel. */
typedef struct {
    const int32_t *multiplier;  /* Q31, 0 or [2^30, 2^31) */
    const int32_t *shift;       /* [-31, 30] */
    int32_t per_channel;        /* 0 or 1 */
} tc_requant_t;

/* ------------------------------------------------------------ CONV_2D */

/* CONV_2D, int8 activations, int8 weights (per-channel or per-tensor
 * quantised, weight zero point 0), int32 bias.
 *   input   [input.n][input.h][input.w][input.c]
 *   weights [output.c][kernel_h][kernel_w][input.c]   (OHWI, TFLite order)
 *   bias    [output.c] or NULL
 *   output  [input.n][output.h][output.w][output.c]
 * Padding: the generator computes pad_top/pad_left the way TFLite does
 * (quant.py:compute_padding); bottom/right padding is implied by the output
 * size. Out-of-image taps are skipped (they contribute nothing).
 * Ranges: strides, dilations, kernel dims >= 1; pads >= 0;
 * output.n == input.n. */
typedef struct {
    tc_shape_t input;
    tc_shape_t output;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    tc_weights_t weights;
    const int32_t *bias;
    tc_requant_t requant;  /* output.c channels */
} tc_conv_params_t;

/* The Cortex-M DSP and Helium variants copy the windows of two output
 * pixels at a time, widened to int16, to the stack (at most 2.9 KiB, for
 * windows of up to 576 values: kernel_h * kernel_w * input.c); so does
 * the portable one (2.6 KiB with its output buffer). */
tc_status_t tc_conv_s8(const tc_conv_params_t *p, const int8_t *input,
                       int8_t *output);

/* CONV_2D with a 1x1 filter and no padding (pointwise layers; any stride):
 * the same parameters and results as tc_conv_s8, computed as a matrix
 * product with no window arithmetic. The code generator calls it for those
 * layers; given any other shape it returns tc_conv_s8's result. Output
 * pixels are written in raster order, each after its input pixel is read
 * (shifted overlap allowed, as tc_conv_s8). The Cortex-M DSP variant keeps
 * two widened input pixels and their sums on the stack (at most 3072
 * bytes, for up to 256 input and output channels), the portable one two
 * int16 input pixels and an output pixel (2.6 KiB). */
tc_status_t tc_conv_1x1_s8(const tc_conv_params_t *p, const int8_t *input,
                           int8_t *output);

/* --------------------------------------------------- DEPTHWISE_CONV_2D */

/* DEPTHWISE_CONV_2D with any depth multiplier:
 * output.c == input.c * depth_multiplier; output channel
 * oc = ic * depth_multiplier + m.
 *   weights [1][kernel_h][kernel_w][output.c]
 *   bias    [output.c] or NULL
 * Other fields and ranges as tc_conv_params_t. */
typedef struct {
    tc_shape_t input;
    tc_shape_t output;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;
    int32_t depth_multiplier;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    tc_weights_t weights;
    const int32_t *bias;
    tc_requant_t requant;  /* output.c channels */
} tc_depthwise_conv_params_t;

/* The portable variant keeps a per-channel zero-point fold and a second
 * output pixel on the stack (1.3 KiB, for up to 256 channels). */
tc_status_t tc_depthwise_conv_s8(const tc_depthwise_conv_params_t *p,
                                 const int8_t *input, int8_t *output);

/* ------------------------------------------------------ FULLY_CONNECTED */

/* FULLY_CONNECTED (keep_num_dims either way; the layout is the same).
 *   input   [batches][input_depth]
 *   weights [output_depth][input_depth]
 *   bias    [output_depth] or NULL
 *   output  [batches][output_depth]
 * weights_zero_point is the weight tensor's zero point (0 for int8 models
 * produced by the converter; TFLM subtracts it anyway). */
typedef struct {
    int32_t batches;
    int32_t input_depth;
    int32_t output_depth;
    int32_t input_zero_point;
    int32_t weights_zero_point;
    int32_t output_zero_point;
    int32_t act_min, act_max;
    tc_weights_t weights;
    const int32_t *bias;
    tc_requant_t requant;  /* output_depth channels */
} tc_fully_connected_params_t;

/* The Cortex-M DSP and portable variants widen the input to int16 on the
 * stack (up to 2 KiB, input depths up to 1024); with a shared palette
 * (TC_WEIGHTS_PALETTE4, `shared`) or TC_WEIGHTS_BLOCK4 they add a 1 KiB
 * decoding table (the Helium one 768 bytes for TC_WEIGHTS_BLOCK4). */
tc_status_t tc_fully_connected_s8(const tc_fully_connected_params_t *p,
                                  const int8_t *input, int8_t *output);

/* ------------------------------------------ AVERAGE_POOL_2D, MAX_POOL_2D */

/* Pooling over H and W, per channel; input and output share quantisation
 * (TFLite requires it), so no requantisation happens.
 *   input  [input.n][input.h][input.w][input.c]
 *   output [input.n][output.h][output.w][input.c]   (output.c == input.c)
 * Average pool divides by the number of in-image taps, rounding half away
 * from zero, like TFLM. */
typedef struct {
    tc_shape_t input;
    tc_shape_t output;
    int32_t filter_h, filter_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
} tc_pool_params_t;

tc_status_t tc_avgpool_s8(const tc_pool_params_t *p, const int8_t *input,
                          int8_t *output);
tc_status_t tc_maxpool_s8(const tc_pool_params_t *p, const int8_t *input,
                          int8_t *output);

/* ------------------------------------------------------------------ ADD */

/* ADD with 4-D broadcasting: each input dim equals the output dim or is 1.
 * Constants as TFLM's Prepare computes them (quant.py:add_params):
 * left_shift = 20, input multipliers scale each input to
 * 2 * max(input scales), the output multiplier maps that to the output.
 * In place allowed: output may alias an input of the output's shape. */
typedef struct {
    tc_shape_t input1;
    tc_shape_t input2;
    tc_shape_t output;
    int32_t input1_zero_point;
    int32_t input2_zero_point;
    int32_t output_zero_point;
    int32_t left_shift;           /* 0..30 */
    int32_t input1_multiplier;    /* shifts here are <= 0 */
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min, act_max;
} tc_add_params_t;

tc_status_t tc_add_s8(const tc_add_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output);

/* ------------------------------------------------------------------ MUL */

/* MUL with 4-D broadcasting (as ADD). output_multiplier/shift quantise
 * input1_scale * input2_scale / output_scale. In place allowed as ADD. */
typedef struct {
    tc_shape_t input1;
    tc_shape_t input2;
    tc_shape_t output;
    int32_t input1_zero_point;
    int32_t input2_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min, act_max;
} tc_mul_params_t;

tc_status_t tc_mul_s8(const tc_mul_params_t *p, const int8_t *input1,
                      const int8_t *input2, int8_t *output);

/* -------------------------------------------------------------- SOFTMAX */

/* SOFTMAX over the last dimension, int8 -> int8 (output scale 1/256, zero
 * point -128, as TFLite requires). Fixed-point (gemmlowp) exp and reciprocal,
 * no tables. Constants from quant.py:softmax_params (beta folded in).
 * Rows of up to 64 values keep their exps on the stack (256 bytes).
 *   input/output [rows][depth] */
typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t input_multiplier;
    int32_t input_left_shift;  /* >= 0 */
    int32_t diff_min;          /* <= 0 */
} tc_softmax_params_t;

tc_status_t tc_softmax_s8(const tc_softmax_params_t *p, const int8_t *input,
                          int8_t *output);

/* ------------------------------------------------------ LOGISTIC, TANH */

/* Elementwise LOGISTIC (output scale 1/256, zero point -128) and TANH
 * (output scale 1/128, zero point 0), gemmlowp fixed point with a Q4.27
 * input, as TFLM. Constants from quant.py:logistic_params / tanh_params.
 * In place allowed. */
typedef struct {
    int32_t size;                /* elements */
    int32_t input_zero_point;
    int32_t input_range_radius;  /* |input - zp| >= radius saturates */
    int32_t input_multiplier;
    int32_t input_left_shift;
} tc_logistic_params_t;

typedef tc_logistic_params_t tc_tanh_params_t;

tc_status_t tc_logistic_s8(const tc_logistic_params_t *p, const int8_t *input,
                           int8_t *output);
tc_status_t tc_tanh_s8(const tc_tanh_params_t *p, const int8_t *input,
                       int8_t *output);

/* Any int8 -> int8 elementwise op as a 256-entry table computed on the host
 * (quant.py: logistic_table, tanh_table): output = table[input + 128].
 * The fast alternative to tc_logistic_s8 / tc_tanh_s8, with identical
 * results. In place allowed. */
typedef struct {
    int32_t size;
    const int8_t *table;  /* [256] */
} tc_lut_params_t;

tc_status_t tc_lut_s8(const tc_lut_params_t *p, const int8_t *input,
                      int8_t *output);

/* -------------------------------------------------------- RELU, RELU6 */

/* Standalone RELU: requantise input -> output scale, then clamp to
 * [act_min, act_max] (act_min = quantised 0, act_max = 127), as TFLM.
 * In place allowed. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min, act_max;
} tc_relu_params_t;

tc_status_t tc_relu_s8(const tc_relu_params_t *p, const int8_t *input,
                       int8_t *output);

/* Standalone RELU6: TFLM clamps in the input's quantised domain without
 * requantising: lower = input zero point, upper = quantised 6.0 (clamped to
 * int8). In place allowed. */
typedef struct {
    int32_t size;
    int32_t lower;
    int32_t upper;
} tc_relu6_params_t;

tc_status_t tc_relu6_s8(const tc_relu6_params_t *p, const int8_t *input,
                        int8_t *output);

/* ------------------------------------------------------------------ PAD */

/* PAD / PADV2 of a 4-D tensor with a constant (pad_value: the output zero
 * point for PAD, the quantised constant for PADV2).
 * output.x == input.x + before.x + after.x for each dim. */
typedef struct {
    tc_shape_t input;
    tc_shape_t output;
    tc_shape_t before;  /* leading pads, each >= 0 (not a shape: pad sizes) */
    int32_t pad_value;
} tc_pad_params_t;

tc_status_t tc_pad_s8(const tc_pad_params_t *p, const int8_t *input,
                      int8_t *output);

/* ----------------------------------------------------------------- MEAN */

/* MEAN of a 4-D tensor over the axes set in axis_mask (bit 0 = n, 1 = h,
 * 2 = w, 3 = c). The output holds the kept dims in order (keep_dims does not
 * change the layout). multiplier/shift quantise input_scale / output_scale;
 * the kernel folds the 1/count factor in exactly as TFLM does. */
typedef struct {
    tc_shape_t input;
    uint32_t axis_mask;  /* 1..15 */
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} tc_mean_params_t;

tc_status_t tc_mean_s8(const tc_mean_params_t *p, const int8_t *input,
                       int8_t *output);

/* -------------------------------------------------------- CONCATENATION */

/* CONCATENATION along one axis, int8: a byte copy, as TFLM. The tensor is
 * seen as [outer][axis * inner]: input i contributes copy_size[i]
 * contiguous bytes per outer step. Like TFLM, the code generator accepts
 * only inputs quantised exactly like the output, so no rescaling happens.
 *   inputs: num_inputs pointers, 1 <= num_inputs <= TC_CONCAT_MAX_INPUTS */
typedef struct {
    int32_t num_inputs;
    int32_t outer_size;
    const int32_t *copy_size;  /* [num_inputs] */
} tc_concat_params_t;

tc_status_t tc_concat_s8(const tc_concat_params_t *p,
                         const int8_t *const *inputs, int8_t *output);

/* ----------------------------------------------- QUANTIZE, DEQUANTIZE */

/* QUANTIZE int8 -> int8 (requantise to another scale / zero point).
 * In place allowed. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} tc_requantize_params_t;

tc_status_t tc_quantize_s8(const tc_requantize_params_t *p,
                           const int8_t *input, int8_t *output);

/* QUANTIZE float32 -> int8: round(x / scale) + zero_point, saturated; the
 * division is in float and rounds half away from zero, as TFLM's
 * AffineQuantize. x / scale beyond +-2^30 saturates (TFLM's int32 cast is
 * undefined there); NaN gives zero_point. In place not allowed. */
typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} tc_quantize_f32_params_t;

tc_status_t tc_quantize_f32_s8(const tc_quantize_f32_params_t *p,
                               const float *input, int8_t *output);

/* DEQUANTIZE int8 -> float32: (float)(scale * (q - zero_point)) computed in
 * double, as TFLM. */
typedef struct {
    int32_t size;
    double scale;
    int32_t zero_point;
} tc_dequantize_params_t;

tc_status_t tc_dequantize_s8_f32(const tc_dequantize_params_t *p,
                                 const int8_t *input, float *output);

/* ------------------------------------- RESHAPE, SQUEEZE, EXPAND_DIMS */

/* These are views: the planner gives input and output the same arena
 * offset and no code runs. When it cannot (e.g. the input is a graph input
 * that must survive), the generator emits this copy. Overlap allowed. */
tc_status_t tc_reshape_s8(const int8_t *input, int8_t *output, int32_t size);

#ifdef __cplusplus
}
#endif

#endif /* TC_RUNTIME_H */
