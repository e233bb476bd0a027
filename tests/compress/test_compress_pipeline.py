"""The whole compress chain, with the report checked against the files it describes."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json

import numpy as np
import pytest

from tinycompress import __version__
from tinycompress.codegen.packing import pack_palette4
from tinycompress.codegen.summary import summarize
from tinycompress.compress.data import load_dataset, match_model
from tinycompress.compress.keras_io import load_model
from tinycompress.compress.pipeline import compress
from tinycompress.compress.recipe import QuantizeConfig
from tinycompress.compress.tfenv import tf
from tinycompress.oracle import TflmOracle
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

PASSED = {"sparsity_reached": "passed", "clusters_kept": "passed"}


class _Task:
    def __init__(self, description: str, total: int | None) -> None:
        self.description, self.total, self.steps, self.closed = description, total, 0, False

    def advance(self, steps: int = 1) -> None:
        self.steps += steps

    def close(self) -> None:
        self.closed = True


class _Recorder:
    """A Progress that keeps every task it hands out."""

    def __init__(self) -> None:
        self.tasks: list[_Task] = []

    def task(self, description: str, total: int | None) -> _Task:
        self.tasks.append(_Task(description, total))
        return self.tasks[-1]


def _tflm_accuracy(tflite: bytes, x: np.ndarray, y: np.ndarray) -> float:
    oracle = TflmOracle(tflite)
    outputs = oracle.run_batch(oracle.input.quantize(x))
    return float(np.mean(outputs.reshape(len(x), -1).argmax(-1) == y))


def test_chain_on_keras3_cnn_writes_a_true_report(tmp_path, keras3_cnn, fast_recipe):
    out = tmp_path / "out"
    progress = _Recorder()
    result = compress(keras3_cnn, "digits", out, fast_recipe, progress)
    described = [task.description for task in progress.tasks]
    for stage in ("float model", "prune + fine-tune", "pruned model", "cluster + fine-tune", "int8 on TFLM"):
        assert stage in described
    assert all(task.closed and task.steps == (task.total or 0) for task in progress.tasks), vars(progress.tasks[0])
    converts = [task for task in progress.tasks if task.description.startswith("converting to int8")]
    assert len(converts) == 1 and converts[0].total is None  # a spinner: the converter reports no steps
    assert sorted(p.name for p in out.iterdir()) == [
        ".tinycompress.json", "model_float.keras", "model_int8.tflite", "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report == json.loads(json.dumps(result.report.to_dict()))
    assert report["source_format"] == "keras3" and report["bridged"]
    assert set(report["accuracy"]) >= {"float", "pruned", "clustered", "int8"}
    assert all(report["accuracy"][k] is not None for k in ("float", "pruned", "clustered", "int8"))
    assert report["recipe"]["cluster"]["clusters"] == 8
    assert set(report["timing_s"]) >= {"load", "evaluate_float", "prune", "cluster", "convert", "evaluate_int8"}

    tflite = (out / "model_int8.tflite").read_bytes()
    assert report["size_bytes"]["int8"] == len(tflite)
    # the weights as the device stores them: the figure `tinycompress inspect` reports as weights_bytes
    assert report["size_bytes"]["weights"] == summarize(tflite).to_dict()["weights_bytes"] > 0
    assert report["versions"] == {"tinycompress": __version__, "tensorflow": tf.__version__,
                                  "tflite_micro": importlib.metadata.version("tflite-micro"),
                                  "compiler": None, "qemu": None}
    data = load_dataset("digits")
    assert report["accuracy"]["int8"] == _tflm_accuracy(tflite, data.x_test, data.y_test)
    assert report["arena_bytes"] == TflmOracle(tflite).arena_bytes()

    layers = {layer["name"]: layer for layer in report["layers"]}
    assert {n for n, layer in layers.items() if layer["pruned"]} == {"conv", "pw", "fc"}
    assert {n for n, layer in layers.items() if layer["clustered"]} == {"conv", "pw", "fc"}
    assert not layers["dw"]["pruned"] and not layers["dw"]["clustered"]
    for name in ("conv", "pw", "fc"):
        assert layers[name]["sparsity"] >= 0.49 and layers[name]["int8_sparsity"] >= 0.49
        assert layers[name]["max_unique_per_channel"] <= 8
    assert layers["bn"]["max_unique_per_channel"] is None
    assert {name: check["status"] for name, check in report["checks"].items()} == PASSED
    # A clustered Dense is quantised per tensor (convs stay per channel), so its <= 8 centroids are
    # the same int8 values in every row: codegen stores one shared palette for the packed FC loops.
    ir = read_model(tflite)
    filters = {op.op: ir.tensors[op.inputs[1]] for op in ir.operators if op.op in ("CONV_2D", "FULLY_CONNECTED")}
    assert len(filters["FULLY_CONNECTED"].quant.scale) == 1 and len(filters["CONV_2D"].quant.scale) > 1
    assert np.unique(filters["FULLY_CONNECTED"].array()).size <= 8
    assert pack_palette4(filters["FULLY_CONNECTED"].array(), 0).shared

    reloaded = load_model(out / "model_float.keras")
    assert reloaded.source_format == "keras2-zip"
    assert float(np.mean(reloaded.model.predict(data.x_test, verbose=0).argmax(-1) == data.y_test)) == report["accuracy"]["clustered"]


def test_chain_on_logits_mlp_with_npz_and_stages_disabled(tmp_path, keras3_mlp_logits, fast_recipe):
    digits = load_dataset("digits")
    npz = tmp_path / "flat.npz"
    np.savez(npz, x_train=digits.x_train.reshape(-1, 64)[:400], y_train=digits.y_train[:400],
             x_test=digits.x_test.reshape(-1, 64)[:100], y_test=digits.y_test[:100])
    recipe = dataclasses.replace(
        fast_recipe,
        prune=dataclasses.replace(fast_recipe.prune, target_sparsity=0.0),
        quantize=QuantizeConfig(calibration_samples=1000),
    )
    result = compress(keras3_mlp_logits, npz, tmp_path / "out", recipe)
    report = result.report.to_dict()
    assert report["accuracy"]["pruned"] is None and report["prune_schedule"] is None
    assert report["checks"]["sparsity_reached"] == {"status": "not requested", "detail": "pruning disabled"}
    assert report["checks"]["clusters_kept"]["status"] == "passed"
    assert report["samples"] == {"train": 400, "test": 100}
    assert not any(layer["pruned"] for layer in report["layers"])
    assert all(layer["clustered"] and layer["max_unique_per_channel"] <= 8 for layer in report["layers"])
    data = match_model(load_dataset(npz), (64,), 10)
    assert report["accuracy"]["int8"] == _tflm_accuracy(result.tflite_path.read_bytes(), data.x_test, data.y_test)
    assert abs(report["accuracy"]["int8"] - report["accuracy"]["clustered"]) <= 0.05


def test_small_layers_stay_pruned_and_are_reported_unclustered(tmp_path, fast_recipe, keras3):
    keras = keras3
    keras.utils.set_random_seed(4)
    layers = keras.layers
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    x = layers.SeparableConv2D(3, 3, padding="same", activation="relu", name="sep")(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax", name="fc")(x))
    model.save(tmp_path / "small.keras")

    recipe = dataclasses.replace(fast_recipe, cluster=dataclasses.replace(fast_recipe.cluster, clusters=16))
    report = compress(tmp_path / "small.keras", "digits", tmp_path / "out", recipe).report
    layers_by_name = {layer.name: layer for layer in report.layers}
    assert layers_by_name["sep"].pruned and not layers_by_name["sep"].clustered
    assert any(note.startswith("layer sep left unclustered: pointwise_kernel") for note in report.notes)
    # fc: 30 weights pruned to 15 non-zero values, already fewer than 16 clusters.
    assert any(note.startswith("layer fc left unclustered: kernel already holds") for note in report.notes)
    assert layers_by_name["conv"].clustered and not layers_by_name["fc"].clustered
    pointwise = [w for w in report.int8_weights if w.op_index in layers_by_name["sep"].int8_ops and w.op == "CONV_2D"]
    # Zeros held through the cluster fine-tune although tfmot did not wrap these layers.
    assert len(pointwise) == 1 and pointwise[0].sparsity >= 0.5
    assert layers_by_name["fc"].int8_sparsity >= 0.5
    assert layers_by_name["sep"].pruned_weights == ["pointwise_kernel"]
    assert layers_by_name["sep"].int8_size == 8 * 3  # the pointwise op only
    assert {name: check.status for name, check in report.checks.items()} == PASSED


def test_layers_tfmot_cannot_handle_are_noted_not_fatal(tmp_path, fast_recipe):
    from tinycompress.compress.tfenv import tf_keras

    layers = tf_keras.layers
    model = tf_keras.Sequential([
        tf_keras.Input((8, 8, 1)), layers.Rescaling(2.0, offset=-1.0), layers.Conv2D(8, 3, name="conv"),
        layers.PReLU(name="prelu"), layers.Flatten(), layers.Dense(10, activation="softmax", name="fc"),
    ])
    model.save(tmp_path / "prelu.h5")
    report = compress(tmp_path / "prelu.h5", "digits", tmp_path / "out", fast_recipe).report
    assert report.source_format == "keras2-h5"
    assert report.notes == ["layer prelu left unpruned: tfmot cannot prune PReLU",
                            "layer prelu left unclustered: tfmot cannot cluster PReLU"]
    assert {layer.name for layer in report.layers if layer.pruned and layer.clustered} == {"conv", "fc"}
    assert {name: check.status for name, check in report.checks.items()} == PASSED


def test_depthwise_opt_in_prunes_and_clusters_depthwise_kernels(tmp_path, keras3_cnn, fast_recipe):
    recipe = dataclasses.replace(
        fast_recipe,
        prune=dataclasses.replace(fast_recipe.prune, depthwise=True),
        cluster=dataclasses.replace(fast_recipe.cluster, clusters=4, depthwise=True),
    )
    out = tmp_path / "out"
    report = compress(keras3_cnn, "digits", out, recipe).report
    dw = next(layer for layer in report.layers if layer.name == "dw")
    assert dw.pruned_weights == ["depthwise_kernel"] and dw.clustered_weights == ["depthwise_kernel"]
    # A 3x3 depthwise channel has 9 weights: at most 4 values proves the clustering reached int8.
    assert dw.int8_sparsity >= 0.5 and dw.max_unique_per_channel <= 4
    assert {name: check.status for name, check in report.checks.items()} == PASSED
    saved = load_model(out / "model_float.keras").model
    assert type(saved.get_layer("dw")).__name__ == "DepthwiseConv2D"  # the tunable twin is not saved
