"""Keras layers are matched to their int8 weights by structure, not by tensor name.

The MLPerf Tiny anomaly-detection autoencoder (Dense followed by
BatchNormalization, a Keras 2 ``.h5``) folds each BatchNormalization into
the Dense before it, and the folded weight tensor carries the
BatchNormalization's name: matched by name, every such Dense showed "-" and
both checks said NO although the weights were at target. The figures here
are re-measured from the written ``.tflite``, not taken from the report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.compress.data import Dataset
from tinycompress.compress.keras_io import load_model
from tinycompress.errors import CheckFailedError
from tinycompress.tflite.reader import parse

pytestmark = pytest.mark.host

RECIPE = ("[prune]\ntarget_sparsity = 0.5\n[cluster]\nclusters = 16\n{cluster}"
          "[finetune]\nepochs = 2\nbatch_size = 64\n[quantize]\ncalibration_samples = 50\n")
DENSE = ["enc1", "enc2", "dec1", "out"]


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory: pytest.TempPathFactory, digits: Dataset) -> Path:
    """64 -> 32 -> 8 -> 32 -> 64, each hidden Dense followed by BatchNormalization, trained 2 epochs."""
    from tinycompress.compress.tfenv import tf_keras

    tf_keras.utils.set_random_seed(5)
    layers = tf_keras.layers
    inputs = tf_keras.Input((64,))
    x = inputs
    for index, (name, units) in enumerate(zip(DENSE[:-1], (32, 8, 32)), start=1):
        x = layers.Dense(units, name=name)(x)
        x = layers.ReLU(name=f"relu{index}")(layers.BatchNormalization(name=f"bn{index}")(x))
    model = tf_keras.Model(inputs, layers.Dense(64, name="out")(x))
    model.compile("adam", tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train.reshape(-1, 64), digits.y_train, epochs=2, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("models") / "autoencoder.h5"
    model.save(path)
    return path


def _compress(tmp_path: Path, model: Path, cluster: str = "") -> tuple[object, Path]:
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(RECIPE.format(cluster=cluster))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compress", str(model), "--data", "digits", "--recipe", str(recipe),
                                       "-o", str(out)])
    return result, out


def test_every_dense_of_a_batchnorm_autoencoder_is_matched_and_checked(tmp_path, autoencoder):
    result, out = _compress(tmp_path, autoencoder)
    assert result.exit_code == 0, result.output
    assert "check sparsity reached: yes" in result.output
    assert "check clusters kept: yes" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["checks"]["sparsity_reached"]["status"] == "passed"
    assert report["checks"]["clusters_kept"]["status"] == "passed"

    tflite = parse((out / "model_int8.tflite").read_bytes())
    fully_connected = [op for op in tflite.operators if op.op == "FULLY_CONNECTED"]
    assert len(fully_connected) == len(DENSE)
    stripped = load_model(out / "model_float.keras").model
    layers = {layer["name"]: layer for layer in report["layers"]}
    for name, op in zip(DENSE, fully_connected):
        tensor = tflite.tensors[op.inputs[1]]
        weights = tensor.array()
        kernel = stripped.get_layer(name).kernel.numpy()
        assert weights.shape == kernel.T.shape, name
        assert np.all(weights[kernel.T == 0] == 0), name  # the pruned zeros are this layer's
        assert layers[name]["pruned"] and layers[name]["clustered"], name
        assert layers[name]["int8_ops"] == [op.index], name
        assert layers[name]["int8_sparsity"] == pytest.approx(float(np.mean(weights == 0))), name
        assert layers[name]["int8_sparsity"] >= 0.5 - 1 / weights.size, name
        unique = max(len(np.unique(row)) for row in weights)
        assert layers[name]["max_unique_per_channel"] == unique <= 16, name
    # The case that defeated name matching: the folded weights are named after the BatchNormalization.
    for name, op in zip(DENSE[:-1], fully_connected):
        assert f"/{name}/" not in tflite.tensors[op.inputs[1]].name
    assert all(layers[f"bn{i}"]["int8_ops"] == [] for i in (1, 2, 3))


def test_zeros_lost_to_clustering_fail_the_check_and_the_exit_status(tmp_path, autoencoder):
    """Clustering without ``preserve_sparsity`` moves pruned zeros onto a non-zero centroid."""
    result, out = _compress(tmp_path, autoencoder, cluster="preserve_sparsity = false\n")
    assert result.exit_code == CheckFailedError.exit_code == 9, result.output
    assert "check sparsity reached: NO (target 50.0 % zeros missed by enc1 " in result.output
    assert "set [cluster] preserve_sparsity = true" in result.output
    assert "error: check sparsity reached failed: target 50.0 % zeros missed by" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["checks"]["sparsity_reached"]["status"] == "failed"
    tflite = parse((out / "model_int8.tflite").read_bytes())
    enc1 = tflite.tensors[next(op for op in tflite.operators if op.op == "FULLY_CONNECTED").inputs[1]].array()
    assert float(np.mean(enc1 == 0)) < 0.5 - 1 / enc1.size


def test_parallel_branches_of_one_shape_go_to_their_own_ops():
    """Three same-shaped convs on parallel branches: Keras and TFLite order them differently.

    Each kernel gets its own pattern of exact zeros (kept through batch-norm
    folding, here with negative gammas, and quantization), so the int8 ops
    say which layer they came from without any name.
    """
    from keras_int8 import convert_int8, randomize
    from tinycompress.compress.evaluate import int8_weight_values, int8_weights
    from tinycompress.compress.report import int8_tensors_of
    from tinycompress.compress.tfenv import tf_keras

    tf_keras.utils.set_random_seed(3)
    layers = tf_keras.layers
    inputs = tf_keras.Input((8, 8, 4))
    a = layers.Conv2D(8, 3, padding="same", name="a")(inputs)
    b = layers.Conv2D(8, 3, padding="same", name="b")(layers.ReLU()(inputs))
    c = layers.Conv2D(8, 3, padding="same", name="c")(layers.Conv2D(4, 1, name="pre")(inputs))
    branches = [layers.BatchNormalization(name=f"bn_{x.name.split('/')[0]}")(x) for x in (c, a, b)]
    outputs = layers.Dense(3, name="fc")(layers.Flatten()(layers.Concatenate()(branches)))
    model = randomize(tf_keras.Model(inputs, outputs), seed=3)
    gamma, beta, mean, var = model.get_layer("bn_a").get_weights()
    model.get_layer("bn_a").set_weights([-gamma, beta, mean, var])
    masks = {"a": (slice(None), slice(None), slice(None), slice(0, 4)),  # Keras (kh, kw, in, out)
             "b": (0, slice(None), slice(None), slice(None)),
             "c": (slice(None), 0, slice(None), slice(None))}
    for name, mask in masks.items():
        kernel, bias = model.get_layer(name).get_weights()
        kernel[mask] = 0.0
        model.get_layer(name).set_weights([kernel, bias])

    tflite = convert_int8(model)
    values = int8_weight_values(tflite)
    matched = int8_tensors_of(model, int8_weights(tflite), values)
    assert set(matched) == {"a", "b", "c", "pre", "fc"}
    assert len({matched[name]["kernel"].op_index for name in matched}) == 5
    int8_masks = {"a": (slice(0, 4),), "b": (slice(None), 0), "c": (slice(None), slice(None), 0)}  # (out, kh, kw, in)
    for name, mask in int8_masks.items():
        mine = values[matched[name]["kernel"].op_index]
        assert np.all(mine[mask] == 0), name
        for other in set(int8_masks) - {name}:
            assert not np.all(values[matched[other]["kernel"].op_index][mask] == 0), (name, other)
