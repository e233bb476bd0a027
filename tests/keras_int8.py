"""Build small Keras models in tests and convert them to calibrated full-int8 .tflite.

Shared by tests/tflite and tests/codegen (tests/conftest.py puts this folder on
sys.path). Weights are random but batch-norm statistics are randomised too, so
activations spread over the int8 range instead of collapsing to zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinycompress.compress.tfenv import tf, tf_keras

layers = tf_keras.layers


def randomize(model: Any, seed: int = 0) -> Any:
    """Give batch-norm layers non-trivial statistics (weights stay random)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([
                rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
                rng.normal(0, 0.2, beta.shape).astype(np.float32),
                rng.normal(0, 0.2, mean.shape).astype(np.float32),
                rng.uniform(0.5, 1.5, var.shape).astype(np.float32),
            ])
    return model


def convert_int8(model: Any, seed: int = 0, samples: int = 32,
                 data: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray] | None = None,
                 per_channel: bool = True, float_io: bool = False) -> bytes:
    """Full-integer conversion with int8 input and output, calibrated on random data.

    ``per_channel=False`` asks the converter for per-tensor weight scales, the
    other quantisation path the runtime must reproduce. ``float_io=True``
    leaves the inference types unset, as users often do: the model keeps a
    float32 input and output, with QUANTIZE first and DEQUANTIZE last.
    """
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in model.input_shape[1:])
    make = data or (lambda r, s: r.normal(0.0, 1.0, s))
    calib = [make(rng, (1, *shape)).astype(np.float32) for _ in range(samples)]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x] for x in calib)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    if not per_channel:
        converter._experimental_disable_per_channel = True
    return bytes(converter.convert())


def convert_float(model: Any) -> bytes:
    """Plain float32 conversion (for 'float model where int8 is expected' errors)."""
    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def small_cnn(seed: int = 0) -> Any:
    """A tiny CNN touching conv, depthwise, pooling, dense and softmax."""
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((12, 12, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
    x = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(10)(x)
    out = layers.Softmax()(x)
    return tf_keras.Model(inp, out)


def ds_cnn_kws(seed: int = 0, filters: int = 64) -> Any:
    """MLPerf Tiny keyword spotting DS-CNN: 49x10 MFCC input, 4 DW/PW blocks, 12 classes."""
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((49, 10, 1))
    x = layers.Conv2D(filters, (10, 4), strides=2, padding="same", use_bias=False)(inp)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    for _ in range(4):
        x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.Conv2D(filters, 1, use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = layers.Flatten()(x)
    out = layers.Softmax()(layers.Dense(12)(x))
    return randomize(tf_keras.Model(inp, out), seed)


def mobilenet_vww(seed: int = 0, size: int = 48, alpha: float = 0.25) -> Any:
    """MLPerf Tiny visual wake words MobileNetV1 (alpha 0.25); ``size`` shrinks the input."""
    tf_keras.utils.set_random_seed(seed)

    def block(x: Any, filters: int, stride: int) -> Any:
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
        x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
        x = layers.Conv2D(int(filters * alpha), 1, use_bias=False)(x)
        return layers.ReLU(6.0)(layers.BatchNormalization()(x))

    inp = layers.Input((size, size, 3))
    x = layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False)(inp)
    x = layers.ReLU(6.0)(layers.BatchNormalization()(x))
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
    for filters, stride in plan:
        x = block(x, filters, stride)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Softmax()(layers.Dense(2)(x))
    return randomize(tf_keras.Model(inp, out), seed)


def resnet8(seed: int = 0) -> Any:
    """MLPerf Tiny image classification ResNet-8 (CIFAR-10 32x32x3, 10 classes)."""
    tf_keras.utils.set_random_seed(seed)

    def conv_bn(x: Any, filters: int, stride: int = 1, relu: bool = True, kernel: int = 3) -> Any:
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same")(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x) if relu else x

    inp = layers.Input((32, 32, 3))
    x = conv_bn(inp, 16)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = conv_bn(x, filters, stride)
        y = conv_bn(y, filters, relu=False)
        if stride != 1:
            x = layers.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = layers.Flatten()(x)
    out = layers.Softmax()(layers.Dense(10)(x))
    return randomize(tf_keras.Model(inp, out), seed)


def dense_autoencoder(seed: int = 0) -> Any:
    """MLPerf Tiny anomaly detection autoencoder: 640 -> 4x128 -> 8 -> 4x128 -> 640."""
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((640,))
    x = inp
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = layers.Dense(units)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    out = layers.Dense(640)(x)
    return randomize(tf_keras.Model(inp, out), seed)


def op_mix(seed: int = 0) -> Any:
    """The ops the MLPerf models lack, each twice at two sizes: general depthwise (5x5, a depth
    multiplier), MUL, CONCATENATION, RELU, TANH, PAD, LOGISTIC, for the
    instruction cost model's calibration (benchmarks/calibrate_cost_model.py)."""
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((16, 16, 4))
    a = layers.Conv2D(8, 3, padding="same")(inp)
    b = layers.DepthwiseConv2D(5, padding="same", depth_multiplier=2)(inp)
    x = layers.Concatenate()([a, layers.Multiply()([a, b])])
    x = layers.Activation("tanh")(layers.ReLU()(x))
    x = layers.DepthwiseConv2D(5)(layers.ZeroPadding2D(2)(x))
    x = layers.Activation("sigmoid")(x)
    y = layers.MaxPooling2D(2)(x)
    y = layers.Concatenate()([y, layers.Multiply()([y, y])])
    y = layers.Activation("tanh")(layers.ReLU()(y))
    y = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(layers.ZeroPadding2D(1)(y))
    out = layers.Dense(10, activation="sigmoid")(layers.GlobalAveragePooling2D()(y))
    return tf_keras.Model(inp, out)


def packed_cnn(seed: int = 0) -> Any:
    """A clustered and pruned CNN whose packed layers a decode scratch fits beside (task K4).

    A wide 1x1 conv on the input holds the arena's peak; after pooling, a 3x3 conv clustered to 16
    values per output channel (4-bit palette), an 85 %-pruned 1x1 conv (sparse bitmap), a clustered
    depthwise conv and a clustered classifier (packed only where the storage objective says so).
    """
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((16, 16, 4))
    x = layers.Conv2D(32, 1, activation="relu", name="wide")(inp)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(12, 3, padding="same", activation="relu", name="clustered3x3")(x)
    x = layers.Conv2D(16, 1, name="pruned1x1")(x)
    x = layers.DepthwiseConv2D(3, padding="same", activation="relu", name="clustered_dw")(x)
    out = layers.Dense(10, name="clustered_fc")(layers.Flatten()(x))
    model = tf_keras.Model(inp, out)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.name.startswith("clustered"):
            cluster16(layer)
        elif layer.name == "pruned1x1":
            kernel, *rest = layer.get_weights()
            layer.set_weights([kernel * (rng.random(kernel.shape) >= 0.85), *rest])
    return model


def packed_dense(seed: int = 0) -> Any:
    """Dense 128 -> 32 clustered to 16 values for the whole kernel, then Dense 32 -> 10 with 85 % of
    its weights zero: converted with ``per_channel=False`` (as compress quantises a clustered model's
    Dense layers), a shared 4-bit palette and sparse rows for the packed FULLY_CONNECTED loops."""
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((128,))
    hidden = layers.Dense(32, activation="relu", name="clustered")(inp)
    model = tf_keras.Model(inp, layers.Dense(10, name="pruned")(hidden))
    rng = np.random.default_rng(seed)
    kernel, bias = model.get_layer("clustered").get_weights()
    centroids = np.linspace(-0.3, 0.25, 16, dtype=np.float32)
    model.get_layer("clustered").set_weights([centroids[rng.integers(0, 16, kernel.shape)], bias])
    kernel, bias = model.get_layer("pruned").get_weights()
    model.get_layer("pruned").set_weights([kernel * (rng.random(kernel.shape) >= 0.85), bias])
    return model


def cluster16(layer: Any) -> None:
    """Snap a Conv2D / DepthwiseConv2D / Dense kernel to 16 values per output channel, as
    clustering leaves it (int8 quantization keeps at most 16 per channel: palette storage)."""
    kernel, *rest = layer.get_weights()
    depthwise = isinstance(layer, layers.DepthwiseConv2D)
    flat = kernel.reshape(-1, kernel.shape[-1] * (kernel.shape[-2] if depthwise else 1))
    levels = np.linspace(flat.min(0), flat.max(0), 16)
    snapped = levels[np.abs(flat[None] - levels[:, None]).argmin(0), np.arange(flat.shape[1])]
    layer.set_weights([snapped.reshape(kernel.shape), *rest])


def clustered_conv(seed: int = 0) -> Any:
    """The demo CNN's conv2 shape (3x3, 16 -> 32 channels on 8x8) clustered: its 4,608 B decode
    scratch would more than double the arena."""
    tf_keras.utils.set_random_seed(seed)
    inp = layers.Input((8, 8, 16))
    conv = layers.Conv2D(32, 3, padding="same", activation="relu")
    model = tf_keras.Model(inp, layers.Dense(10)(layers.Flatten()(conv(inp))))
    cluster16(conv)
    return model


def block_prune(layer: Any, block: int, keep: float, rng: np.random.Generator, dropped_unit: bool = False,
                clustered: bool = False) -> None:
    """Zero runs of ``block`` consecutive input weights of each unit of a Dense kernel ``[in, out]``
    (what tfmot's block_size=(block, 1) leaves), keeping a fraction ``keep`` of them; with
    ``dropped_unit`` unit 0 loses every block, with ``clustered`` the kept weights snap to 15 values
    shared by the whole kernel (plus 0: a shared palette once quantised per tensor)."""
    kernel, *rest = layer.get_weights()
    mask = rng.random((kernel.shape[0] // block, kernel.shape[1])) < keep
    if dropped_unit:
        mask[:, 0] = False
    if clustered:
        centroids = np.concatenate([np.linspace(-0.3, -0.02, 7), np.linspace(0.02, 0.3, 8)]).astype(np.float32)
        kernel = centroids[rng.integers(0, 15, kernel.shape)]
    layer.set_weights([kernel * np.repeat(mask, block, axis=0), *rest])


def block_dense(shape: tuple[int, ...], units: tuple[int, ...], block: int, keep: float = 0.5, seed: int = 0,
                dropped_unit: bool = False, clustered: bool = False) -> Any:
    """Dense layers of ``units`` (ReLU between) on an input of ``shape``, each block-pruned in runs
    of ``block`` input weights (``block_prune``; ``dropped_unit`` applies to the first only)."""
    tf_keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = layers.Input(shape, batch_size=1)  # a fixed batch: a 3-D input is one FULLY_CONNECTED, no SHAPE ops
    x = inp
    dense = [layers.Dense(n, activation="relu" if i < len(units) - 1 else None) for i, n in enumerate(units)]
    for layer in dense:
        x = layer(x)
    model = tf_keras.Model(inp, x)
    for i, layer in enumerate(dense):
        block_prune(layer, block, keep, rng, dropped_unit and i == 0, clustered)
    return model
