"""``demo --model har``: a Conv1D on aeon's BasicMotions sensor series, through the whole chain in QEMU."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.compress.data import load_dataset
from tinycompress.oracle import TflmOracle
from tinycompress.tflite import read_model

pytestmark = pytest.mark.emulator

SAMPLES = 10


def test_har_demo_runs_bit_exact_on_the_emulated_board(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--model", "har", "-o", str(tmp_path), "--limit", str(SAMPLES),
                                       "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    combined = json.loads(result.stdout)
    assert combined["compress"]["data"] == "aeon:BasicMotions"
    assert (tmp_path / "basicmotions_har.keras").is_file()

    tflite = (tmp_path / "compress" / "model_int8.tflite").read_bytes()
    ops = {op.op for op in read_model(tflite).operators}
    # TFLite lowers Conv1D and MaxPooling1D to 2-D kernels between views; all of them run in our C.
    assert {"EXPAND_DIMS", "CONV_2D", "RESHAPE", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED"} <= ops

    data = load_dataset("aeon:BasicMotions")
    oracle = TflmOracle(tflite)
    outputs = oracle.run_batch(oracle.input.quantize(data.x_test[:SAMPLES]))
    host_int8 = float(np.mean(outputs.reshape(SAMPLES, -1).argmax(-1) == data.y_test[:SAMPLES]))
    assert combined["samples"] == SAMPLES
    assert combined["outputs_bit_exact"] is True
    assert combined["accuracy"]["device"] == combined["accuracy"]["host_int8"] == host_int8
    assert host_int8 >= 0.7  # four activities: far above chance after the brief training
    assert combined["latency"]["unit"] == "instructions" and combined["latency"]["median"] > 0
    # compress's estimate (cost model calibrated on this board's kernels) beside the measurement, with the ratio
    checked = combined["estimate_vs_device"]
    latency = checked["latency"]
    assert latency["measured"] == combined["latency"]["median"] and latency["runtime_arch"] == "cortex-m-dsp"
    assert latency["estimated"] == combined["compress"]["instructions_estimate"]["instructions"] > 0
    assert latency["ratio"] == round(latency["estimated"] / latency["measured"], 4)
    assert [layer["name"] for layer in checked["layers"]] == [layer["name"] for layer in combined["device"]["layers"]]
    assert all(layer["measured"] > 0 and layer["ratio"] > 0 for layer in checked["layers"])
    assert checked["ram"]["estimated"] == combined["memory_bytes"]["arena"]
    assert checked["ram"]["measured"] == combined["memory_bytes"]["ram_used"]
    assert checked["flash"]["estimated"] == combined["memory_bytes"]["weights"]
    assert checked["flash"]["measured"] == combined["memory_bytes"]["flash_used"]
