"""CONCATENATION exactly as TFLM: int8 bytes copied, and only what TFLM's Prepare accepts.

TFLM's int8 concatenation never rescales: its Prepare requires every input to
have the output's scale and zero point, at most 10 inputs and no fused
activation, and its Eval copies bytes. Each case here is checked against the
TFLM interpreter itself: what it runs we compile bit-exact, what it refuses we
refuse with an error that names the op, the node and the fix.
"""

from __future__ import annotations

from collections.abc import Callable

import flatbuffers
import numpy as np
import pytest

from keras_int8 import convert_int8, tf_keras
from tinycompress.codegen import generate
from tinycompress.codegen.verify import verify_tflite
from tinycompress.errors import ModelFormatError, UnsupportedError
from tinycompress.oracle import TflmOracle
from tinycompress.tflite import read_model

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]

L = tf_keras.layers


def _concat_model(branches: int) -> bytes:
    """One input, ``branches`` 1x1 convolutions of 1-3 channels, concatenated on the channels."""
    tf_keras.utils.set_random_seed(0)
    inp = L.Input((3, 4, 2), batch_size=1)
    parts = [L.Conv2D(1 + i % 3, 1)(inp) for i in range(branches)]
    return convert_int8(tf_keras.Model(inp, L.Concatenate()(parts)), samples=8)


def _concat(model) -> object:
    """The CONCATENATION operator (builtin code 2) of an object-API model."""
    codes = [code.builtinCode for code in model.operatorCodes]
    return next(op for op in model.subgraphs[0].operators if codes[op.opcodeIndex] == 2)


def _edited(data: bytes, edit: Callable[[object, object], None]) -> bytes:
    """Re-pack ``data`` after ``edit(graph, concat_op)`` changed its object-API tree."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    model = schema_py_generated.ModelT.InitFromPackedBuf(bytearray(data), 0)
    edit(model.subgraphs[0], _concat(model))
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _quant(graph, tensor: int):
    return graph.tensors[tensor].quantization


def _scale_input(factor: float, slot: int) -> Callable[[object, object], None]:
    def edit(graph, op) -> None:
        q = _quant(graph, op.inputs[slot])
        q.scale = np.array([q.scale[0] * factor], np.float32)
    return edit


def _shift_zero_point(graph, op) -> None:
    q = _quant(graph, op.inputs[1])
    q.zeroPoint = np.array([q.zeroPoint[0] + 5], np.int64)


def _scale_output(graph, op) -> None:
    q = _quant(graph, op.outputs[0])
    q.scale = np.array([q.scale[0] * 2], np.float32)


@pytest.fixture(scope="module")
def two_inputs() -> bytes:
    return _concat_model(2)


def test_ten_inputs_copy_bytes_like_tflm() -> None:
    """TFLM's most inputs, unequal widths: every output byte equals TFLM's."""
    tflite = _concat_model(10)
    concat = [op for op in read_model(tflite).operators if op.op == "CONCATENATION"]
    assert len(concat) == 1 and len(concat[0].inputs) == 10
    result = verify_tflite(tflite, samples=8, seed=2)
    assert result.bit_exact, f"first diverging layer: {result.first_diverging_layer}"


def test_eleven_inputs_are_refused_like_tflm() -> None:
    tflite = _concat_model(11)
    with pytest.raises(ModelFormatError, match="TFLM interpreter cannot load"):
        TflmOracle(tflite)
    with pytest.raises(UnsupportedError, match=r"op CONCATENATION \(node \d+\) has 11 inputs .* split it") as info:
        generate(read_model(tflite))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("edit, slot", [
    (_scale_input(3.0, 1), 1),
    (_scale_input(1.0 + 2.0 ** -20, 0), 0),  # one float32 ulp or so: TFLM compares exactly
    (_shift_zero_point, 1),
    (_scale_output, 0),
], ids=["input_scale", "input_scale_ulp", "input_zero_point", "output_scale"])
def test_requantising_concat_is_refused_like_tflm(two_inputs: bytes, edit, slot: int) -> None:
    """TFLM refuses inputs quantized unlike the output; so do we, naming the input and the fix."""
    tflite = _edited(two_inputs, edit)
    with pytest.raises(ModelFormatError, match="TFLM interpreter cannot load"):
        TflmOracle(tflite)
    node = next(op.index for op in read_model(tflite).operators if op.op == "CONCATENATION")
    with pytest.raises(UnsupportedError) as info:
        generate(read_model(tflite))
    message = str(info.value)
    assert message.startswith(f"op CONCATENATION (node {node}) input {slot} ")
    assert "TFLM" in message and "convert the model again" in message and "\n" not in message


def test_unedited_model_runs_in_tflm_and_here(two_inputs: bytes) -> None:
    """The control for the refusals above: the same model before the edit is accepted by both."""
    TflmOracle(two_inputs)
    assert verify_tflite(two_inputs, samples=4).bit_exact
