"""Float-I/O models: full-int8 inside, float32 at the edges (QUANTIZE first, DEQUANTIZE last).

This is what ``TFLiteConverter`` emits with full-integer quantization when
``inference_input_type``/``inference_output_type`` are left unset. ``verify``
compiles them and compares the float32 outputs with TFLM byte for byte;
``export`` refuses them, because the device protocol moves int8 tensors only.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from keras_int8 import convert_int8, small_cnn, tf_keras
from tinycompress.cli import main
from tinycompress.codegen import generate
from tinycompress.codegen.verify import verify_generated, verify_tflite
from tinycompress.errors import UnsupportedError
from tinycompress.project.model import model_sources_from_tflite
from tinycompress.tflite import read_model

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]


@pytest.fixture(scope="module")
def float_io() -> bytes:
    return convert_int8(small_cnn(), samples=16, float_io=True)


def _quantize_scale(tflite: bytes) -> float:
    model = read_model(tflite)
    return model.tensors[model.operators[0].outputs[0]].quant.scale[0]


def _round_away(value: float) -> float:
    """std::round: halves away from zero."""
    return float(np.sign(value) * np.floor(abs(value) + 0.5))


def test_float_io_model_is_bit_exact_with_tflm(float_io: bytes) -> None:
    model = read_model(float_io)
    ops = [op.op for op in model.operators]
    assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE", ops
    assert (model.input.dtype, model.output.dtype) == ("float32", "float32")

    generated = generate(model)
    header = generated.files["model.h"]
    assert (generated.input_dtype, generated.output_dtype) == ("float32", "float32")
    assert f"#define TC_MODEL_INPUT_BYTES {4 * 12 * 12 * 3}" in header
    assert "#define TC_MODEL_INPUT_TYPE TC_TYPE_FLOAT32" in header
    assert "#define TC_MODEL_OUTPUT_TYPE TC_TYPE_FLOAT32" in header
    assert "float *tc_model_input_f32(void);" in header and "const float *tc_model_output_f32(void);" in header
    assert [layer.kernel for layer in generated.layers][::len(generated.layers) - 1] == [
        "tc_quantize_f32_s8", "tc_dequantize_s8_f32"]

    result = verify_tflite(float_io, samples=30, seed=3)
    assert result.bit_exact and result.mismatched_samples == 0 and result.max_abs_diff == 0


def test_float_quantize_rounds_like_tflm(float_io: bytes) -> None:
    """TFLM divides in float: inputs whose float and double quotients round apart stay bit-exact."""
    scale = np.float32(_quantize_scale(float_io))
    apart = []
    for code in range(-128, 127):
        x = np.float32((code + 0.5) * float(scale))
        for _ in range(12):
            in_float, in_double = x / scale, float(x) / float(scale)
            if abs(in_float) % 1 == 0.5 and _round_away(in_float) != _round_away(in_double):
                apart.append(x)
            x = np.nextafter(x, np.float32(np.inf))
    assert len(apart) >= 40, "the scale gives too few rounding ties to test"
    xs = np.resize(np.array(apart, np.float32), (4, 12, 12, 3))
    result = verify_tflite(float_io, inputs=xs)
    assert result.bit_exact, f"{result.mismatched_samples} samples differ at {result.first_diverging_layer}"


def test_float_output_is_compared_byte_for_byte(float_io: bytes) -> None:
    """A DEQUANTIZE scale off by a few ulps changes the float32 output bytes: verify sees it."""
    generated = generate(read_model(float_io))
    last = len(generated.layers) - 1
    scale = generated.files["model.c"].split(f"tc_model_l{last} = {{")[1].split(".scale = ")[1].split(",")[0]
    wrong = repr(float(np.float32(scale)) * (1 + 2e-7))
    model_c = generated.files["model.c"].replace(f".scale = {scale},", f".scale = {wrong},")
    assert model_c != generated.files["model.c"]
    bad = dataclasses.replace(generated, files={**generated.files, "model.c": model_c})

    xs = np.random.default_rng(0).normal(0, 1, (6, 1, 12, 12, 3)).astype(np.float32)
    result = verify_generated(float_io, bad, xs)
    assert not result.bit_exact and result.mismatched_samples > 0
    assert 0 < result.max_abs_diff < 1e-5
    assert result.first_diverging_index == last


def test_export_refuses_float_io_with_the_fix(float_io: bytes, tmp_path) -> None:
    path = tmp_path / "float_io.tflite"
    path.write_bytes(float_io)
    with pytest.raises(UnsupportedError, match="input is float32 and its output is float32") as info:
        model_sources_from_tflite(path)
    message = str(info.value)
    assert "tinycompress verify" in message and "inference_input_type" in message and "\n" not in message


def test_cli_verify_float_io_with_test_data(tmp_path) -> None:
    """``verify --data`` passes float test samples as they are: the model quantizes them itself."""
    tf_keras.utils.set_random_seed(0)
    inp = tf_keras.layers.Input((8, 8, 1))
    x = tf_keras.layers.Conv2D(4, 3, activation="relu")(inp)
    out = tf_keras.layers.Dense(10)(tf_keras.layers.Flatten()(x))
    path = tmp_path / "digits_float_io.tflite"
    path.write_bytes(convert_int8(tf_keras.Model(inp, out), samples=8, float_io=True,
                                  data=lambda rng, shape: rng.uniform(0, 1, shape)))
    for extra in ([], ["--data", "digits"]):
        result = CliRunner().invoke(main, ["verify", str(path), "-n", "9", "--json", *extra])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["bit_exact"] is True and report["samples"] == 9
