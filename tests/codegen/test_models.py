"""Whole models (MLPerf Tiny architectures) compiled to C: bit-exact with TFLM, smaller arena.

Built here with random weights and randomised batch-norm statistics,
calibrated full-int8 conversion, then compared with the TFLM interpreter on
every output byte. The arena planned on the host must be at most 0.6x the
total arena TFLM reports for the same model.
"""

from __future__ import annotations

import pytest

import keras_int8
from tinycompress.codegen import generate
from tinycompress.codegen.cgen import MAX_LINE
from tinycompress.codegen.verify import verify_tflite
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

ARENA_RATIO = 0.6

MODELS = {
    "ds_cnn_kws": keras_int8.ds_cnn_kws,
    "mobilenet_vww": keras_int8.mobilenet_vww,
    "resnet8": keras_int8.resnet8,
    "dense_autoencoder": keras_int8.dense_autoencoder,
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_bit_exact_with_smaller_arena(name: str) -> None:
    tflite = keras_int8.convert_int8(MODELS[name]())
    result = verify_tflite(tflite, samples=12, seed=1)
    assert result.samples == 12
    assert result.bit_exact, (
        f"{result.mismatched_samples} samples differ, first at layer "
        f"{result.first_diverging_index} ({result.first_diverging_layer})")
    assert result.mismatched_samples == 0 and result.max_abs_diff == 0
    assert result.arena_bytes <= ARENA_RATIO * result.tflm_arena_bytes, (
        f"arena {result.arena_bytes} B vs TFLM {result.tflm_arena_bytes} B")
    assert result.weights_bytes > 0 and result.macs > 0
    generated = generate(read_model(tflite))
    for text in generated.files.values():
        assert max(len(line) for line in text.splitlines()) <= MAX_LINE


@pytest.mark.parametrize("arch, mode", [("cnn", "ptq"), ("dscnn", "qat")])
def test_compress_stage_model_bit_exact(arch: str, mode: str, tmp_path) -> None:
    """What `tinycompress compress` writes (pruned, clustered, int8) compiles bit-exact."""
    import dataclasses

    from tinycompress.compress.data import load_dataset
    from tinycompress.compress.demo import DEMO_RECIPE, train_demo_model
    from tinycompress.compress.pipeline import compress
    from tinycompress.compress.recipe import QuantizeConfig
    from tinycompress.oracle import TflmOracle

    model = train_demo_model(tmp_path / f"{arch}.keras", arch, epochs=1)
    recipe = dataclasses.replace(
        DEMO_RECIPE, quantize=QuantizeConfig(mode=mode),
        finetune=dataclasses.replace(DEMO_RECIPE.finetune, epochs=1))
    compress(model.path, "digits", tmp_path / "out", recipe)
    tflite = (tmp_path / "out" / "model_int8.tflite").read_bytes()
    quant = TflmOracle(tflite).input
    x = load_dataset("digits").x_test[:40]
    result = verify_tflite(tflite, inputs=quant.quantize(x.reshape(len(x), *quant.shape[1:])))
    assert result.samples == 40 and result.bit_exact, result.first_diverging_layer
    assert result.arena_bytes <= ARENA_RATIO * result.tflm_arena_bytes
    if arch == "cnn":  # 16 clusters: the large layers are stored as 4-bit palette indices
        ir = read_model(tflite)
        packed = [layer for layer in generate(ir, optimize="size").layers if layer.storage == "palette4"]
        assert {layer.op for layer in packed} == {"CONV_2D", "FULLY_CONNECTED"}
        dense = sum(ir.tensors[ir.operators[layer.node].inputs[1]].size for layer in packed)
        assert sum(layer.const_bytes for layer in packed) < 0.7 * dense
