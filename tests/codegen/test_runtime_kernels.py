"""The C runtime on its own: portability, status codes, float (de)quantisation,
and the host-side constant helpers in tinycompress/codegen/quantization.py,
fixedpoint.py and packing.py.

Kernels reached through generated models are covered by test_ops.py and
test_float_io.py; here the runtime is compiled as a shared library and called
through ctypes, so the float QUANTIZE / DEQUANTIZE kernels are also compared
byte for byte with TFLM on their own.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest

from keras_int8 import convert_int8, tf, tf_keras
from tinycompress.codegen import fixedpoint, packing, quantization, runtime_sources
from tinycompress.codegen.quantization import activation_range, compute_padding, quantize_multiplier
from tinycompress.errors import ModelFormatError, UnsupportedError
from tinycompress.oracle import TflmOracle

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]

RUNTIME = Path(__file__).resolve().parents[2] / "firmware" / "runtime"
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
TC_OK, TC_ERR_ARG, TC_ERR_SHAPE, TC_ERR_UNSUPPORTED = 0, 1, 2, 3

i32 = ctypes.c_int32
PI32 = ctypes.POINTER(i32)
PI8 = ctypes.POINTER(ctypes.c_int8)


class Shape(ctypes.Structure):
    _fields_ = [(n, i32) for n in "nhwc"]


class Weights(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("data", ctypes.c_void_p), ("bytes", ctypes.c_uint32),
                ("scratch", ctypes.c_void_p)]


class Requant(ctypes.Structure):
    _fields_ = [("multiplier", PI32), ("shift", PI32), ("per_channel", i32)]


class FullyConnected(ctypes.Structure):
    _fields_ = [(n, i32) for n in ("batches", "input_depth", "output_depth", "input_zero_point",
                                   "weights_zero_point", "output_zero_point", "act_min", "act_max")]
    _fields_ += [("weights", Weights), ("bias", PI32), ("requant", Requant)]


class Pool(ctypes.Structure):
    _fields_ = [("input", Shape), ("output", Shape)]
    _fields_ += [(n, i32) for n in ("filter_h", "filter_w", "stride_h", "stride_w", "pad_top", "pad_left",
                                   "act_min", "act_max")]


class Sigmoid(ctypes.Structure):
    _fields_ = [(n, i32) for n in ("size", "input_zero_point", "input_range_radius", "input_multiplier",
                                   "input_left_shift")]


class QuantizeF32(ctypes.Structure):
    _fields_ = [("size", i32), ("scale", ctypes.c_float), ("zero_point", i32)]


class Dequantize(ctypes.Structure):
    _fields_ = [("size", i32), ("scale", ctypes.c_double), ("zero_point", i32)]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The runtime built as a host shared library with warnings as errors."""
    lib = tmp_path_factory.mktemp("runtime") / "libtc_runtime.so"
    subprocess.run(["gcc", *WARNINGS, "-O2", "-fPIC", "-shared", f"-I{RUNTIME / 'include'}",
                    *map(str, runtime_sources()), "-o", str(lib)], check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(lib))


def ptr8(a: np.ndarray) -> ctypes._Pointer:
    return a.ctypes.data_as(PI8)


# ---------------------------------------------------------------- portability

CROSS = {
    "cortex-m4": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "cortex-m55": ["arm-none-eabi-gcc", "-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"],
    "cortex-m0": ["arm-none-eabi-gcc", "-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"],
    "rv32imc": ["riscv64-unknown-elf-gcc", "--specs=picolibc.specs", "-misa-spec=2.2", "-march=rv32imc",
                "-mabi=ilp32"],
}
# The runtime_arch (kernel chain) a build for each core uses.
CROSS_ARCH = {"cortex-m4": "cortex-m-dsp", "cortex-m55": "helium", "cortex-m0": "portable", "rv32imc": "portable"}


@pytest.mark.parametrize("target", [pytest.param(t, marks=pytest.mark.needs_tools(CROSS[t][0])) for t in sorted(CROSS)])
def test_runtime_cross_compiles_without_warnings(target: str, tmp_path: Path) -> None:
    """The reference kernels and every kernel of the core's chain (e.g. the DSP ones on the M55)."""
    cc, *flags = CROSS[target]
    for source in sorted({*runtime_sources(), *runtime_sources(CROSS_ARCH[target])}):
        result = subprocess.run([cc, *flags, *WARNINGS, "-Os", f"-I{RUNTIME / 'include'}", "-c", str(source),
                                 "-o", str(tmp_path / f"{source.parent.name}_{source.stem}.o")],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{source.relative_to(RUNTIME)} on {target}:\n{result.stderr}"


def test_runtime_never_allocates() -> None:
    sources = [*runtime_sources(), *RUNTIME.glob("src/*.h"), *RUNTIME.glob("arch/*/*")]
    for source in [*sources, RUNTIME / "include" / "tc_runtime.h"]:
        text = source.read_text()
        for banned in ("malloc(", "calloc(", "realloc(", "free(", "<math.h>", "<stdio.h>"):
            assert banned not in text, f"{source.name} uses {banned}"


def test_every_kernel_in_header_has_one_source_file() -> None:
    header = (RUNTIME / "include" / "tc_runtime.h").read_text()
    names = {line.split("(")[0].split()[-1] for line in header.splitlines() if line.startswith("tc_status_t tc_")}
    assert len(names) >= 19
    for name in names:
        assert (RUNTIME / "src" / f"{name}.c").is_file(), f"{name} has no src/{name}.c"


# --------------------------------------------------------------- status codes

def _fc(weights: np.ndarray, mults: np.ndarray, shifts: np.ndarray, fmt: int = 0) -> FullyConnected:
    return FullyConnected(1, weights.shape[1], weights.shape[0], 0, 0, 0, -128, 127,
                          Weights(fmt, weights.ctypes.data, weights.nbytes), None,
                          Requant(mults.ctypes.data_as(PI32), shifts.ctypes.data_as(PI32), 0))


def test_kernels_report_bad_arguments_with_status(runtime: ctypes.CDLL) -> None:
    weights = np.ones((3, 4), np.int8)
    mults, shifts = np.array([1 << 30], np.int32), np.array([-4], np.int32)
    x, out = np.arange(4, dtype=np.int8), np.zeros(3, np.int8)

    ok = _fc(weights, mults, shifts)
    assert runtime.tc_fully_connected_s8(ctypes.byref(ok), ptr8(x), ptr8(out)) == TC_OK
    assert out.tolist() == [0, 0, 0]  # (0+1+2+3) / 16 rounds to 0

    packed = _fc(weights, mults, shifts, fmt=7)
    assert runtime.tc_fully_connected_s8(ctypes.byref(packed), ptr8(x), ptr8(out)) == TC_ERR_UNSUPPORTED
    assert runtime.tc_fully_connected_s8(ctypes.byref(ok), None, ptr8(out)) == TC_ERR_ARG
    assert runtime.tc_fully_connected_s8(None, ptr8(x), ptr8(out)) == TC_ERR_ARG
    ok.input_depth = 5
    assert runtime.tc_fully_connected_s8(ctypes.byref(ok), ptr8(x), ptr8(out)) == TC_ERR_SHAPE

    pool = Pool(Shape(1, 4, 4, 2), Shape(1, 2, 2, 3), 2, 2, 2, 2, 0, 0, -128, 127)
    img = np.zeros(32, np.int8)
    assert runtime.tc_maxpool_s8(ctypes.byref(pool), ptr8(img), ptr8(np.zeros(12, np.int8))) == TC_ERR_SHAPE
    pool.output.c, pool.act_min = 2, 100
    pool.act_max = 50
    assert runtime.tc_avgpool_s8(ctypes.byref(pool), ptr8(img), ptr8(np.zeros(8, np.int8))) == TC_ERR_ARG


def test_reshape_copy_allows_overlap(runtime: ctypes.CDLL) -> None:
    buf = np.arange(10, dtype=np.int8)
    assert runtime.tc_reshape_s8(ptr8(buf), ptr8(buf[2:]), 6) == TC_OK
    assert buf.tolist() == [0, 1, 0, 1, 2, 3, 4, 5, 8, 9]


# ------------------------------------------------ float QUANTIZE / DEQUANTIZE

def _float_io_model(float_input: bool) -> bytes:
    """int8 LOGISTIC with a float input (QUANTIZE first) or float output (DEQUANTIZE last)."""
    tf_keras.utils.set_random_seed(0)
    inp = tf_keras.layers.Input((48,), batch_size=1)
    model = tf_keras.Model(inp, tf_keras.layers.Activation("sigmoid")(inp))
    rng = np.random.default_rng(0)
    calib = [rng.normal(0, 3, (1, 48)).astype(np.float32) for _ in range(16)]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x] for x in calib)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.float32 if float_input else tf.int8
    converter.inference_output_type = tf.int8 if float_input else tf.float32
    return bytes(converter.convert())


def _tensor_quant(tflite: bytes) -> tuple[dict, list]:
    interpreter = tf.lite.Interpreter(model_content=tflite)
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    return details, interpreter._get_ops_details()


def _scale_zp(detail: dict) -> tuple[float, int]:
    params = detail["quantization_parameters"]
    return float(params["scales"][0]), int(params["zero_points"][0])


def _logistic(runtime: ctypes.CDLL, scale: float, zero_point: int, x: np.ndarray) -> np.ndarray:
    p = quantization.logistic_params(scale, zero_point, x.size)
    out = np.zeros(x.size, np.int8)
    assert runtime.tc_logistic_s8(ctypes.byref(Sigmoid(*p.__dict__.values())), ptr8(x), ptr8(out)) == TC_OK
    return out


def test_float_quantize_matches_tflm(runtime: ctypes.CDLL) -> None:
    tflite = _float_io_model(float_input=True)
    details, ops = _tensor_quant(tflite)
    assert [op["op_name"] for op in ops] == ["QUANTIZE", "LOGISTIC"]
    scale, zero_point = _scale_zp(details[ops[0]["outputs"][0]])
    x = np.random.default_rng(1).normal(0, 4, (1, 48)).astype(np.float32)
    x[0, :6] = [0.0, 2.5 * np.float32(scale), -2.5 * np.float32(scale), 1e-9, 500.0, -500.0]

    q = np.zeros(48, np.int8)
    params = QuantizeF32(48, scale, zero_point)
    xf = np.ascontiguousarray(x.ravel())
    assert runtime.tc_quantize_f32_s8(ctypes.byref(params), xf.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                      ptr8(q)) == TC_OK
    ours = _logistic(runtime, scale, zero_point, q)
    np.testing.assert_array_equal(ours, TflmOracle(tflite).run(x).ravel())


def test_dequantize_matches_tflm_bit_for_bit(runtime: ctypes.CDLL) -> None:
    tflite = _float_io_model(float_input=False)
    details, ops = _tensor_quant(tflite)
    assert [op["op_name"] for op in ops] == ["LOGISTIC", "DEQUANTIZE"]
    in_scale, in_zp = _scale_zp(details[ops[0]["inputs"][0]])
    mid_scale, mid_zp = _scale_zp(details[ops[0]["outputs"][0]])
    x = np.random.default_rng(2).integers(-128, 128, (1, 48)).astype(np.int8)

    mid = _logistic(runtime, in_scale, in_zp, np.ascontiguousarray(x.ravel()))
    out = np.zeros(48, np.float32)
    params = Dequantize(48, mid_scale, mid_zp)
    assert runtime.tc_dequantize_s8_f32(ctypes.byref(params), ptr8(mid),
                                        out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))) == TC_OK
    ref = TflmOracle(tflite).run(x).ravel()
    assert out.view(np.uint32).tolist() == ref.view(np.uint32).tolist()


# ---------------------------------------------------------- quantization.py

def test_quantize_multiplier_matches_tflite_definition() -> None:
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(0.75) == (3 << 29, 0)
    # Halves round away from zero (std::round), not to even.
    assert quantize_multiplier(((1 << 30) + 0.5) / (1 << 31)) == ((1 << 30) + 1, 0)
    # A mantissa that rounds up to 2^31 is halved and the exponent bumped.
    assert quantize_multiplier(1.0 - 2.0 ** -34) == (1 << 30, 1)
    # Below 2^-32 everything flushes to zero.
    assert quantize_multiplier(2.0 ** -40) == (0, 0)
    with pytest.raises(ModelFormatError):
        quantize_multiplier(float("nan"))
    with pytest.raises(UnsupportedError):
        quantize_multiplier(2.0 ** 31)
    for real in np.random.default_rng(0).uniform(1e-6, 4.0, 200):
        mult, shift = quantize_multiplier(real)
        assert (1 << 30) <= mult < (1 << 31)
        assert abs(mult * 2.0 ** (shift - 31) - real) <= real * 2.0 ** -30


def test_compute_padding_matches_tflite_output_sizes() -> None:
    assert compute_padding(9, 3, 2, 1, "SAME") == (5, 1)
    assert compute_padding(8, 3, 2, 1, "SAME") == (4, 0)  # odd total padding goes after
    assert compute_padding(9, 3, 2, 1, "VALID") == (4, 0)
    assert compute_padding(9, 3, 1, 2, "SAME") == (9, 2)  # dilation widens the filter to 5
    assert compute_padding(9, 3, 1, 2, "VALID") == (5, 0)
    with pytest.raises(ModelFormatError):
        compute_padding(9, 3, 1, 1, "FULL")


def test_activation_range_accepts_names_and_tflite_codes() -> None:
    assert activation_range("NONE", 0.1, 3) == (-128, 127)
    assert activation_range("RELU", 0.1, 3) == (3, 127)
    assert activation_range(3, 0.05, -10) == (-10, 110)  # RELU6: 6 / 0.05 = 120 steps
    assert activation_range("RELU_N1_TO_1", 0.01, 0) == (-100, 100)
    with pytest.raises(UnsupportedError, match="supported: NONE, RELU"):
        activation_range(5, 0.1, 0)


def test_axis_mask_resolves_negative_axes_of_any_rank() -> None:
    assert quantization.axis_mask([1, 2], 4) == 0b0110
    assert quantization.axis_mask([-1], 3) == 0b1000
    assert quantization.axis_mask([0], 2) == 0b0100
    with pytest.raises(ModelFormatError):
        quantization.axis_mask([4], 4)


# ------------------------------------------------- packed palette weights

class Conv(ctypes.Structure):
    _fields_ = [("input", Shape), ("output", Shape)]
    _fields_ += [(n, i32) for n in ("kernel_h", "kernel_w", "stride_h", "stride_w", "dilation_h", "dilation_w",
                                   "pad_top", "pad_left", "input_zero_point", "output_zero_point",
                                   "act_min", "act_max")]
    _fields_ += [("weights", Weights), ("bias", PI32), ("requant", Requant)]


class Depthwise(ctypes.Structure):
    _fields_ = [("input", Shape), ("output", Shape)]
    _fields_ += [(n, i32) for n in ("kernel_h", "kernel_w", "stride_h", "stride_w", "dilation_h", "dilation_w",
                                   "pad_top", "pad_left", "depth_multiplier", "input_zero_point",
                                   "output_zero_point", "act_min", "act_max")]
    _fields_ += [("weights", Weights), ("bias", PI32), ("requant", Requant)]


class Palette4(ctypes.Structure):
    _fields_ = [("palette", PI8), ("indices", ctypes.POINTER(ctypes.c_uint8)), ("shared", i32)]


TC_WEIGHTS_PALETTE4 = 1
CLUSTERED = {
    "CONV_2D": lambda: tf_keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
    "DEPTHWISE_CONV_2D": lambda: tf_keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
    "FULLY_CONNECTED": lambda: tf_keras.layers.Dense(16),
}


def _clustered_model(op: str, per_channel: bool = True) -> bytes:
    """One layer whose kernel takes 16 distinct float values per output channel, as tfmot clustering
    leaves it; per channel, each channel's centroids are shifted, so the whole tensor has more than 16."""
    tf_keras.utils.set_random_seed(0)
    shape = (128,) if op == "FULLY_CONNECTED" else (7, 6, 16)
    inp = tf_keras.layers.Input(shape, batch_size=1)
    layer = CLUSTERED[op]()
    model = tf_keras.Model(inp, layer(inp))
    kernel, *rest = layer.get_weights()
    centroids = np.linspace(-0.6, 0.5, 16, dtype=np.float32)
    clustered = centroids[np.random.default_rng(1).integers(0, 16, kernel.shape)]
    if per_channel:
        clustered += np.linspace(-0.2, 0.2, kernel.shape[-1], dtype=np.float32)
    layer.set_weights([clustered, *rest])
    return convert_int8(model, samples=16, per_channel=per_channel)


# Per-tensor FULLY_CONNECTED: what compress makes of a clustered Dense; its one shared palette takes
# the kernels' table path (input depth 128, a multiple of 8).
@pytest.mark.parametrize("op, per_channel", [(op, True) for op in sorted(CLUSTERED)] + [("FULLY_CONNECTED", False)])
def test_palette4_weights_match_tflm(runtime: ctypes.CDLL, op: str, per_channel: bool) -> None:
    from tinycompress.tflite import read_model

    tflite = _clustered_model(op, per_channel)
    model = read_model(tflite)
    assert [o.op for o in model.operators] == [op]
    node = model.operators[0]
    x_t, w_t, y_t = (model.tensors[i] for i in (node.inputs[0], node.inputs[1], node.outputs[0]))
    weights = w_t.array()
    packed = packing.pack_palette4(weights, channel_axis=3 if op == "DEPTHWISE_CONV_2D" else 0)
    assert packed is not None
    channels = weights.shape[3 if op == "DEPTHWISE_CONV_2D" else 0]
    assert packed.shared == (not per_channel)
    assert packed.nbytes == 16 * (channels if per_channel else 1) + (weights.size + 1) // 2
    if op != "DEPTHWISE_CONV_2D":  # 9 weights per depthwise channel cannot amortise a 16-entry palette
        assert packed.nbytes < 0.7 * weights.size
    assert packing.pack_palette4(np.arange(-128, 128, dtype=np.int8).reshape(2, 128), 0) is None

    palette = np.ascontiguousarray(packed.palette)
    indices = np.frombuffer(packed.indices, np.uint8).copy()
    table = Palette4(ptr8(palette), indices.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), int(packed.shared))
    pw = Weights(TC_WEIGHTS_PALETTE4, ctypes.addressof(table), indices.size)
    has_bias = len(node.inputs) > 2 and node.inputs[2] >= 0
    bias = np.ascontiguousarray(model.tensors[node.inputs[2]].array(), np.int32) if has_bias else None
    bias_ptr = bias.ctypes.data_as(PI32) if has_bias else None
    (si,), (zi,) = x_t.quant.scale, x_t.quant.zero_point
    (so,), (zo,) = y_t.quant.scale, y_t.quant.zero_point
    mults, shifts = quantization.conv_requant(si, w_t.quant.scale, so)
    requant = Requant(mults.ctypes.data_as(PI32), shifts.ctypes.data_as(PI32), int(w_t.quant.per_channel))
    act_min, act_max = quantization.activation_range(node.options.get("activation", 0), so, zo)

    x = np.random.default_rng(5).integers(-128, 128, x_t.shape).astype(np.int8)
    out = np.zeros(y_t.shape, np.int8)
    if op == "FULLY_CONNECTED":
        params = FullyConnected(1, weights.shape[1], weights.shape[0], zi, 0, zo, act_min, act_max, pw,
                                bias_ptr, requant)
        status = runtime.tc_fully_connected_s8(ctypes.byref(params), ptr8(x), ptr8(out))
    else:
        o = node.options
        (oh, pad_top), (ow, pad_left) = (
            compute_padding(x_t.shape[d], weights.shape[d], o[f"stride_{a}"], o[f"dilation_{a}"],
                            ("SAME", "VALID")[o["padding"]])
            for d, a in ((1, "h"), (2, "w")))
        assert (oh, ow) == y_t.shape[1:3]
        geometry = (Shape(*x_t.shape), Shape(*y_t.shape), weights.shape[1], weights.shape[2], o["stride_h"],
                    o["stride_w"], o["dilation_h"], o["dilation_w"], pad_top, pad_left)
        if op == "CONV_2D":
            params = Conv(*geometry, zi, zo, act_min, act_max, pw, bias_ptr, requant)
            status = runtime.tc_conv_s8(ctypes.byref(params), ptr8(x), ptr8(out))
        else:
            params = Depthwise(*geometry, y_t.shape[3] // x_t.shape[3], zi, zo, act_min, act_max, pw,
                               bias_ptr, requant)
            status = runtime.tc_depthwise_conv_s8(ctypes.byref(params), ptr8(x), ptr8(out))
    assert status == TC_OK
    np.testing.assert_array_equal(out, TflmOracle(tflite).run(x))


# ---------------------------------------------- LOGISTIC / TANH as tables

class Lut(ctypes.Structure):
    _fields_ = [("size", i32), ("table", PI8)]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("scale", [0.3, 4.0])
def test_host_tables_match_tflm_on_every_input(runtime: ctypes.CDLL, activation: str, scale: float) -> None:
    """All 256 int8 inputs: host table via tc_lut_s8, the fixed-point kernel, and TFLM agree."""
    from tinycompress.tflite import read_model

    tf_keras.utils.set_random_seed(0)
    inp = tf_keras.layers.Input((256,), batch_size=1)
    model = tf_keras.Model(inp, tf_keras.layers.Activation(activation)(inp))
    tflite = convert_int8(model, data=lambda rng, shape: rng.normal(0.0, scale, shape))
    ir_model = read_model(tflite)
    (s,), (zp,) = ir_model.input.quant.scale, ir_model.input.quant.zero_point
    x = np.arange(-128, 128, dtype=np.int8)
    ref = TflmOracle(tflite).run(x.reshape(1, 256)).ravel()

    table = fixedpoint.logistic_table(s, zp) if activation == "sigmoid" else fixedpoint.tanh_table(s, zp)
    looked_up = np.zeros(256, np.int8)
    assert runtime.tc_lut_s8(ctypes.byref(Lut(256, ptr8(table))), ptr8(x), ptr8(looked_up)) == TC_OK
    np.testing.assert_array_equal(looked_up, ref)

    kernel = runtime.tc_logistic_s8 if activation == "sigmoid" else runtime.tc_tanh_s8
    params = (quantization.logistic_params if activation == "sigmoid" else quantization.tanh_params)(s, zp, 256)
    direct = np.zeros(256, np.int8)
    assert kernel(ctypes.byref(Sigmoid(*params.__dict__.values())), ptr8(x), ptr8(direct)) == TC_OK
    np.testing.assert_array_equal(direct, ref)
    assert len(set(ref.tolist())) > 20  # the input range really spans the curve


# --------------------------------------------------- sparse (pruned) weights

class Sparse8(ctypes.Structure):
    _fields_ = [("bitmap", ctypes.POINTER(ctypes.c_uint8)), ("values", PI8),
                ("channel_start", ctypes.POINTER(ctypes.c_uint32))]


TC_WEIGHTS_SPARSE8 = 2
PRUNED = {
    "FULLY_CONNECTED": (lambda: tf_keras.layers.Dense(24, activation="relu"), (96,)),
    "CONV_2D": (lambda: tf_keras.layers.Conv2D(32, 1), (5, 6, 48)),
}


def _pruned_model(op: str, sparsity: float = 0.75) -> bytes:
    """One layer with `sparsity` of its kernel set to zero, as magnitude pruning leaves it."""
    tf_keras.utils.set_random_seed(0)
    make, shape = PRUNED[op]
    inp = tf_keras.layers.Input(shape, batch_size=1)
    layer = make()
    model = tf_keras.Model(inp, layer(inp))
    kernel, *rest = layer.get_weights()
    kernel[np.abs(kernel) < np.quantile(np.abs(kernel), sparsity)] = 0.0
    layer.set_weights([kernel, *rest])
    return convert_int8(model)


@pytest.mark.parametrize("op", sorted(PRUNED))
def test_sparse8_weights_skip_zeros_and_match_tflm(runtime: ctypes.CDLL, op: str) -> None:
    from tinycompress.tflite import read_model

    tflite = _pruned_model(op)
    model = read_model(tflite)
    assert [o.op for o in model.operators] == [op]
    node = model.operators[0]
    x_t, w_t, y_t = (model.tensors[i] for i in (node.inputs[0], node.inputs[1], node.outputs[0]))
    weights = w_t.array()
    packed = packing.pack_sparse8(weights)
    assert packed.values.size <= 0.26 * weights.size
    assert packed.nbytes < 0.5 * weights.size  # bitmap n/8 + nonzeros + row starts

    bitmap = np.frombuffer(packed.bitmap, np.uint8).copy()
    values = np.ascontiguousarray(packed.values)
    starts = np.ascontiguousarray(packed.channel_start, np.uint32)
    table = Sparse8(bitmap.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), ptr8(values),
                    starts.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32)))
    sw = Weights(TC_WEIGHTS_SPARSE8, ctypes.addressof(table), bitmap.size)
    has_bias = len(node.inputs) > 2 and node.inputs[2] >= 0
    bias = np.ascontiguousarray(model.tensors[node.inputs[2]].array(), np.int32) if has_bias else None
    bias_ptr = bias.ctypes.data_as(PI32) if has_bias else None
    (si,), (zi,) = x_t.quant.scale, x_t.quant.zero_point
    (so,), (zo,) = y_t.quant.scale, y_t.quant.zero_point
    mults, shifts = quantization.conv_requant(si, w_t.quant.scale, so)
    requant = Requant(mults.ctypes.data_as(PI32), shifts.ctypes.data_as(PI32), int(w_t.quant.per_channel))
    act_min, act_max = quantization.activation_range(node.options.get("activation", 0), so, zo)
    x = np.random.default_rng(6).integers(-128, 128, x_t.shape).astype(np.int8)
    out = np.zeros(y_t.shape, np.int8)
    if op == "FULLY_CONNECTED":
        params = FullyConnected(1, weights.shape[1], weights.shape[0], zi, 0, zo, act_min, act_max, sw,
                                bias_ptr, requant)
        status = runtime.tc_fully_connected_s8(ctypes.byref(params), ptr8(x), ptr8(out))
    else:
        params = Conv(Shape(*x_t.shape), Shape(*y_t.shape), 1, 1, 1, 1, 1, 1, 0, 0, zi, zo, act_min, act_max, sw,
                      bias_ptr, requant)
        status = runtime.tc_conv_s8(ctypes.byref(params), ptr8(x), ptr8(out))
        params.kernel_h = params.kernel_w = 3  # sparse rows only exist for 1x1 kernels
        assert runtime.tc_conv_s8(ctypes.byref(params), ptr8(x), ptr8(out)) == TC_ERR_UNSUPPORTED
        params.kernel_h = params.kernel_w = 1
    assert status == TC_OK
    np.testing.assert_array_equal(out, TflmOracle(tflite).run(x))
