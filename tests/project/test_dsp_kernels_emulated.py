"""Emulator tier: the arch kernels of the MLPerf Tiny layer shapes, against TFLM on every emulated core.

firmware/runtime/arch/cortex-m-dsp/ has fast paths for the layer shapes of
DS-CNN and ResNet-8 (a 1-channel 10x4 stride-2 first conv, 3x3 convs on 3
and 16 channels, residual ADD, average pooling) and of DS-CNN/MobileNet's
separable blocks (depthwise, pointwise 1x1, fully connected); tc_arch_check.c compares
them with the reference kernels, and this test closes the loop against the
TFLM interpreter itself: small models with those layers, built with each
board's kernel chain, must give TFLM's output bytes: the DSP kernels on the
M4, the Helium (MVE) ones on the M55 (arch/helium/: conv, 1x1, FC,
depthwise, ADD, average pool and MEAN; its chain falls back to the DSP ones
for the others, the M55 has the DSP extension), the portable ones on RISC-V.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from project_helpers import report_fields, xorshift_input

from tinycompress.oracle import TflmOracle
from tinycompress.project.boards import get_board
from tinycompress.project.build import build_project
from tinycompress.project.export import export_project
from tinycompress.project.model import model_sources_from_tflite
from tinycompress.project.qemu import run_firmware

pytestmark = pytest.mark.emulator

# Emulated board -> where its build takes the depthwise kernel from (first folder of its chain that has it).
BOARDS = {"qemu-netduinoplus2": "cortex-m-dsp", "qemu-mps3-an547": "helium", "qemu-riscv32": "portable"}
# The GEMM-like kernels (CONV_2D, 1x1 CONV_2D, FULLY_CONNECTED) come from the same folder on every board.
GEMM_KERNELS = ("tc_conv_s8.c", "tc_conv_1x1_s8.c", "tc_fully_connected_s8.c")
# Kernels the M55 takes from arch/helium/ besides those (ADD, pooling, MEAN).
HELIUM_KERNELS = ("tc_add_s8.c", "tc_avgpool_s8.c", "tc_mean_s8.c")


def kws_front(layers: Any, inp: Any) -> Any:
    """DS-CNN's first layer (10x4, stride 2, 1 channel) feeding a 3x3 conv and a residual ADD."""
    x = layers.Conv2D(16, (10, 4), strides=2, padding="same", activation="relu")(inp)
    y = layers.Conv2D(16, 3, padding="same")(x)
    return layers.ReLU()(layers.Add()([x, y]))


def resnet_head(layers: Any, inp: Any) -> Any:
    """ResNet-8's first conv (3x3 on 3 channels), stride-2 3x3 conv, pooling, softmax classifier."""
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
    x = layers.Conv2D(24, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = layers.AveragePooling2D(x.shape[1:3])(x)
    return layers.Softmax()(layers.Dense(10)(layers.Flatten()(x)))


def separable_blocks(layers: Any, inp: Any) -> Any:
    """DS-CNN/MobileNet blocks: 3x3 depthwise (border and interior pixels, stride 1 and 2),
    pointwise 1x1 (an odd pixel count, stride 2), fully connected with a partial row block."""
    x = layers.DepthwiseConv2D(3, padding="same", activation="relu")(inp)
    x = layers.Conv2D(20, 1, activation="relu")(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(x)
    x = layers.Conv2D(10, 1, strides=2, padding="same")(x)
    return layers.Dense(7)(layers.Flatten()(x))


def depthwise_general(layers: Any, inp: Any) -> Any:
    """Depthwise layers off the unrolled 3x3 path: 6 channels (a 2-channel tail), a 5x5 filter;
    a global average pooling (MEAN over height and width) beside the flattened features."""
    x = layers.DepthwiseConv2D(3, activation="relu")(inp)
    x = layers.DepthwiseConv2D(5, padding="same")(x)
    x = layers.Concatenate()([layers.Flatten()(x), layers.GlobalAveragePooling2D()(x)])
    return layers.Dense(5)(layers.Dense(30, activation="relu")(x))


def gemm_limits(layers: Any, inp: Any) -> Any:
    """Past the GEMM fast paths' limits: a 3x3 window of 630 values (Helium: one pixel at a time), a 1x1
    conv to 260 channels and an FC to 300 rows (start values formed per block of rows), a 3x3 window of
    2340 values (the tap path)."""
    x = layers.Conv2D(20, 3, padding="same", activation="relu")(inp)
    x = layers.Conv2D(260, 1)(x)
    x = layers.Conv2D(4, 3, activation="relu")(x)
    return layers.Dense(5)(layers.Dense(300, activation="relu")(layers.Flatten()(x)))


MODELS: dict[str, tuple[tuple[int, ...], Callable[[Any, Any], Any]]] = {
    "kws_front": ((20, 10, 1), kws_front),
    "resnet_head": ((12, 12, 3), resnet_head),
    "separable_blocks": ((9, 7, 12), separable_blocks),
    "depthwise_general": ((8, 9, 6), depthwise_general),
    "gemm_limits": ((5, 4, 70), gemm_limits),
}


@pytest.mark.parametrize("board_name", sorted(BOARDS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_arch_kernels_match_tflm(name: str, board_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keras_int8 import convert_int8, tf_keras

    shape, build = MODELS[name]
    tf_keras.utils.set_random_seed(0)
    inp = tf_keras.layers.Input(shape)
    tflite = tmp_path / f"{name}.tflite"
    tflite.write_bytes(convert_int8(tf_keras.Model(inp, build(tf_keras.layers, inp)), samples=16))
    monkeypatch.setenv("HOME", str(tmp_path))  # PlatformIO must not touch the user's home
    model = model_sources_from_tflite(tflite, runtime_arch=get_board(board_name).runtime_arch)
    assert_device_equals_tflm(model, tflite, board_name, tmp_path)


# (board, objective): the packed layers' decode scratch on every kernel chain, the generic packed
# paths (size: the FC's palette) on the M4 and the M55. On the M55 balanced keeps the 1x1 conv dense
# (its sparse decode costs ~1.3x the MVE conv: codegen.storage ranks for the board's core), so the
# scratches run there under size.
PACKED_RUNS = [("qemu-netduinoplus2", "balanced"), ("qemu-netduinoplus2", "size"),
               ("qemu-mps3-an547", "size"), ("qemu-riscv32", "balanced")]


@pytest.mark.parametrize(("board_name", "objective"), PACKED_RUNS)
def test_packed_layers_match_tflm(board_name: str, objective: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A clustered + pruned CNN (keras_int8.packed_cnn): a 3x3 conv in 4-bit palette and a 1x1
    conv in sparse bitmap, both decoded once per call into their arena scratch, give TFLM's bytes."""
    from keras_int8 import convert_int8, packed_cnn

    tflite = tmp_path / "packed.tflite"
    tflite.write_bytes(convert_int8(packed_cnn(), samples=16))
    monkeypatch.setenv("HOME", str(tmp_path))  # PlatformIO must not touch the user's home
    model = model_sources_from_tflite(tflite, runtime_arch=get_board(board_name).runtime_arch, optimize=objective)
    storage = {row["layer"].split(":")[0]: (row["storage"], row["scratch_bytes"]) for row in model.weights_storage}
    assert storage["CONV_2D#2"] == ("palette4", 3456) and storage["CONV_2D#3"] == ("sparse8", 192)
    assert storage["FULLY_CONNECTED#5"][0] == ("palette4" if objective == "size" else "s8")
    assert ".scratch = (tc_model_arena + " in model.files["model.c"]
    assert_device_equals_tflm(model, tflite, board_name, tmp_path)


@pytest.mark.parametrize("board_name", sorted(BOARDS))
def test_packed_dense_layers_match_tflm(board_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clustered Dense quantised per tensor (one shared palette) and pruned Dense (sparse rows),
    stored packed (--optimize size): each core's packed FULLY_CONNECTED loops give TFLM's bytes."""
    from keras_int8 import convert_int8, packed_dense

    tflite = tmp_path / "packed_dense.tflite"
    tflite.write_bytes(convert_int8(packed_dense(), samples=16, per_channel=False))
    monkeypatch.setenv("HOME", str(tmp_path))  # PlatformIO must not touch the user's home
    model = model_sources_from_tflite(tflite, runtime_arch=get_board(board_name).runtime_arch, optimize="size")
    assert [row["storage"] for row in model.weights_storage] == ["palette4", "sparse8"]
    assert ".shared = 1" in model.files["model.c"]
    assert_device_equals_tflm(model, tflite, board_name, tmp_path)


# (board, clustered): a Dense 512 -> 32 -> 10 with half of its runs of 16 input weights zeroed, plain
# (per-channel int8: kept blocks, block8, which balanced takes on every core), and with its kept weights
# on 15 shared values (per-tensor int8: kept blocks of 4-bit indices, block4, half block8's bytes, which
# size takes; balanced keeps block8, block4 costing more than 1.15x it on every core).
BLOCK_RUNS = [(board, clustered) for board in sorted(BOARDS) for clustered in (False, True)]


@pytest.mark.parametrize(("board_name", "clustered"), BLOCK_RUNS)
def test_block_pruned_dense_matches_tflm(board_name: str, clustered: bool, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A block-pruned Dense stored as kept blocks (int8, or 4-bit indices when clustered): each core's
    FULLY_CONNECTED runs them and gives TFLM's bytes."""
    from keras_int8 import block_dense, convert_int8

    tflite = tmp_path / "block_dense.tflite"
    model = block_dense((512,), (32, 10), 16, clustered=clustered)
    tflite.write_bytes(convert_int8(model, samples=16, per_channel=not clustered))
    monkeypatch.setenv("HOME", str(tmp_path))  # PlatformIO must not touch the user's home
    objective, storage = ("size", "block4") if clustered else ("balanced", "block8")
    model = model_sources_from_tflite(tflite, runtime_arch=get_board(board_name).runtime_arch, optimize=objective)
    assert model.weights_storage[0]["storage"] == storage
    assert f"TC_WEIGHTS_{storage.upper()}" in model.files["model.c"] and ".block = 16," in model.files["model.c"]
    assert_device_equals_tflm(model, tflite, board_name, tmp_path)


def assert_device_equals_tflm(model: Any, tflite: Path, board_name: str, tmp_path: Path) -> None:
    """Build ``model`` with the board's kernel chain (selftest app), run it in QEMU, compare with TFLM."""
    board = get_board(board_name)
    project = export_project(model, board, tmp_path / "project", app="selftest").project
    kernels = {p.name: p.parent.name for p in (project / "src" / "runtime").rglob("*.c")}
    assert kernels["tc_depthwise_conv_s8.c"] == BOARDS[board_name]
    assert {kernels[name] for name in GEMM_KERNELS} == {BOARDS[board_name]}
    if board.runtime_arch == "helium":
        assert {kernels[name] for name in HELIUM_KERNELS} == {"helium"}
    built = build_project(project)

    run = run_firmware(board, built.firmware, timeout=60)
    assert run.exit_code == 0, run.output
    device = report_fields(run.output)
    assert device["status"] == "0"
    oracle = TflmOracle(tflite.read_bytes())
    sample = xorshift_input(built.project.seed, int(np.prod(oracle.input.shape)))
    expected = oracle.run(sample).astype(np.int8).view(np.uint8)
    assert expected.size > 1
    assert device["output"] == expected.tobytes().hex()
