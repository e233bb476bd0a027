"""Shared fixtures for the compress stage: tiny Keras 3 models and fast recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinycompress.compress.data import Dataset, load_dataset
from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig, PruneConfig, QuantizeConfig, Recipe


def _keras():
    """Keras 3, imported after tinycompress has set TF's environment (as the CLI does)."""
    import tinycompress.compress.tfenv  # noqa: F401
    import keras

    return keras


@pytest.fixture(scope="session")
def keras3():
    return _keras()


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_dataset("digits")


@pytest.fixture(scope="session")
def fast_recipe() -> Recipe:
    """One epoch per stage, big batches: enough to exercise every stage quickly."""
    return Recipe(
        prune=PruneConfig(target_sparsity=0.5),
        cluster=ClusterConfig(clusters=8),
        quantize=QuantizeConfig(calibration_samples=50),
        finetune=FinetuneConfig(epochs=1, batch_size=64),
    )


@pytest.fixture(scope="session")
def keras3_cnn(tmp_path_factory: pytest.TempPathFactory, digits: Dataset) -> Path:
    """A small Keras 3 functional CNN with BatchNormalization and DepthwiseConv2D, trained 2 epochs."""
    keras = _keras()

    keras.utils.set_random_seed(1)
    layers = keras.layers
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.Conv2D(16, 1, name="pw")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(10, activation="softmax", name="fc")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(digits.x_train, digits.y_train, epochs=2, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("models") / "cnn.keras"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def keras3_mlp_logits(tmp_path_factory: pytest.TempPathFactory, digits: Dataset) -> Path:
    """A Keras 3 Sequential MLP on flat 64-feature input, ending in logits (no softmax)."""
    keras = _keras()

    keras.utils.set_random_seed(2)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu", name="hidden"),
        keras.layers.Dense(10, name="logits"),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train.reshape(-1, 64), digits.y_train, epochs=3, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("models") / "mlp.keras"
    model.save(path)
    return path


