"""Reader and verifier: the IR of real converter output, and clear errors for bad files."""

from __future__ import annotations

from collections.abc import Callable

import flatbuffers
import numpy as np
import pytest

from tinycompress.errors import ModelFormatError, TinyCompressError, UnsupportedError
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def small() -> bytes:
    import keras_int8

    return keras_int8.convert_int8(keras_int8.small_cnn())


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def _edited(data: bytes, edit: Callable[[object], None]) -> bytes:
    """Re-pack ``data`` after ``edit`` changed its object-API tree (a targeted corruption)."""
    model = _schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_ir_of_converted_cnn(small: bytes, tmp_path) -> None:
    path = tmp_path / "m.tflite"
    path.write_bytes(small)
    model = read_model(path)
    assert [op.op for op in model.operators] == [
        "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    conv = model.operators[0]
    assert conv.options["stride_h"] == conv.options["stride_w"] == 2
    assert conv.options["padding"] == 0 and conv.options["activation"] == 1  # SAME, RELU
    assert model.input.shape == (1, 12, 12, 3) and model.input.dtype == "int8"
    assert model.output.shape == (1, 10)
    filt = model.tensors[conv.inputs[1]]
    assert filt.is_constant and filt.dtype == "int8" and filt.array().shape == (8, 3, 3, 3)
    assert filt.quant.per_channel and len(filt.quant.scale) == 8 and filt.quant.axis == 0
    assert model.tensors[conv.inputs[2]].dtype == "int32"
    dw = model.operators[1]
    assert dw.options["depth_multiplier"] == 1 and dw.options["activation"] == 3  # RELU6
    assert model.operators[5].options["beta"] == pytest.approx(1.0)
    assert read_model(small).sha256 == model.sha256 and len(model.sha256) == 64


def test_optional_bias_is_minus_one(small: bytes) -> None:
    fc = read_model(small).operators[4]
    assert fc.op == "FULLY_CONNECTED" and fc.inputs[2] == -1


@pytest.mark.parametrize("data, message", [
    (b"", "is empty"),
    (b"hello world, not a model", "not a TFLite flatbuffer"),
])
def test_not_a_model(data: bytes, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        read_model(data)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ModelFormatError, match="does not exist"):
        read_model(tmp_path / "nope.tflite")


def test_truncated(small: bytes) -> None:
    with pytest.raises(ModelFormatError, match="corrupt"):
        read_model(small[: len(small) // 2])


def test_float_model_is_rejected() -> None:
    import keras_int8

    data = keras_int8.convert_float(keras_int8.small_cnn())
    with pytest.raises(UnsupportedError, match="float32 input .* int8 model is expected"):
        read_model(data)


def test_int8_input_without_quantization_says_so(small: bytes) -> None:
    """The input is int8, so "an int8 model is expected" would be wrong: its scale and zero point are missing."""
    def drop(model) -> None:
        graph = model.subgraphs[0]
        graph.tensors[graph.inputs[0]].quantization = None

    with pytest.raises(ModelFormatError, match="the int8 input .* has no quantization parameters") as info:
        read_model(_edited(small, drop))
    assert "int8 model is expected" not in str(info.value) and "representative dataset" in str(info.value)


def _set_scale(model, tensor: int, value: float) -> None:
    model.subgraphs[0].tensors[tensor].quantization.scale = np.array([value], np.float32)


CORRUPTIONS = {
    "zero scale": (lambda m: _set_scale(m, 7, 0.0),
                   "zero, negative, non-finite or extreme quantization scale"),
    "nan scale": (lambda m: _set_scale(m, 7, float("nan")), "non-finite or extreme quantization scale"),
    "zero point out of range": (
        lambda m: setattr(m.subgraphs[0].tensors[7].quantization, "zeroPoint", np.array([300])),
        r"zero point 300 outside \[-128, 127\]"),
    "tensor index out of range": (
        lambda m: setattr(m.subgraphs[0].operators[1], "inputs", np.array([99, 3, 5], np.int32)),
        "refers to tensor 99"),
    "required input -1": (
        lambda m: setattr(m.subgraphs[0].operators[1], "inputs", np.array([-1, 3, 5], np.int32)),
        r"misses a required input \(index -1\)"),
    "negative index": (
        lambda m: setattr(m.subgraphs[0].operators[1], "inputs", np.array([-5, 3, 5], np.int32)),
        "refers to tensor -5"),
    "buffer index out of range": (
        lambda m: setattr(m.subgraphs[0].tensors[3], "buffer", 500), "refers to buffer 500"),
    "opcode index out of range": (
        lambda m: setattr(m.subgraphs[0].operators[0], "opcodeIndex", 77), "uses opcode 77"),
    "graph input out of range": (
        lambda m: setattr(m.subgraphs[0], "inputs", np.array([1000], np.int32)), "refers to tensor 1000"),
    "read before written": (
        lambda m: setattr(m.subgraphs[0], "operators", m.subgraphs[0].operators[::-1]),
        "before any node produces it"),
    "per-channel count": (
        lambda m: setattr(m.subgraphs[0].tensors[6].quantization, "scale", np.ones(3, np.float32)),
        "3 scales but 8 zero points"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_targeted_corruption(small: bytes, name: str) -> None:
    from tinycompress.codegen import generate

    edit, message = CORRUPTIONS[name]
    with pytest.raises(TinyCompressError, match=message) as info:
        generate(read_model(_edited(small, edit)))
    assert "\n" not in str(info.value)


def test_unsupported_ops_listed_with_node_index(small: bytes) -> None:
    """Every unsupported op is named with its node index before anything is generated."""
    from tinycompress.codegen import generate

    def rename(model) -> None:
        codes = model.operatorCodes
        for code in codes:
            if code.builtinCode == 22:  # RESHAPE -> SUM (74)
                code.builtinCode = code.deprecatedBuiltinCode = 74
            if code.builtinCode == 17:  # MAX_POOL_2D -> L2_POOL_2D (12)
                code.builtinCode = code.deprecatedBuiltinCode = 12

    with pytest.raises(UnsupportedError) as info:
        generate(read_model(_edited(small, rename)))
    text = str(info.value)
    assert "L2_POOL_2D (node 2)" in text and "SUM (node 3)" in text
    assert "supported ops:" in text and "CONV_2D" in text


def test_huge_activation_is_rejected_quickly(small: bytes) -> None:
    """A shape edited to 2^29 elements must fail the op checks, not allocate gigabytes."""
    from tinycompress.codegen import generate

    def grow(model) -> None:
        model.subgraphs[0].tensors[7].shape = np.array([1, 8192, 8192, 8], np.int32)

    with pytest.raises(UnsupportedError, match="more than any microcontroller's RAM"):
        generate(read_model(_edited(small, grow)))
