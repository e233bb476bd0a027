"""The profile report and its per-layer table name layers by a short readable name, never cut."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

import keras_int8
from fake_device import FakeDevice, FaultyLoopPort
from tinycompress import __version__
from tinycompress.cli import profile as profile_cli
from tinycompress.link import DeviceLink
from tinycompress.profile.project import ProfiledProject
from tinycompress.profile.report import LayerInfo, Target, build_report
from tinycompress.profile.session import connect, stream
from tinycompress.project.boards import get_board

pytestmark = pytest.mark.host


def test_target_names_layers_by_op_index_and_keras_layer(tmp_path) -> None:
    tflite = keras_int8.convert_int8(keras_int8.small_cnn())
    info = SimpleNamespace(board=get_board("qemu-netduinoplus2"), firmware=str(tmp_path / "none.elf"))
    layers = ProfiledProject(info, tflite).target().layers
    assert [layer.name.split(":")[0] for layer in layers] == [
        "CONV_2D#0", "DEPTHWISE_CONV_2D#1", "MAX_POOL_2D#2", "FULLY_CONNECTED#3", "SOFTMAX#4"]
    assert layers[0].name.startswith("CONV_2D#0:conv2d") and layers[-1].name == "SOFTMAX#4"
    assert layers[0].tensor and "/" in layers[0].tensor and layers[-1].tensor == "StatefulPartitionedCall:0"


def test_report_and_table_carry_whole_names(tmp_path, monkeypatch) -> None:
    layers = (
        LayerInfo("DEPTHWISE_CONV_2D#13:depthwise_conv2d_10", "DEPTHWISE_CONV_2D", 1_179_648,
                  "model_2/re_lu_22/Relu6;model_2/batch_normalization_29/FusedBatchNormV3;"
                  "model_2/depthwise_conv2d_10/depthwise1"),
        LayerInfo("MEAN#27:global_average_pooling2d", "MEAN", 8_192, "model_2/global_average_pooling2d/Mean"),
        LayerInfo("SOFTMAX#29", "SOFTMAX", 0, "StatefulPartitionedCall:0"),
    )
    device = FakeDevice(input_bytes=16, output_bytes=4, layer_ticks=lambda n: (2_359_296, 40_960, 512))
    link = DeviceLink(FaultyLoopPort(device), "loop://", timeout=0.2)
    inputs = np.arange(2 * 16).reshape(2, 16).astype(np.int8)
    measured = stream(link, connect(link, boot_timeout=1), inputs)
    report = build_report(Target("fake", layers=layers), measured, labels=None, host_outputs=inputs[:, :4],
                          url="loop://")
    assert [(row["name"], row["tensor"]) for row in report["layers"]] == [(x.name, x.tensor) for x in layers]
    # every profile report, even one built from a bare link, records what produced it
    assert report["versions"]["tinycompress"] == __version__ and report["versions"]["tflite_micro"]

    out = io.StringIO()
    monkeypatch.setattr(profile_cli, "stdout", Console(file=out, width=100, color_system=None))
    profile_cli.print_summary(report, tmp_path / "report.json")
    text = out.getvalue()
    assert "…" not in text
    for layer in layers:
        assert layer.name in text
    assert "2,359,296" in text and "40,960" in text
