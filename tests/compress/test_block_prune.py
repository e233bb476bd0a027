"""Block pruning ([prune] block): Dense kernels lose whole runs of input weights, down to the int8 .tflite."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tinycompress.compress.cluster import cluster
from tinycompress.compress.data import match_model
from tinycompress.compress.prune import block_size, prune
from tinycompress.compress.quantize import calibration_set, quantization_aware_training, to_int8
from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig, PruneConfig, QuantizeConfig, parse_recipe
from tinycompress.compress.report import kernel_sparsity
from tinycompress.compress.tfenv import tf_keras
from tinycompress.errors import RecipeError
from tinycompress.progress import NullProgress
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

FT = FinetuneConfig(epochs=1, batch_size=64)
BLOCK = 16


def _dense_blocks_zeroed(tflite: bytes) -> dict[int, float]:
    """Per FULLY_CONNECTED node: the fraction of its runs of BLOCK consecutive row weights
    (TFLite's [out, in] layout) that are all zero."""
    graph = read_model(tflite)
    found = {}
    for op in graph.operators:
        if op.op == "FULLY_CONNECTED":
            weights = graph.tensors[op.inputs[1]].array()
            blocks = weights.reshape(weights.shape[0], -1, BLOCK)
            found[op.index] = float(np.mean(~blocks.any(axis=2)))
    return found


@pytest.fixture()
def mlp(digits):
    """Conv 3x3 (unstructured pruning) feeding Dense 512 -> 32 -> 10 (blocks of 16 input weights)."""
    tf_keras.utils.set_random_seed(3)
    inp = tf_keras.layers.Input((8, 8, 1))
    x = tf_keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
    x = tf_keras.layers.Flatten()(x)
    x = tf_keras.layers.Dense(32, activation="relu", name="fc1")(x)
    model = tf_keras.Model(inp, tf_keras.layers.Dense(10, activation="softmax", name="fc2")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    return model, match_model(digits, (8, 8, 1), 10)


def test_dense_blocks_stay_zero_through_cluster_and_int8_ptq_and_qat(mlp):
    """Blocks of 16 on both Dense layers, unstructured on the conv; clustering with
    preserve_sparsity, per-tensor PTQ (as compress converts a clustered model) and PCQAT keep
    every dropped block exactly zero in the .tflite."""
    model, data = mlp
    config = PruneConfig(target_sparsity=0.5, block=BLOCK)
    model, pruned, notes = prune(model, data, config, FT, from_logits=False, progress=NullProgress())
    assert notes == [] and sorted(pruned) == ["conv", "fc1", "fc2"]
    assert [block_size(model.get_layer(name), config) for name in ("conv", "fc1", "fc2")] == [1, BLOCK, BLOCK]
    assert 0.45 <= kernel_sparsity(model.get_layer("conv")) <= 0.55  # unstructured, but pruned
    for name in ("fc1", "fc2"):
        kernel = model.get_layer(name).kernel.numpy()  # [in, out]: blocks run down the input axis
        dropped = ~np.abs(kernel).reshape(-1, BLOCK, kernel.shape[1]).any(axis=1)
        assert 0.45 <= dropped.mean() <= 0.55, name
        assert np.count_nonzero(kernel == 0) == dropped.sum() * BLOCK, name  # every zero in a dropped block
    model, clustered, _ = cluster(model, data, ClusterConfig(clusters=8), FT, from_logits=False,
                                  progress=NullProgress())
    assert {"fc1", "fc2"} <= set(clustered)
    calibration = calibration_set(data, QuantizeConfig(calibration_samples=32), 0)
    ptq = _dense_blocks_zeroed(to_int8(model, calibration, dense_per_tensor=True))
    qat_model, scheme = quantization_aware_training(
        model, data, dataclasses.replace(FT, learning_rate=1e-4), pruned=True, clustered=True,
        from_logits=False, progress=NullProgress(),
    )
    assert scheme == "PCQAT"
    qat = _dense_blocks_zeroed(to_int8(qat_model, calibration, dense_per_tensor=True))
    for zeroed in (ptq, qat):
        assert len(zeroed) == 2 and all(0.45 <= fraction <= 0.55 for fraction in zeroed.values()), zeroed


def test_unstructured_is_the_default_and_a_single_unit_dense_stays_unstructured():
    """tfmot squeezes a kernel before pooling its blocks, so a Dense with one unit (or one input) keeps
    unstructured pruning rather than failing; layers other than Dense always do."""
    assert PruneConfig().block == 1
    config = PruneConfig(block=8)
    inp = tf_keras.layers.Input((8, 8, 2))
    conv = tf_keras.layers.Conv2D(4, 3)
    flat = tf_keras.layers.Flatten()(conv(inp))
    one_unit, wide = tf_keras.layers.Dense(1), tf_keras.layers.Dense(5)
    tf_keras.Model(inp, [one_unit(flat), wide(flat)])
    assert [block_size(layer, config) for layer in (conv, one_unit, wide)] == [1, 1, 8]
    assert block_size(wide, PruneConfig()) == 1


@pytest.mark.parametrize("value", [3, 0, 32, -4])
def test_block_must_be_a_supported_size(value):
    with pytest.raises(RecipeError, match=rf"\[prune\] block = {value} is not one of 1, 2, 4, 8, 16; use 16") as info:
        parse_recipe(f"[prune]\nblock = {value}\n", "r.toml")
    assert "\n" not in str(info.value)
    assert parse_recipe("[prune]\nblock = 16\n").prune.block == 16
    with pytest.raises(RecipeError, match="block = '16' must be an integer"):
        parse_recipe("[prune]\nblock = \"16\"\n")


def test_compress_reports_the_block_pruned_layers(tmp_path, keras3_mlp_logits, capsys):
    """report.json gives each layer's block, the summary and the HTML page say "blocks of 16", and the
    int8 model's Dense layers compile to kept blocks (balanced)."""
    from tinycompress.cli.compress import print_summary
    from tinycompress.compress.pipeline import compress
    from tinycompress.compress.recipe import Recipe
    from tinycompress.report.kinds import compress_page

    recipe = Recipe(prune=PruneConfig(target_sparsity=0.5, block=BLOCK), cluster=ClusterConfig(clusters=0),
                    quantize=QuantizeConfig(calibration_samples=50), finetune=FT)
    report = compress(keras3_mlp_logits, "digits", tmp_path / "out", recipe).report.to_dict()
    assert {layer["name"]: layer["prune_block"] for layer in report["layers"]} == {"hidden": BLOCK, "logits": BLOCK}
    assert report["per_stage"]["int8"]["weights_storage"]["block8"] >= 1
    print_summary(report, str(tmp_path / "out"))
    assert capsys.readouterr().out.count(f"blocks of {BLOCK}") == 2
    (layers,) = [table for table in compress_page(report).tables if table.title.startswith("Layers")]
    assert [row[3] for row in layers.rows] == [f"yes, blocks of {BLOCK}"] * 2
