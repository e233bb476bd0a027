"""The demo: small classifiers (digits, and a Conv1D on BasicMotions sensor data) trained
and saved with Keras 3, then compressed.

Models are saved the way a user on TF >= 2.16 saves one (a Keras 3
``.keras`` file), so the demo and the tests go through the same bridge a
real user's model does. Later stages reuse :func:`train_demo_model` and
extend :func:`run_demo`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinycompress.compress.data import Dataset, load_dataset
from tinycompress.compress.pipeline import CompressResult, compress
from tinycompress.compress.recipe import ClusterConfig, PruneConfig, Recipe
from tinycompress.errors import InputError
from tinycompress.fsutil import write_bytes_atomic
from tinycompress.progress import NullProgress, Progress

ARCHITECTURES = ("cnn", "dscnn", "dscnn-wide", "har", "har-wide")
# Epochs to a converged float model (the narrow DS-CNN with its batch norms needs more).
DEFAULT_EPOCHS = {"cnn": 20, "dscnn": 30, "dscnn-wide": 20, "har": 60, "har-wide": 60}
# The data set each architecture is built for: har is human activity recognition on
# accelerometer + gyroscope series (6 channels x 100 steps, 4 activities).
DEMO_DATA = {"cnn": "digits", "dscnn": "digits", "dscnn-wide": "digits", "har": "aeon:BasicMotions",
             "har-wide": "aeon:BasicMotions"}
# Filters per block of the wide variants: over-wide for their data, as deployed models often
# are, which is what channel pruning is for. dscnn-wide has the layout of MLPerf Tiny's
# keyword-spotting DS-CNN (a strided first conv, four depthwise-separable blocks of 64).
WIDE_DSCNN_FILTERS, WIDE_DSCNN_BLOCKS = 64, 4
WIDE_HAR_FILTERS = (32, 64)
DEMO_RECIPE = Recipe(prune=PruneConfig(target_sparsity=0.5), cluster=ClusterConfig(clusters=16))


@dataclass(frozen=True)
class DemoModel:
    path: Path
    architecture: str
    float_accuracy: float


@dataclass(frozen=True)
class DemoResult:
    model: DemoModel
    compressed: CompressResult


def build(architecture: str, input_shape: tuple[int, ...] = (8, 8, 1), classes: int = 10) -> Any:
    """``cnn``: Conv-Conv-Pool-Dense-Dense. ``dscnn``: Conv-BN-ReLU, DepthwiseConv-BN-ReLU,
    1x1 Conv-BN-ReLU, global average pooling, Dense (a DS-CNN in miniature). ``dscnn-wide``:
    a stride-2 Conv-BN-ReLU and four DepthwiseConv-BN-ReLU + 1x1 Conv-BN-ReLU blocks of 64
    channels, then the same head (MLPerf Tiny's KWS DS-CNN layout). ``har``: two
    Conv1D-BN-ReLU-MaxPool blocks (16, 32 filters), global average pooling, Dense (sensor
    series, ``input_shape`` is (steps, channels)); ``har-wide``: the same with 32 and 64."""
    import keras

    layers = keras.layers
    if architecture == "cnn":
        return keras.Sequential([
            keras.Input(input_shape),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="fc1"),
            layers.Dense(classes, activation="softmax", name="fc2"),
        ], name="digits_cnn")
    if architecture == "dscnn-wide":
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(WIDE_DSCNN_FILTERS, 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
        x = layers.ReLU(name="relu1")(layers.BatchNormalization(name="bn1")(x))
        for block in range(1, WIDE_DSCNN_BLOCKS + 1):
            x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"dw{block}")(x)
            x = layers.ReLU(name=f"dw{block}_relu")(layers.BatchNormalization(name=f"dw{block}_bn")(x))
            x = layers.Conv2D(WIDE_DSCNN_FILTERS, 1, use_bias=False, name=f"pw{block}")(x)
            x = layers.ReLU(name=f"pw{block}_relu")(layers.BatchNormalization(name=f"pw{block}_bn")(x))
        x = layers.GlobalAveragePooling2D(name="gap")(x)
        outputs = layers.Dense(classes, activation="softmax", name="fc")(x)
        return keras.Model(inputs, outputs, name="digits_dscnn_wide")
    if architecture == "dscnn":
        inputs = keras.Input(input_shape)
        x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv1")(inputs)
        x = layers.BatchNormalization(name="bn1")(x)
        x = layers.ReLU(name="relu1")(x)
        x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw2")(x)
        x = layers.BatchNormalization(name="bn2")(x)
        x = layers.ReLU(name="relu2")(x)
        x = layers.Conv2D(32, 1, use_bias=False, name="pw2")(x)
        x = layers.BatchNormalization(name="bn3")(x)
        x = layers.ReLU(name="relu3")(x)
        x = layers.GlobalAveragePooling2D(name="gap")(x)
        outputs = layers.Dense(classes, activation="softmax", name="fc")(x)
        return keras.Model(inputs, outputs, name="digits_dscnn")
    if architecture in ("har", "har-wide"):
        inputs = keras.Input(input_shape)
        x = inputs
        for block, filters in enumerate(WIDE_HAR_FILTERS if architecture == "har-wide" else (16, 32), start=1):
            x = layers.Conv1D(filters, 5, padding="same", use_bias=False, name=f"conv{block}")(x)
            x = layers.BatchNormalization(name=f"bn{block}")(x)
            x = layers.ReLU(name=f"relu{block}")(x)
            x = layers.MaxPooling1D(2, name=f"pool{block}")(x)
        x = layers.GlobalAveragePooling1D(name="gap")(x)
        outputs = layers.Dense(classes, activation="softmax", name="fc")(x)
        return keras.Model(inputs, outputs, name=architecture.replace("-", "_") + "_conv1d")
    raise InputError(f"unknown demo architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}")


def train_demo_model(path: str | Path, architecture: str = "cnn", *, epochs: int | None = None,
                     data: Dataset | None = None, seed: int = 0,
                     progress: Progress | None = None) -> DemoModel:
    """Train a demo model on its data set with Keras 3 and save it as a Keras 3 ``.keras`` file."""
    import keras

    data = data or load_dataset(DEMO_DATA[architecture])
    keras.utils.set_random_seed(seed)
    model = build(architecture, data.sample_shape, data.num_classes)
    epochs = epochs or DEFAULT_EPOCHS[architecture]
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    task = (progress or NullProgress()).task(f"train demo {architecture}", epochs * math.ceil(len(data.x_train) / 32))
    advance = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: task.advance())
    try:
        model.fit(data.x_train, data.y_train, batch_size=32, epochs=epochs, verbose=0, shuffle=True,
                  callbacks=[advance])
    finally:
        task.close()
    accuracy = float(np.mean(np.argmax(model.predict(data.x_test, verbose=0), axis=-1) == data.y_test))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.stem}.partial.keras")
    try:
        model.save(scratch)
        write_bytes_atomic(target, scratch.read_bytes())
    finally:
        scratch.unlink(missing_ok=True)
    return DemoModel(target, architecture, accuracy)


def demo_model_name(architecture: str) -> str:
    """The demo model's file name, after its data set (``digits_cnn.keras``, ``basicmotions_har.keras``)."""
    if architecture not in ARCHITECTURES:
        raise InputError(f"unknown demo architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
    data_name = DEMO_DATA[architecture].split(":")[-1].lower()
    return f"{data_name}_{architecture}.keras"


def run_demo(out_dir: str | Path, architecture: str = "cnn", progress: Progress | None = None) -> DemoResult:
    """Train the demo model into ``out_dir`` and compress it (sparsity 0.5, 16 clusters)."""
    out = Path(out_dir)
    model = train_demo_model(out / demo_model_name(architecture), architecture, progress=progress)
    compressed = compress(model.path, DEMO_DATA[architecture], out / "compressed", DEMO_RECIPE, progress)
    return DemoResult(model, compressed)
