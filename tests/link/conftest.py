"""Shared fixtures of the link/profile tests: the digits data set and a trained int8 CNN."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared_checks import digits_cnn_int8
from tinycompress.profile.host import build_host_server
from tinycompress.profile.report import LayerInfo, Target


@pytest.fixture(scope="session")
def digits():
    from tinycompress.compress.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def digits_tflite(digits) -> bytes:
    """A small CNN trained 3 epochs on digits, full-int8 (conv, depthwise, pool, dense, softmax)."""
    return digits_cnn_int8(digits)


@pytest.fixture(scope="session")
def digits_tflite_path(digits_tflite: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "digits_cnn.tflite"
    path.write_bytes(digits_tflite)
    return path


@pytest.fixture(scope="session")
def served(digits_tflite: bytes, tmp_path_factory: pytest.TempPathFactory):
    """The digits CNN compiled by the code generator into the host protocol server."""
    from tinycompress.codegen import generate, runtime_sources
    from tinycompress.tflite import read_model

    generated = generate(read_model(digits_tflite))
    folder = tmp_path_factory.mktemp("digits")
    for name, text in generated.files.items():
        (folder / "model" / name).parent.mkdir(exist_ok=True)
        (folder / "model" / name).write_text(text)
    binary = build_host_server(folder / "model", folder / "server", runtime_sources=runtime_sources())
    layers = tuple(LayerInfo(layer.name, layer.op, layer.macs) for layer in generated.layers)
    return binary, Target("host", layers=layers)


@pytest.fixture(scope="session")
def demo_tflite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's digits CNN (Keras 3, 3 epochs), pruned 50 %, 16 clusters, full int8: the compress stage's output."""
    from tinycompress.compress.demo import DEMO_RECIPE, train_demo_model
    from tinycompress.compress.pipeline import compress

    out = tmp_path_factory.mktemp("demo")
    model = train_demo_model(out / "digits_cnn.keras", "cnn", epochs=3)
    compress(model.path, "digits", out / "compressed", DEMO_RECIPE)
    return out / "compressed" / "model_int8.tflite"
