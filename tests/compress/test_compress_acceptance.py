"""The issue's "done means", on the demo models (sparsity 0.5, 16 clusters).

The demo CNN (Conv/Dense) and the DS-CNN (Conv-BN, DepthwiseConv-BN, 1x1
Conv-BN, Dense) are trained with Keras 3, saved as .keras, and compressed
through ``tinycompress demo`` (which then runs them on an emulated board). Every figure is re-measured here from the
written files, not taken from the report.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.compress.data import load_dataset
from tinycompress.compress.evaluate import int8_weight_values, int8_weights
from tinycompress.compress.keras_io import load_model
from tinycompress.compress.report import int8_tensors_of
from tinycompress.oracle import TflmOracle

pytestmark = pytest.mark.emulator


@pytest.mark.parametrize("arch", ["cnn", "dscnn"])
def test_demo_meets_the_acceptance_criteria(tmp_path, arch):
    result = CliRunner().invoke(main, ["demo", "-o", str(tmp_path), "--arch", arch, "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    combined = json.loads(result.stdout)
    assert combined == json.loads((tmp_path / "report.json").read_text())
    report = combined["compress"]
    out = tmp_path / "compress"
    assert report == json.loads((out / "report.json").read_text())
    assert report["source_format"] == "keras3"

    data = load_dataset("digits")
    tflite = (out / "model_int8.tflite").read_bytes()
    oracle = TflmOracle(tflite)
    outputs = oracle.run_batch(oracle.input.quantize(data.x_test))
    int8_accuracy = float(np.mean(outputs.reshape(len(data.x_test), -1).argmax(-1) == data.y_test))
    assert report["accuracy"]["int8"] == int8_accuracy
    assert report["arena_bytes"] == oracle.arena_bytes()
    assert report["size_bytes"]["int8"] == len(tflite)

    original = load_model(tmp_path / f"digits_{arch}.keras").model
    float_accuracy = float(np.mean(original.predict(data.x_test, verbose=0).argmax(-1) == data.y_test))
    assert report["accuracy"]["float"] == pytest.approx(float_accuracy)
    assert float_accuracy - int8_accuracy <= 0.02

    stripped = load_model(out / "model_float.keras").model
    conv_dense = {layer.name for layer in stripped.layers if type(layer).__name__ in ("Conv2D", "Dense")}
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert {n for n, layer in layers.items() if layer["pruned"]} == conv_dense
    assert {n for n, layer in layers.items() if layer["clustered"]} == conv_dense
    matched = int8_tensors_of(stripped, int8_weights(tflite), int8_weight_values(tflite))
    for name in conv_dense:
        kernel = stripped.get_layer(name).kernel.numpy()
        # Clustering may pin a few more weights to the zero centroid, never fewer.
        assert 0.5 - 1 / kernel.size <= np.mean(kernel == 0) <= 0.51, name
        mine = list(matched.get(name, {}).values())
        assert len(mine) == 1, name
        assert mine[0].sparsity >= 0.5 - 1e-9, name
        assert mine[0].max_unique_per_channel <= 16, name
        assert layers[name]["max_unique_per_channel"] == mine[0].max_unique_per_channel
    assert {name: check["status"] for name, check in report["checks"].items()} == {
        "sparsity_reached": "passed", "clusters_kept": "passed"}
    assert combined["outputs_bit_exact"] is True
    assert combined["samples"] == len(data.x_test)
    assert combined["accuracy"]["device"] == combined["accuracy"]["host_int8"] == int8_accuracy
    assert combined["memory_bytes"]["weights"] == report["size_bytes"]["weights"] > 0  # one figure, one value
    assert combined["versions"] == combined["device"]["versions"]
    assert combined["versions"]["qemu"].startswith("QEMU emulator version ") and combined["versions"]["compiler"]
    assert report["versions"]["tensorflow"] and report["versions"]["tflite_micro"]
    if arch == "dscnn":
        assert not layers["dw2"]["pruned"] and not layers["dw2"]["clustered"]
