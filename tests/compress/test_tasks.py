"""Regression and autoencoder tasks: detection from the data, --task, the MSE fine-tune, and the
metric each stage reports (mse/mae, roc_auc), from the float model to the device outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.compress.data import Dataset, load_dataset, match_model
from tinycompress.compress.metrics import roc_auc, task_metrics
from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig, PruneConfig, QuantizeConfig, Recipe
from tinycompress.errors import DataError

pytestmark = pytest.mark.host


def _npz(path: Path, **arrays: np.ndarray | None) -> Path:
    rng = np.random.default_rng(0)
    found = {"x_train": rng.random((20, 6), dtype=np.float32), "x_test": rng.random((8, 6), dtype=np.float32)}
    found.update(arrays)
    np.savez(path, **{k: v for k, v in found.items() if v is not None})
    return path


def _regression(path: Path) -> Path:
    rng = np.random.default_rng(1)
    x_train, x_test = rng.random((20, 6), dtype=np.float32), rng.random((8, 6), dtype=np.float32)
    return _npz(path, x_train=x_train, x_test=x_test, y_train=x_train[:, :2] * 3.5, y_test=x_test[:, :2] * 3.5)


def test_task_is_detected_from_the_targets(tmp_path):
    no_targets = load_dataset(_npz(tmp_path / "ae.npz"))
    assert no_targets.task == "autoencoder" and np.array_equal(no_targets.y_test, no_targets.x_test)
    x_train, x_test = np.ones((20, 6), np.float32), np.zeros((8, 6), np.float32)
    same = load_dataset(_npz(tmp_path / "same.npz", x_train=x_train, x_test=x_test, y_train=x_train, y_test=x_test))
    assert same.task == "autoencoder"
    regression = load_dataset(_regression(tmp_path / "reg.npz"))
    assert regression.task == "regression" and regression.y_train.dtype == np.float32
    assert regression.y_train.shape == (20, 2) and regression.anomaly_test is None
    labels = load_dataset(_npz(tmp_path / "cls.npz", y_train=np.arange(20) % 3, y_test=np.arange(8) % 3))
    assert labels.task == "classification" and labels.y_train.dtype == np.int64
    # explicit regression on whole numbers is allowed: they are targets too
    assert load_dataset(tmp_path / "cls.npz", "regression").y_test.dtype == np.float32
    pixels = load_dataset("digits", "autoencoder")
    assert pixels.task == "autoencoder" and np.array_equal(pixels.y_train, pixels.x_train)


@pytest.mark.parametrize(
    ("name", "arrays", "task", "message"),
    [
        ("ae", {}, "classification", "--task classification needs targets, but ae.npz has no y_train/y_test"),
        ("ae", {}, "regression", "--task regression needs targets"),
        ("reg", None, "classification", "--task classification needs integer class labels of shape (n,)"),
        ("reg", None, "autoencoder", "--task autoencoder reconstructs x, but y_train/y_test in reg.npz differ"),
        ("onehot", {"y_train": np.eye(3)[np.arange(20) % 3], "y_test": np.eye(3)[np.arange(8) % 3]}, None,
         "one-hot rows; give integer class labels"),
        ("anomaly", {"y_train": np.arange(20) % 3, "y_test": np.arange(8) % 3, "y_test_anomaly": np.zeros(8)}, None,
         "y_test_anomaly in anomaly.npz scores an autoencoder's reconstruction error, but the task is classification"),
        ("badanomaly", {"y_test_anomaly": np.full(8, 2)}, None, "must hold one 0 (normal) or 1 (anomalous)"),
        ("ae", {}, "clustering", "unknown task 'clustering'"),
    ],
)
def test_a_task_the_data_contradicts_is_a_one_line_error(tmp_path, name, arrays, task, message):
    path = _regression(tmp_path / f"{name}.npz") if arrays is None else _npz(tmp_path / f"{name}.npz", **arrays)
    with pytest.raises(DataError) as info:
        load_dataset(path, task)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_digits_are_no_regression_targets_and_targets_must_fill_the_output(digits):
    with pytest.raises(DataError, match="digits holds class labels, not regression targets"):
        load_dataset("digits", "regression")
    pixels = load_dataset("digits", "autoencoder")
    flat = match_model(pixels, (64,), 64, output_shape=(64,))
    assert flat.y_test.shape == (len(digits.x_test), 64) and np.array_equal(flat.y_test, flat.x_test)
    with pytest.raises(DataError, match=r"autoencoder targets have 64 values per sample but the model outputs \(32,\)"):
        match_model(pixels, (64,), 32, output_shape=(32,))


def test_roc_auc_on_a_hand_example():
    # 4 anomaly/normal pairs: (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4): 3 of 4 ranked right
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.array([0.5, 0.5, 0.9]), np.array([0, 1, 1])) == 0.75  # a tie counts half
    assert roc_auc(np.array([1.0, 2.0]), np.array([0, 0])) is None  # one class: undefined
    outputs = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    found = task_metrics("autoencoder", outputs, np.zeros((3, 2)), np.array([0, 1, 1]))
    assert found == {"mse": pytest.approx(1.0), "mae": pytest.approx(4 / 6), "roc_auc": 1.0}


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory: pytest.TempPathFactory, keras3) -> Path:
    """A Keras 3 Dense autoencoder 64 → 16 → 8 → 16 → 64 on the digits pixels, trained 2 epochs with MSE."""
    pixels = load_dataset("digits", "autoencoder")
    keras3.utils.set_random_seed(3)
    layers = keras3.layers
    model = keras3.Sequential([
        keras3.Input((64,)),
        layers.Dense(16, activation="relu", name="enc1"),
        layers.Dense(8, activation="relu", name="code"),
        layers.Dense(16, activation="relu", name="dec1"),
        layers.Dense(64, name="out"),
    ])
    model.compile("adam", "mse")
    flat = pixels.x_train.reshape(-1, 64)
    model.fit(flat, flat, epochs=2, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("ae") / "ae.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def anomaly_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Digits pixels as an anomaly set: the test set's second half scrambled and labelled anomalous."""
    pixels = load_dataset("digits")
    x_train, x_test = pixels.x_train.reshape(-1, 64), pixels.x_test.reshape(-1, 64).copy()
    half = len(x_test) // 2
    x_test[half:] = np.random.default_rng(0).permuted(x_test[half:], axis=1)
    anomaly = (np.arange(len(x_test)) >= half).astype(np.int64)
    path = tmp_path_factory.mktemp("anomaly") / "ae.npz"
    np.savez(path, x_train=x_train, x_test=x_test, y_test_anomaly=anomaly)
    return path


@pytest.fixture(scope="module")
def compressed_autoencoder(tmp_path_factory: pytest.TempPathFactory, autoencoder: Path, anomaly_npz: Path):
    from tinycompress.compress.pipeline import compress

    recipe = Recipe(prune=PruneConfig(target_sparsity=0.5), cluster=ClusterConfig(clusters=8),
                    quantize=QuantizeConfig(calibration_samples=100), finetune=FinetuneConfig(epochs=2, batch_size=64))
    return compress(autoencoder, anomaly_npz, tmp_path_factory.mktemp("ae-out") / "out", recipe)


def test_autoencoder_is_fine_tuned_with_mse_and_reports_it_per_stage(compressed_autoencoder, anomaly_npz, tmp_path):
    from tinycompress.oracle import TflmOracle

    report = json.loads((compressed_autoencoder.out_dir / "report.json").read_text())
    assert report["task"] == "autoencoder" and "accuracy" not in report
    for metric in ("mse", "mae", "roc_auc"):
        assert all(report[metric][stage] is not None for stage in ("float", "pruned", "clustered", "int8")), metric
    # cross-entropy on the pixels would wreck the reconstruction; MSE keeps it near the float model's
    assert report["mse"]["clustered"] <= 1.2 * report["mse"]["float"]
    assert report["checks"]["sparsity_reached"]["status"] == "passed"
    assert report["checks"]["clusters_kept"]["status"] == "passed"
    # the int8 figure is the TFLM interpreter's dequantised outputs against the pixels
    data = load_dataset(anomaly_npz)
    oracle = TflmOracle(compressed_autoencoder.tflite_path.read_bytes())
    int8_outputs = oracle.run_batch(oracle.input.quantize(data.x_test)).reshape(len(data.x_test), -1)
    outputs = oracle.output.dequantize(int8_outputs)
    expected = task_metrics("autoencoder", outputs, data.x_test, data.anomaly_test)
    assert report["mse"]["int8"] == pytest.approx(expected["mse"]) and report["roc_auc"]["int8"] == expected["roc_auc"]
    assert report["roc_auc"]["int8"] > 0.8  # scrambled digits reconstruct far worse than real ones
    from tinycompress.report import write_html_beside

    write_html_beside(tmp_path / "report.json", report)  # the HTML page shows the errors, not an accuracy
    assert "MSE int8 (TFLM)" in (tmp_path / "report.html").read_text()


def test_finetune_uses_mse_for_targets(keras3):
    from tinycompress.compress.tfenv import tf_keras
    from tinycompress.compress.train import finetune
    from tinycompress.progress import NullProgress

    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    data = Dataset("t", x, x[:, :2], x, x[:, :2], "regression")
    model = tf_keras.Sequential([tf_keras.Input((4,)), tf_keras.layers.Dense(2)])
    finetune(model, data, FinetuneConfig(epochs=1, batch_size=8), from_logits=False, progress=NullProgress(),
             description="fit")
    assert isinstance(model.loss, tf_keras.losses.MeanSquaredError)


def test_regression_npz_through_the_cli(tmp_path, keras3):
    keras3.utils.set_random_seed(4)
    data = _regression(tmp_path / "reg.npz")
    model = keras3.Sequential([keras3.Input((6,)), keras3.layers.Dense(8, activation="relu"), keras3.layers.Dense(2)])
    model.compile("adam", "mse")
    loaded = load_dataset(data)
    model.fit(loaded.x_train, loaded.y_train, epochs=5, verbose=0)
    model.save(tmp_path / "reg.keras")
    recipe = tmp_path / "recipe.toml"
    recipe.write_text("[prune]\ntarget_sparsity = 0\n[cluster]\nclusters = 0\n[quantize]\ncalibration_samples = 20\n")
    refused = CliRunner().invoke(main, ["compress", str(tmp_path / "reg.keras"), "--data", str(data), "--task",
                                        "classification", "--recipe", str(recipe), "-o", str(tmp_path / "no")])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "--task classification needs integer class labels" in refused.stderr and not (tmp_path / "no").exists()
    result = CliRunner().invoke(main, ["compress", str(tmp_path / "reg.keras"), "--data", str(data), "--recipe",
                                       str(recipe), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "MSE" in result.stdout and "accuracy" not in result.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["task"] == "regression" and "accuracy" not in report and "roc_auc" not in report
    expected = task_metrics("regression", model.predict(loaded.x_test, verbose=0), loaded.y_test)
    assert report["mse"]["float"] == pytest.approx(expected["mse"], rel=1e-5)
    assert report["mae"]["int8"] == pytest.approx(report["mae"]["float"], rel=0.2)


def test_device_metrics_come_from_the_dequantised_outputs(compressed_autoencoder, anomaly_npz, tmp_path):
    """The host-native server (the real C runtime and protocol) runs the int8 autoencoder;
    mse, mae and roc_auc come from its dequantised outputs."""
    from tinycompress.codegen import generate, runtime_sources
    from tinycompress.oracle import TflmOracle
    from tinycompress.profile.device import profile_url
    from tinycompress.profile.host import build_host_server, run_host_server
    from tinycompress.profile.report import Target
    from tinycompress.tflite import read_model

    tflite = compressed_autoencoder.tflite_path.read_bytes()
    (tmp_path / "model").mkdir()
    for name, text in generate(read_model(tflite)).files.items():
        (tmp_path / "model" / name).write_text(text)
    binary = build_host_server(tmp_path / "model", tmp_path / "server", runtime_sources=runtime_sources())
    data = load_dataset(anomaly_npz)
    limit = 60  # both halves: 30 normal, 30 scrambled
    picked = np.r_[0:30, len(data.x_test) - 30:len(data.x_test)]
    x, y, anomaly = data.x_test[picked], data.y_test[picked], data.anomaly_test[picked]
    with run_host_server(binary) as url:
        report = profile_url(url, tflite, x, y, Target("host"), limit=limit, timeout=2, task="autoencoder",
                             anomaly=anomaly)
    assert report["outputs_bit_exact"] and report["task"] == "autoencoder" and "accuracy" not in report
    oracle = TflmOracle(tflite)
    outputs = oracle.output.dequantize(oracle.run_batch(oracle.input.quantize(x)).reshape(limit, -1))
    expected = task_metrics("autoencoder", outputs, y, anomaly)
    for metric in ("mse", "mae", "roc_auc"):
        assert report[metric]["device"] == report[metric]["host_int8"] == pytest.approx(expected[metric]), metric
    assert report["roc_auc"]["device"] > 0.8


def test_run_report_puts_the_device_mse_beside_host_int8() -> None:
    from types import SimpleNamespace

    from tinycompress.run import combined_report

    stages = {"float": 0.10, "pruned": 0.11, "clustered": 0.12, "int8": 0.125}
    compress = {"model": "ae.keras", "data": "ad.npz", "task": "autoencoder", "mse": stages, "mae": stages,
                "size_bytes": {"float32": 10, "int8": 5, "weights": 4}, "arena_bytes": 8}
    device = {"complete": True, "samples": 3, "task": "autoencoder", "mse": {"device": 0.13, "host_int8": 0.13},
              "mae": {"device": 0.2, "host_int8": 0.2}, "outputs_bit_exact": True, "latency": {}, "versions": {}}
    sources = SimpleNamespace(weights_bytes=4, arena_bytes=6, weights_storage=())
    memory = SimpleNamespace(flash_used=1, flash_total=2, ram_used=1, ram_total=2)
    report = combined_report(compress, sources, memory, device, "qemu-netduinoplus2", {})
    assert report["task"] == "autoencoder" and "accuracy" not in report
    assert report["mse"] == {"float": 0.10, "pruned": 0.11, "clustered": 0.12, "host_int8": 0.13, "device": 0.13}
    assert report["mae"]["device"] == 0.2
