"""Layers named so a user can read them, and ``inspect`` tables that never cut a figure."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

import keras_int8
from tinycompress.cli import main
from tinycompress.codegen.summary import keras_layer

pytestmark = pytest.mark.host

SHORT_NAME = re.compile(r"[A-Z0-9_]+#\d+(:\w+)?")


@pytest.mark.parametrize("tensor, layer", [
    # MobileNet VWW, ResNet-8, DS-CNN and the autoencoder of MLPerf Tiny, as TF 2.21 names them
    ("model_2/re_lu_9/Relu6;model_2/batch_normalization_16/FusedBatchNormV3;model_2/conv2d_14/Conv2D1", "conv2d_14"),
    ("model/re_lu_1/Relu;model/batch_normalization_1/FusedBatchNormV3;model/depthwise_conv2d/depthwise1",
     "depthwise_conv2d"),
    ("model_1/activation_2/Relu;model_1/add/add", "add"),
    ("model_1/activation_4/Relu;model_1/add_1/add", "add_1"),
    ("model_1/conv2d_10/Conv2D1", "conv2d_10"),
    ("model_2/global_average_pooling2d/Mean", "global_average_pooling2d"),
    ("model/enc1/MatMul;model/enc1/BiasAdd;model/bn1/batchnorm/mul_1;model/relu1/Relu;model/bn1/batchnorm/add_1",
     "enc1"),
    ("model/activation_1/Relu", "activation_1"),
    ("StatefulPartitionedCall:0", None),
    ("serving_default_input_1:0", None),
])
def test_keras_layer_is_recovered_from_the_tensor_name(tensor: str, layer: str | None) -> None:
    assert keras_layer(tensor) == layer


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("names") / "small.tflite"
    path.write_bytes(keras_int8.convert_int8(keras_int8.small_cnn()))
    return str(path)


@pytest.fixture(scope="module")
def report(model_path: str) -> dict:
    result = CliRunner().invoke(main, ["inspect", model_path, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_inspect_json_names_layers_shortly_and_keeps_the_tensor(report: dict) -> None:
    layers = report["layers"]
    assert all(SHORT_NAME.fullmatch(layer["name"]) for layer in layers), [layer["name"] for layer in layers]
    assert layers[0]["name"].startswith("CONV_2D#0:conv2d")
    assert layers[1]["name"].startswith("DEPTHWISE_CONV_2D#1:depthwise_conv2d")
    assert layers[-1]["name"] == "SOFTMAX#4"  # the converter renamed the graph output
    assert "/" in layers[0]["tensor"] and layers[0]["tensor"] != layers[0]["name"]


def _figures(report: dict) -> list[str]:
    return [f"{layer[key]:,}" for layer in report["layers"] for key in ("macs", "weights_bytes", "output_offset")]


def test_inspect_piped_is_plain_text_with_whole_figures(model_path: str, report: dict) -> None:
    result = CliRunner(env={"COLUMNS": "50"}).invoke(main, ["inspect", model_path])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not set(out) & set("─│┃━┏┡└╇…") and "\x1b[" not in out
    rows = out.splitlines()
    for layer in report["layers"]:
        row = next(line for line in rows if line.startswith(layer["name"] + " "))
        cells = row.split()
        assert cells[0] == layer["name"] and cells[1] == layer["kernel"]
        assert [f"{layer['macs']:,}", f"{layer['weights_bytes']:,}"] == cells[3:5]
        assert cells[-1] == f"{layer['output_offset']:,}"
    assert f"MACs {report['macs']:,}" in out


@pytest.mark.parametrize("width, boxed", [(100, True), (60, False)])
def test_inspect_on_a_terminal_keeps_every_figure(model_path: str, report: dict, monkeypatch,
                                                  width: int, boxed: bool) -> None:
    """A rich table when the figures fit the terminal, else plain text: never a cut figure."""
    from tinycompress.cli import _common

    monkeypatch.setattr(_common, "stdout", Console(force_terminal=True, width=width, color_system=None))
    result = CliRunner().invoke(main, ["inspect", model_path])
    assert result.exit_code == 0, result.output
    assert ("┃" in result.stdout) is boxed
    cells = {cell.strip() for line in result.stdout.splitlines() for cell in re.split(r"│|  +", line)}
    assert set(_figures(report)) <= cells
