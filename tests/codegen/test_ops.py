"""Per-op bit-exactness: one small Keras model per option, generated C vs TFLM.

Each case builds a tiny model, converts it with the real TFLite converter to
full int8 (int8 input and output), checks that the option under test really
reached the .tflite (e.g. a CONV_2D with dilation 2, a depthwise multiplier of
3, a standalone RELU6), then compiles the generated C with -Werror and
compares every output byte with the TFLM interpreter on random int8 inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from keras_int8 import convert_int8, tf, tf_keras
from tinycompress.codegen import generate
from tinycompress.codegen.verify import verify_tflite
from tinycompress.tflite import ir, read_model

pytestmark = pytest.mark.host

L = tf_keras.layers
SAMPLES = 12

# TFLite enum values as they appear in the IR's operator options.
SAME, VALID = 0, 1
RELU, RELU6 = 1, 3


def ops_named(model: ir.Model, name: str) -> list[ir.Operator]:
    return [op for op in model.operators if op.op == name]


def one(name: str, **options: Any) -> Callable[[ir.Model], bool]:
    """Expectation: some `name` op whose options include all of `options`."""
    def check(model: ir.Model) -> bool:
        return any(all(op.options.get(k) == v for k, v in options.items()) for op in ops_named(model, name))
    return check


def per_tensor(name: str) -> Callable[[ir.Model], bool]:
    """Expectation: `name`'s weights carry a single scale."""
    def check(model: ir.Model) -> bool:
        return any(not model.tensors[op.inputs[1]].quant.per_channel for op in ops_named(model, name))
    return check


def per_channel(name: str) -> Callable[[ir.Model], bool]:
    def check(model: ir.Model) -> bool:
        return any(model.tensors[op.inputs[1]].quant.per_channel for op in ops_named(model, name))
    return check


def depth_multiplier(m: int) -> Callable[[ir.Model], bool]:
    def check(model: ir.Model) -> bool:
        return any(
            model.tensors[op.outputs[0]].shape[-1] == m * model.tensors[op.inputs[0]].shape[-1]
            for op in ops_named(model, "DEPTHWISE_CONV_2D")
        )
    return check


def broadcasting(name: str) -> Callable[[ir.Model], bool]:
    """Expectation: a `name` op whose two inputs have different element counts."""
    def check(model: ir.Model) -> bool:
        return any(
            model.tensors[op.inputs[0]].size != model.tensors[op.inputs[1]].size for op in ops_named(model, name)
        )
    return check


def only(*names: str) -> Callable[[ir.Model], bool]:
    """Expectation: the graph is exactly these ops, in order."""
    def check(model: ir.Model) -> bool:
        return tuple(op.op for op in model.operators) == names
    return check


def const(values: np.ndarray) -> Any:
    return tf.constant(np.asarray(values, np.float32))


@dataclass(frozen=True)
class Case:
    build: Callable[[Any], Any]
    shape: tuple[int, ...]
    expect: Callable[[ir.Model], bool]
    per_channel: bool = True
    scale: float = 1.0


def branches(x: Any) -> tuple[Any, Any]:
    """Two tensors with the same shape and different quantisation."""
    return L.Conv2D(4, 1)(x), L.Conv2D(4, 3, padding="same")(x)


CASES: dict[str, Case] = {
    # CONV_2D
    "conv_same": Case(lambda x: L.Conv2D(5, 3, padding="same")(x), (8, 7, 3), one("CONV_2D", padding=SAME)),
    "conv_valid_stride2": Case(lambda x: L.Conv2D(4, 3, strides=2)(x), (9, 8, 2),
                               one("CONV_2D", padding=VALID, stride_h=2, stride_w=2)),
    "conv_rect_stride": Case(lambda x: L.Conv2D(4, (3, 2), strides=(2, 1), padding="same")(x), (9, 8, 2),
                             one("CONV_2D", stride_h=2, stride_w=1)),
    "conv_dilation2": Case(lambda x: L.Conv2D(4, 3, dilation_rate=2, padding="same")(x), (9, 7, 2),
                           one("CONV_2D", dilation_h=2, dilation_w=2)),
    "conv_relu": Case(lambda x: L.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x), (9, 8, 4),
                      one("CONV_2D", activation=RELU)),
    "conv_relu6": Case(lambda x: L.Conv2D(4, 3, activation=tf.nn.relu6)(x), (7, 7, 2),
                       one("CONV_2D", activation=RELU6)),
    "conv_per_tensor": Case(lambda x: L.Conv2D(5, 3, padding="same")(x), (6, 6, 3), per_tensor("CONV_2D"),
                            per_channel=False),
    "conv_per_channel": Case(lambda x: L.Conv2D(5, 3, padding="same")(x), (6, 6, 3), per_channel("CONV_2D")),
    "conv_1x1_no_bias": Case(lambda x: L.Conv2D(4, 1, use_bias=False)(x), (5, 5, 3), one("CONV_2D")),
    # tc_conv_1x1_s8: pointwise layers, incl. ResNet's strided shortcut and channel counts off 4
    "conv_1x1_stride2_same": Case(lambda x: L.Conv2D(10, 1, strides=2, padding="same")(x), (9, 8, 6),
                                  one("CONV_2D", stride_h=2)),
    "conv_1x1_relu6_per_tensor": Case(lambda x: L.Conv2D(13, 1, activation=tf.nn.relu6)(x), (5, 4, 17),
                                      per_tensor("CONV_2D"), per_channel=False),
    # DEPTHWISE_CONV_2D
    "dw_same": Case(lambda x: L.DepthwiseConv2D(3, padding="same")(x), (8, 7, 3), depth_multiplier(1)),
    "dw_mult2_stride2_relu": Case(
        lambda x: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="same", activation="relu")(x),
        (9, 8, 3), lambda m: depth_multiplier(2)(m) and one("DEPTHWISE_CONV_2D", activation=RELU, stride_h=2)(m)),
    "dw_mult3_valid_dilation": Case(
        lambda x: L.DepthwiseConv2D((3, 2), dilation_rate=(2, 1), depth_multiplier=3)(x), (9, 8, 2),
        lambda m: depth_multiplier(3)(m) and one("DEPTHWISE_CONV_2D", dilation_h=2, padding=VALID)(m)),
    "dw_relu6": Case(lambda x: L.DepthwiseConv2D(3, padding="same", activation=tf.nn.relu6)(x), (6, 6, 4),
                     one("DEPTHWISE_CONV_2D", activation=RELU6)),
    "dw_per_tensor": Case(lambda x: L.DepthwiseConv2D(3, padding="same")(x), (6, 6, 4),
                          per_tensor("DEPTHWISE_CONV_2D"), per_channel=False),
    # FULLY_CONNECTED
    "fc": Case(lambda x: L.Dense(7)(x), (20,), one("FULLY_CONNECTED")),
    "fc_relu": Case(lambda x: L.Dense(9, activation="relu")(x), (13,), one("FULLY_CONNECTED", activation=RELU)),
    "fc_per_tensor": Case(lambda x: L.Dense(7)(x), (20,), per_tensor("FULLY_CONNECTED"), per_channel=False),
    "fc_3d_input": Case(lambda x: L.Dense(5)(x), (3, 6), only("FULLY_CONNECTED")),
    # pooling
    "avgpool_same_stride2": Case(lambda x: L.AveragePooling2D(3, 2, padding="same")(x), (9, 8, 3),
                                 one("AVERAGE_POOL_2D", padding=SAME, stride_h=2)),
    "avgpool_valid": Case(lambda x: L.AveragePooling2D(2)(x), (9, 8, 3), one("AVERAGE_POOL_2D", padding=VALID)),
    "maxpool_same": Case(lambda x: L.MaxPooling2D(3, 2, padding="same")(x), (9, 8, 3),
                         one("MAX_POOL_2D", padding=SAME)),
    "maxpool_valid_rect": Case(lambda x: L.MaxPooling2D((2, 3), (1, 2))(x), (9, 8, 3),
                               one("MAX_POOL_2D", filter_h=2, filter_w=3, stride_h=1, stride_w=2)),
    # ADD / MUL
    "add": Case(lambda x: L.Add()(list(branches(x))), (5, 5, 2), one("ADD")),
    "add_relu": Case(lambda x: L.ReLU()(L.Add()(list(branches(x)))), (5, 5, 2), one("ADD", activation=RELU)),
    "add_relu6": Case(lambda x: L.ReLU(6.0)(L.Add()(list(branches(x)))), (5, 5, 2), one("ADD", activation=RELU6),
                      scale=4.0),
    "add_broadcast_channels": Case(lambda x: L.Lambda(lambda t: t + const(np.linspace(-2, 3, 6)))(x), (3, 4, 6),
                                   broadcasting("ADD")),
    "add_broadcast_rows": Case(
        lambda x: L.Lambda(lambda t: t + const(np.linspace(-2, 3, 24).reshape(4, 1, 6)))(x), (4, 3, 6),
        broadcasting("ADD")),
    "mul": Case(lambda x: L.Multiply()(list(branches(x))), (5, 5, 2), one("MUL")),
    "mul_relu": Case(lambda x: L.ReLU()(L.Multiply()(list(branches(x)))), (5, 5, 2), one("MUL", activation=RELU)),
    "mul_broadcast_channels": Case(lambda x: L.Lambda(lambda t: t * const(np.linspace(-2, 3, 6)))(x), (3, 4, 6),
                                   broadcasting("MUL")),
    "mul_broadcast_rows": Case(
        lambda x: L.Lambda(lambda t: t * const(np.linspace(0.1, 3, 4).reshape(4, 1, 1)))(x), (4, 3, 6),
        broadcasting("MUL")),
    # activations
    "softmax": Case(lambda x: L.Softmax()(L.Dense(10)(x)), (12,), one("SOFTMAX")),
    "softmax_rows": Case(lambda x: L.Softmax()(x), (6, 16), only("SOFTMAX"), scale=4.0),
    # rows deeper than the kernel's 64-entry exp cache recompute exp in the output pass
    "softmax_wide_rows": Case(lambda x: L.Softmax()(x), (2, 100), only("SOFTMAX"), scale=4.0),
    "logistic": Case(lambda x: L.Activation("sigmoid")(x), (64,), only("LOGISTIC"), scale=3.0),
    "tanh": Case(lambda x: L.Activation("tanh")(x), (64,), only("TANH"), scale=3.0),
    "relu_standalone": Case(lambda x: L.ReLU()(x), (5, 5, 3), only("RELU")),
    "relu6_standalone": Case(lambda x: L.ReLU(6.0)(x), (5, 5, 3), only("RELU6"), scale=4.0),
    # PAD, MEAN, CONCATENATION, QUANTIZE, views
    "pad_spatial": Case(lambda x: L.ZeroPadding2D(((1, 2), (0, 3)))(x), (4, 5, 3), only("PAD")),
    "pad_channels": Case(lambda x: L.Lambda(lambda t: tf.pad(t, [[0, 0], [2, 1], [1, 1], [0, 2]]))(x), (4, 5, 3),
                         only("PAD")),
    "padv2_constant": Case(
        lambda x: L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 1], [2, 0], [0, 0]], constant_values=0.5))(x),
        (4, 5, 3), only("PADV2")),
    "mean_height_keepdims": Case(lambda x: L.Lambda(lambda t: tf.reduce_mean(t, axis=1, keepdims=True))(x),
                                 (3, 5, 6), only("MEAN")),
    "mean_global_pool": Case(lambda x: L.GlobalAveragePooling2D()(x), (5, 7, 6), only("MEAN"), scale=3.0),
    "mean_keepdims": Case(lambda x: L.GlobalAveragePooling2D(keepdims=True)(x), (4, 4, 8), only("MEAN")),
    "mean_last_axis": Case(lambda x: L.Lambda(lambda t: tf.reduce_mean(t, axis=-1))(x), (4, 5, 6), only("MEAN")),
    "concat_channels": Case(lambda x: L.Concatenate()(list(branches(x))), (4, 4, 2), one("CONCATENATION", axis=3)),
    "concat_height": Case(lambda x: L.Concatenate(axis=1)(list(branches(x))), (4, 4, 2),
                          one("CONCATENATION", axis=1)),
    "quantize_requant": Case(lambda x: L.Concatenate()([L.Activation("tanh")(x), L.Activation("sigmoid")(x)]),
                             (6,), one("QUANTIZE")),
    "reshape_squeeze_expand": Case(
        lambda x: L.Dense(6)(L.Lambda(lambda t: tf.squeeze(tf.expand_dims(t, 1), 1))(L.Flatten()(L.Conv2D(2, 3)(x)))),
        (5, 5, 1), one("RESHAPE")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_bit_exact_with_tflm(name: str) -> None:
    case = CASES[name]
    tf_keras.utils.set_random_seed(0)
    inp = L.Input(case.shape, batch_size=1)
    tflite = convert_int8(tf_keras.Model(inp, case.build(inp)), samples=24, per_channel=case.per_channel,
                          data=lambda rng, shape: rng.normal(0.0, case.scale, shape))

    model = read_model(tflite)
    assert case.expect(model), f"the converter did not produce the op/option under test: {model.operators}"

    result = verify_tflite(tflite, samples=SAMPLES, seed=1)
    assert result.samples == SAMPLES
    assert result.bit_exact, f"first diverging layer: {result.first_diverging_layer}"
    assert result.mismatched_samples == 0


def test_pointwise_conv_calls_the_1x1_kernel() -> None:
    """Unpadded 1x1 convs (any stride) get tc_conv_1x1_s8; windowed ones keep tc_conv_s8."""
    tf_keras.utils.set_random_seed(0)
    inp = L.Input((9, 8, 6), batch_size=1)
    x = L.Conv2D(8, 1, strides=2, padding="same")(inp)
    x = L.Conv2D(8, 3, padding="same")(x)
    x = L.Conv2D(5, 1)(x)
    layers = generate(read_model(convert_int8(tf_keras.Model(inp, x), samples=8))).layers
    assert [layer.kernel for layer in layers] == ["tc_conv_1x1_s8", "tc_conv_s8", "tc_conv_1x1_s8"]
