"""Each compression stage alone: prune, cluster, int8 conversion, TFLM evaluation, QAT."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tinycompress.compress.cluster import cluster
from tinycompress.compress.data import match_model
from tinycompress.compress.evaluate import int8_accuracy, int8_weight_values, int8_weights, keras_accuracy
from tinycompress.compress.keras_io import load_model
from tinycompress.compress.prune import prune, resolve_schedule
from tinycompress.compress.quantize import calibration_set, quantization_aware_training, to_float32, to_int8
from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig, PruneConfig, QuantizeConfig
from tinycompress.compress.report import int8_tensors_of, kernel_sparsity
from tinycompress.compress.train import outputs_are_probabilities
from tinycompress.oracle import TflmOracle
from tinycompress.progress import NullProgress
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

FT = FinetuneConfig(epochs=1, batch_size=64)


@pytest.fixture()
def cnn(keras3_cnn, digits):
    loaded = load_model(keras3_cnn)
    return loaded.model, match_model(digits, loaded.input_shape, loaded.num_outputs)


def _weights_by_layer(model, tflite: bytes, names: list[str]) -> dict[str, list]:
    matched = int8_tensors_of(model, int8_weights(tflite), int8_weight_values(tflite))
    return {name: list(matched.get(name, {}).values()) for name in names}


@pytest.mark.parametrize(
    "config",
    [PruneConfig(), PruneConfig(end_epoch=1.5, frequency=5), PruneConfig(begin_step=3, end_step=40, frequency=7),
     PruneConfig(end_step=10_000)],
)
def test_schedule_reaches_the_target_inside_training(digits, config):
    ft = FinetuneConfig(epochs=2, batch_size=32)
    s = resolve_schedule(config, digits, ft)
    assert s.total_steps == 2 * 45
    assert 0 <= s.begin_step < s.end_step < s.total_steps
    assert (s.end_step - s.begin_step) % s.frequency == 0


def test_prune_alone_reaches_target_sparsity(cnn):
    model, data = cnn
    stripped, pruned, notes = prune(model, data, PruneConfig(target_sparsity=0.5), FT, from_logits=False,
                                    progress=NullProgress())
    assert notes == []
    assert pruned == {"conv": ["kernel"], "fc": ["kernel"], "pw": ["kernel"]}  # tfmot leaves DepthwiseConv2D alone
    for name in pruned:
        kernel = stripped.get_layer(name).kernel.numpy()
        assert abs(kernel_sparsity(stripped.get_layer(name)) - 0.5) <= 1 / kernel.size + 1e-9, name
    assert kernel_sparsity(stripped.get_layer("dw")) == 0.0
    tflite = to_int8(stripped, calibration_set(data, QuantizeConfig(calibration_samples=32), 0))
    for name, tensors in _weights_by_layer(stripped, tflite, pruned).items():
        assert len(tensors) == 1 and tensors[0].sparsity >= 0.5 - 1e-9, name


def test_cluster_alone_bounds_unique_values_per_channel(cnn):
    model, data = cnn
    config = ClusterConfig(clusters=6, preserve_sparsity=False)
    stripped, clustered, notes = cluster(model, data, config, FT, from_logits=False, progress=NullProgress())
    assert notes == []
    assert clustered == {"conv": ["kernel"], "pw": ["kernel"], "fc": ["kernel"]}
    for name in clustered:
        assert len(np.unique(stripped.get_layer(name).kernel.numpy())) <= 6, name
    tflite = to_int8(stripped, calibration_set(data, QuantizeConfig(calibration_samples=32), 0))
    by_layer = _weights_by_layer(stripped, tflite, ["conv", "pw", "fc", "dw"])
    for name in clustered:
        # "conv" has BatchNormalization folded in: a per-output-channel scale keeps <= 6 values per channel.
        assert len(by_layer[name]) == 1 and by_layer[name][0].max_unique_per_channel <= 6, name
    assert by_layer["dw"][0].max_unique_per_channel > 6  # not clustered, and the check would notice


def test_int8_conversion_and_tflm_accuracy(cnn):
    model, data = cnn
    tflite = to_int8(model, calibration_set(data, QuantizeConfig(calibration_samples=64), 0))
    oracle = TflmOracle(tflite)
    assert oracle.input.dtype == np.int8 and oracle.output.dtype == np.int8
    evaluation = int8_accuracy(tflite, data.x_test, data.y_test, progress=NullProgress())
    outputs = np.stack([oracle.run(oracle.input.quantize(x[None])) for x in data.x_test])
    expected = float(np.mean(outputs.reshape(len(data.x_test), -1).argmax(-1) == data.y_test))
    assert evaluation.accuracy == expected
    assert evaluation.arena_bytes > 0 and evaluation.input_zero_point == oracle.input.zero_point
    float_predictions = model.predict(data.x_test, verbose=0).argmax(-1)
    agreement = np.mean(outputs.reshape(len(data.x_test), -1).argmax(-1) == float_predictions)
    assert agreement >= 0.9
    assert to_float32(model)[4:8] == b"TFL3"
    graph = read_model(tflite)
    for tensor in int8_weights(tflite):
        node = graph.operators[tensor.op_index]
        values = graph.tensors[node.inputs[1]].array()
        per_channel = np.moveaxis(values, 3 if node.op == "DEPTHWISE_CONV_2D" else 0, 0).reshape(tensor.channels, -1)
        assert tensor.channels in (8, 16, 10) and tensor.shape == values.shape
        # not clustered: a channel of 8 to 16 int8 weights keeps more distinct values than any palette tested here
        assert tensor.max_unique_per_channel == max(len(np.unique(row)) for row in per_channel) > 6, tensor


def test_softmax_and_logits_are_told_apart(cnn, keras3_mlp_logits, digits):
    model, data = cnn
    assert outputs_are_probabilities(model, data.x_test)
    logits = load_model(keras3_mlp_logits)
    flat = match_model(digits, logits.input_shape, logits.num_outputs)
    assert not outputs_are_probabilities(logits.model, flat.x_test)
    assert keras_accuracy(logits.model, flat.x_test, flat.y_test, progress=NullProgress(), description="x") > 0.5


def test_pcqat_keeps_zeros_and_clusters_in_int8(cnn):
    model, data = cnn
    model, pruned, _ = prune(model, data, PruneConfig(target_sparsity=0.5), FT, from_logits=False, progress=NullProgress())
    model, clustered, _ = cluster(model, data, ClusterConfig(clusters=8), FT, from_logits=False, progress=NullProgress())
    qat_model, scheme = quantization_aware_training(
        model, data, dataclasses.replace(FT, learning_rate=1e-4), pruned=True, clustered=True,
        from_logits=False, progress=NullProgress(),
    )
    assert scheme == "PCQAT"
    tflite = to_int8(qat_model, calibration_set(data, QuantizeConfig(calibration_samples=32), 0))
    for name, tensors in _weights_by_layer(model, tflite, sorted(clustered)).items():
        assert len(tensors) == 1, name
        assert tensors[0].max_unique_per_channel <= 8, name
        assert tensors[0].sparsity >= 0.5 - 1e-9, name
