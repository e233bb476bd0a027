"""What the chip gains, per stage: parameters, MACs, weight flash, planned arena and estimated instructions
(issue 10 item 4), and the cost model behind the estimate (tinycompress/codegen/costmodel.py)."""

from __future__ import annotations

import dataclasses
import importlib.resources
import io
import json
import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from rich.console import Console

from tinycompress.codegen import generate
from tinycompress.codegen.costmodel import (CostModel, calibrated_arches, estimate, layer_path, load_cost_model,
                                            path_features)
from tinycompress.codegen.summary import summarize
from tinycompress.errors import InputError
from tinycompress.tflite import read_model

import keras_int8  # tests/keras_int8.py: the benchmark models' builders

pytestmark = pytest.mark.host

FAST_RECIPE = ("[prune]\ntarget_sparsity = 0.5\n[cluster]\nclusters = 8\n[quantize]\ncalibration_samples = 50\n"
               "[finetune]\nepochs = 1\nbatch_size = 64\n")
BENCHMARK_MODELS = {  # the calibration's models (benchmarks/device_latency.py), at test sizes
    "small_cnn": {}, "ds_cnn_kws": {"filters": 16}, "resnet8": {}, "mobilenet_vww": {"size": 32},
    "dense_autoencoder": {}, "op_mix": {},
}


@pytest.fixture(scope="module")
def benchmark_tflites() -> dict[str, bytes]:
    return {name: keras_int8.convert_int8(getattr(keras_int8, name)(0, **kwargs), samples=4)
            for name, kwargs in BENCHMARK_MODELS.items()}


def test_coefficients_load_from_the_package_data() -> None:
    data = importlib.resources.files("tinycompress.codegen").joinpath("cost_model.json")
    stored = json.loads(data.read_text())
    assert "cortex-m-dsp" in calibrated_arches()
    cost = load_cost_model()
    assert cost.runtime_arch == "cortex-m-dsp" and cost.board == "qemu-netduinoplus2" and cost.unit == "instructions"
    assert cost.coefficients == {path: entry["coefficients"]
                                 for path, entry in stored["calibrations"]["cortex-m-dsp"]["paths"].items()}
    for path, coefficients in cost.coefficients.items():
        assert set(coefficients) == set(path_features(path)) and min(coefficients.values()) >= 0, path
    assert cost.fit["layers"] > 0 and set(cost.fit["per_model"]) >= {"small_cnn", "resnet8"}


def test_an_uncalibrated_kernel_chain_is_refused_naming_the_calibrated_ones() -> None:
    with pytest.raises(InputError, match="no calibration for the no-such-arch kernels.*cortex-m-dsp"):
        load_cost_model("no-such-arch")


def test_every_layer_of_the_benchmark_models_gets_a_positive_estimate(benchmark_tflites) -> None:
    cost = load_cost_model()
    seen = set()
    for name, tflite in benchmark_tflites.items():
        model = read_model(tflite)
        found = estimate(model, generate(model), cost)
        assert not found.uncalibrated, name
        assert all(layer.instructions > 0 for layer in found.layers), name
        assert found.instructions == pytest.approx(sum(layer.instructions for layer in found.layers))
        seen |= {layer.path for layer in found.layers}
    assert seen >= {"conv", "conv_1x1", "depthwise_3x3", "depthwise", "depthwise_per_pixel", "fully_connected",
                    "add", "avgpool", "maxpool", "mean", "softmax", "concat", "lut", "mul", "pad", "relu", "quantize"}


def test_a_path_without_calibration_leaves_the_model_without_a_total(benchmark_tflites) -> None:
    model = read_model(benchmark_tflites["small_cnn"])
    cost = load_cost_model()
    partial = dataclasses.replace(cost, coefficients={k: v for k, v in cost.coefficients.items() if k != "softmax"})
    found = estimate(model, generate(model), partial)
    assert found.instructions is None and found.to_dict()["instructions"] is None
    assert found.uncalibrated == ["SOFTMAX#4 (softmax)"]
    assert all(layer.instructions for layer in found.layers if layer.path != "softmax")


def test_paths_follow_the_kernels_the_layers_run(benchmark_tflites) -> None:
    model = read_model(benchmark_tflites["resnet8"])
    paths = [layer_path(model, info)[0] for info in generate(model).layers]
    # ResNet-8: 3x3 convs, 1x1 stride-2 shortcuts (the 1x1 kernel keeps them), residual adds.
    assert paths.count("conv_1x1") == 2 and paths.count("add") == 3 and paths.count("conv") == 7
    info = generate(model).layers[0]
    _, features = layer_path(model, info)
    assert features["macs"] == info.macs and features["columns"] == 32 * 32 * 3 * 3 * 3


def test_packed_weights_scale_the_dense_estimate_as_the_storage_objective_priced_them() -> None:
    model = read_model(keras_int8.convert_int8(keras_int8.packed_cnn(0), samples=4))
    cost = CostModel("cortex-m-dsp", "test-board", "instructions", {path: {"macs": 1.0} for path in
                     ("conv", "conv_1x1", "depthwise_3x3", "depthwise", "fully_connected")}, {})
    generated = generate(model, optimize="size")
    small, fast = estimate(model, generated, cost), estimate(model, generate(model, optimize="speed"), cost)
    packed = [(info, s, f) for info, s, f in zip(generated.layers, small.layers, fast.layers)
              if info.storage not in ("s8", "-")]
    assert packed, "packed_cnn has no packed layer under --optimize size"
    for info, s, f in packed:
        # codegen's reason states the packed cost against the dense kernel's ("~1.07x s8 instructions")
        priced = float(re.search(r"~([\d.]+)x s8 instructions", info.storage_reason).group(1))
        assert s.instructions == pytest.approx(info.macs * priced, rel=0.01), info.storage_reason
        assert f.storage == "s8" and f.instructions == pytest.approx(info.macs)


def test_kept_blocks_scale_the_dense_estimate_as_the_storage_objective_priced_them() -> None:
    """A block-pruned Dense stored as kept blocks (block8) is estimated below its dense twin, by the
    ratio codegen's reason gives, on the real calibration too."""
    model = read_model(keras_int8.convert_int8(keras_int8.block_dense((512,), (32,), 16), samples=4))
    generated = generate(model, optimize="balanced")
    assert [info.storage for info in generated.layers] == ["block8"]
    cost = CostModel("cortex-m-dsp", "test-board", "instructions", {"fully_connected": {"macs": 1.0}}, {})
    priced = float(re.search(r"~([\d.]+)x s8 instructions", generated.layers[0].storage_reason).group(1))
    assert priced < 1 and estimate(model, generated, cost).instructions == pytest.approx(512 * 32 * priced, rel=0.01)
    real = load_cost_model("cortex-m-dsp")
    layer = estimate(model, generated, real).layers[0]
    dense = sum(real.coefficients["fully_connected"].get(name, 0.0) * value for name, value in layer.features.items())
    assert layer.storage == "block8" and layer.instructions == pytest.approx(dense * priced, rel=0.01)


def test_compress_reports_per_stage_what_codegen_and_keras_compute(tmp_path, keras3_cnn) -> None:
    from tinycompress.cli import main
    from tinycompress.cli.compress import stage_table
    from tinycompress.compress.channels import keras_macs
    from tinycompress.compress.keras_io import load_model
    from tinycompress.report.kinds import compress_page

    recipe = tmp_path / "recipe.toml"
    recipe.write_text(FAST_RECIPE)
    result = CliRunner().invoke(main, ["compress", str(keras3_cnn), "--data", "digits", "--recipe", str(recipe),
                                       "-o", str(tmp_path / "out"), "--optimize", "size", "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert json.loads(result.stdout) == report
    stages = report["per_stage"]
    assert list(stages) == ["float", "pruned", "clustered", "int8"]

    original = load_model(keras3_cnn).model  # the pipeline's view: bridged to tf_keras
    assert stages["float"]["params"] == original.count_params()
    assert stages["float"]["weights_float32_bytes"] == 4 * original.count_params()
    assert stages["float"]["macs"] == keras_macs(original) == 8 * 64 * 9 + 8 * 64 * 9 + 16 * 64 * 8 + 10 * 16
    assert stages["pruned"]["params"] == stages["clustered"]["params"] == stages["float"]["params"]

    tflite = (tmp_path / "out" / "model_int8.tflite").read_bytes()
    summary = summarize(tflite, optimize="size").to_dict()
    int8 = stages["int8"]
    mac_layers = [layer for layer in summary["layers"]
                  if layer["op"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert int8["macs"] == sum(layer["macs"] for layer in mac_layers) == stages["float"]["macs"]
    assert int8["weights_device_bytes"] == summary["weights_bytes"] == report["size_bytes"]["weights"]
    assert int8["arena_planned_bytes"] == summary["arena_bytes"]
    assert int8["weights_storage"] == {storage: sum(1 for layer in mac_layers if layer["weights_storage"] == storage)
                                       for storage in {layer["weights_storage"] for layer in mac_layers}}
    model = read_model(tflite)
    weighted = [op for op in model.operators if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert int8["params"] == sum(model.tensors[t].size for op in weighted for t in op.inputs[1:] if t >= 0)
    # the batch norm's 4 x 8 values fold into the conv's kernel and a new 8-value bias
    assert int8["params"] == stages["float"]["params"] - 4 * 8 + 8

    expected = estimate(model, generate(model, optimize="size"), load_cost_model())
    assert int8["instructions_estimated"] == round(expected.instructions) > 0
    estimated = report["instructions_estimate"]
    assert estimated["calibrated_on"] == "qemu-netduinoplus2" and estimated["runtime_arch"] == "cortex-m-dsp"
    assert estimated["weights_storage_objective"] == "size" and estimated["unit"] == "instructions"
    assert [layer["name"] for layer in estimated["layers"]] == [layer["name"] for layer in summary["layers"]]

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(stage_table(report))
    printed = console.export_text()
    assert "instructions estimated for qemu-netduinoplus2" in printed
    assert f"{int8['instructions_estimated']:,}" in printed and f"{int8['weights_device_bytes']:,} B" in printed
    page = compress_page(report)
    (stage_rows,) = [t for t in page.tables if t.title.startswith("Per stage")]
    assert [row[0] for row in stage_rows.rows] == ["float", "pruned", "clustered", "int8, compiled"]


def test_the_estimate_is_for_the_boards_kernels_when_they_are_calibrated(benchmark_tflites) -> None:
    from tinycompress.compress.report import device_figures

    tflite = benchmark_tflites["small_cnn"]
    by_arch = {arch: device_figures(tflite, "balanced", arch).estimate for arch in ("helium", "portable", None)}
    assert by_arch["helium"]["runtime_arch"] == "helium"
    assert by_arch["helium"]["calibrated_on"] == "qemu-mps3-an547"
    assert by_arch["portable"]["calibrated_on"] == "qemu-riscv32"
    assert by_arch[None]["runtime_arch"] == "cortex-m-dsp"  # the reference kernels: the M4's model, said so
    expected = estimate(read_model(tflite), generate(read_model(tflite), optimize="balanced"),
                        load_cost_model("helium")).to_dict()["instructions"]
    assert by_arch["helium"]["instructions"] == expected != by_arch["portable"]["instructions"]


def test_a_model_the_runtime_cannot_compile_gets_no_device_figures() -> None:
    from tinycompress.compress.report import device_figures

    layers = keras_int8.layers
    inp = layers.Input((4, 4, 2))
    model = keras_int8.tf_keras.Model(inp, layers.Conv2D(2, 1)(layers.UpSampling2D(2)(inp)))
    found = device_figures(keras_int8.convert_int8(model, samples=4), "balanced")  # RESIZE_NEAREST_NEIGHBOR
    assert found.estimate is None and found.weights_bytes is None
    assert set(found.costs) == {"params", "macs", "weights_device_bytes", "weights_storage", "arena_planned_bytes",
                                "instructions_estimated"} and set(found.costs.values()) == {None}


def test_an_unknown_storage_objective_fails_before_any_work(tmp_path, keras3_cnn) -> None:
    from tinycompress.compress.pipeline import compress

    with pytest.raises(InputError, match="unknown storage objective 'tiny'"):
        compress(keras3_cnn, "digits", tmp_path / "out", optimize="tiny")
    assert not (tmp_path / "out").exists()


def _compress_report(runtime_arch: str = "cortex-m-dsp") -> dict:
    layers = [{"name": "CONV_2D#0:conv", "op": "CONV_2D", "path": "conv", "storage": "s8", "instructions": 900},
              {"name": "SOFTMAX#1", "op": "SOFTMAX", "path": "softmax", "storage": "-", "instructions": 100}]
    return {"per_stage": {"int8": {"weights_device_bytes": 500, "arena_planned_bytes": 300}},
            "instructions_estimate": {"calibrated_on": "qemu-netduinoplus2", "runtime_arch": runtime_arch,
                                      "instructions": 1000, "layers": layers}}


DEVICE = {"latency": {"unit": "instructions", "median": 1250.0},
          "layers": [{"name": "CONV_2D#0:conv", "median": 1000.0}, {"name": "SOFTMAX#1", "median": 200.0}]}
MEMORY = SimpleNamespace(flash_used=20_000, ram_used=4_000)


def test_run_sets_the_estimate_beside_the_device_figures_with_their_ratio() -> None:
    from tinycompress.run import estimate_vs_device

    found = estimate_vs_device(_compress_report(), DEVICE, MEMORY, "cortex-m-dsp")
    assert found["latency"] == {"estimated": 1000, "estimated_unit": "instructions", "measured": 1250.0,
                                "measured_unit": "instructions", "ratio": 0.8,
                                "calibrated_on": "qemu-netduinoplus2", "runtime_arch": "cortex-m-dsp"}
    assert found["flash"] == {"estimated": 500, "measured": 20_000, "ratio": 0.025}
    assert found["ram"] == {"estimated": 300, "measured": 4_000, "ratio": 0.075}
    assert [(layer["name"], layer["ratio"]) for layer in found["layers"]] == [("CONV_2D#0:conv", 0.9),
                                                                              ("SOFTMAX#1", 0.5)]
    assert "why" not in found


def test_run_on_other_kernels_gives_no_latency_estimate_and_says_why() -> None:
    from tinycompress.run import estimate_vs_device

    found = estimate_vs_device(_compress_report(), DEVICE, MEMORY, "helium")
    assert found["latency"]["estimated"] is None and found["latency"]["ratio"] is None
    assert found["layers"] == [] and "calibrated for the cortex-m-dsp kernels" in found["why"]
    assert found["flash"]["ratio"] == 0.025  # memory figures do not depend on the kernels


def test_run_with_an_uncalibrated_layer_gives_no_latency_estimate_and_names_it() -> None:
    from tinycompress.run import estimate_vs_device

    compress = _compress_report()
    compress["instructions_estimate"].update(instructions=None, layers_without_calibration=["LOGISTIC#2 (logistic)"])
    found = estimate_vs_device(compress, DEVICE, MEMORY, "cortex-m-dsp")
    assert found["latency"]["estimated"] is None and found["latency"]["ratio"] is None
    assert found["why"] == "the cost model has no calibration for LOGISTIC#2 (logistic)"
