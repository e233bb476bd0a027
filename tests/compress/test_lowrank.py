"""``[lowrank]``: Dense and 1x1 Conv layers split by truncated SVD, checked to the C bit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinycompress.codegen import generate
from tinycompress.codegen.verify import verify_tflite
from tinycompress.compress.lowrank import SUFFIX, factorise, plan
from tinycompress.compress.pipeline import compress
from tinycompress.compress.recipe import (
    ClusterConfig,
    FinetuneConfig,
    LowRankConfig,
    PruneConfig,
    QuantizeConfig,
    Recipe,
    parse_recipe,
)
from tinycompress.compress.tfenv import tf_keras
from tinycompress.errors import RecipeError
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

LOW_RANK = 2


def _dense_model(rng: np.random.Generator):
    """Flatten → fc1 (64, a rank-2 kernel) → fc2 (32) → out (10, softmax)."""
    layers = tf_keras.layers
    model = tf_keras.Sequential([
        layers.InputLayer((8, 8, 1)),
        layers.Flatten(name="flat"),
        layers.Dense(64, activation="relu", name="fc1"),
        layers.Dense(32, activation="relu", name="fc2"),
        layers.Dense(10, activation="softmax", name="out"),
    ])
    low = rng.normal(size=(64, LOW_RANK)) @ rng.normal(size=(LOW_RANK, 64)) * 0.1
    model.get_layer("fc1").set_weights([low.astype(np.float32), rng.normal(size=64).astype(np.float32)])
    return model


def test_full_energy_factorisation_keeps_the_outputs_with_fewer_weights():
    rng = np.random.default_rng(0)
    model = _dense_model(rng)
    factorised, chosen = factorise(model, LowRankConfig(energy=1.0))
    assert list(chosen.factors) == ["fc1"] and chosen.factors["fc1"].rank == LOW_RANK
    assert factorised.get_layer("fc1" + SUFFIX).units == LOW_RANK
    assert factorised.get_layer("fc1" + SUFFIX).activation.__name__ == "linear"
    assert factorised.count_params() == model.count_params() - 64 * 64 + LOW_RANK * (64 + 64)
    x = rng.random((16, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(factorised(x).numpy(), model(x).numpy(), atol=1e-5)
    assert any("fc2 not factorised: rank 32 would not pay" in note and "rank <= 21" in note for note in chosen.notes)
    assert any("out not factorised: it is the classifier output" in note for note in chosen.notes)


def test_a_one_by_one_conv_is_factorised_and_the_output_only_when_named():
    layers = tf_keras.layers
    inputs = tf_keras.Input((6, 6, 16))
    x = layers.Conv2D(24, 1, strides=2, activation="relu", name="pw")(inputs)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(12, name="logits")(x)
    model = tf_keras.Model(inputs, layers.Softmax(name="softmax")(x))
    assert list(plan(model, LowRankConfig(rank=4)).factors) == ["pw"]  # logits feeds the output through Softmax
    factorised, chosen = factorise(model, LowRankConfig(rank=4, layers=["pw", "logits"]))
    assert list(chosen.factors) == ["pw", "logits"]
    assert factorised.get_layer("pw" + SUFFIX).strides == (2, 2) and factorised.get_layer("pw").strides == (1, 1)
    assert factorised.count_params() == model.count_params() - 16 * 24 - 24 * 12 + 4 * (16 + 24) + 4 * (24 + 12)
    # Rank 4 of 16 is an approximation: the best one, the kernel's 4 largest singular directions.
    kernel = model.get_layer("pw").kernel.numpy().reshape(16, 24)
    u, sv, vt = np.linalg.svd(kernel, full_matrices=False)
    thin = factorised.get_layer("pw" + SUFFIX).kernel.numpy().reshape(16, 4)
    wide = factorised.get_layer("pw").kernel.numpy().reshape(4, 24)
    np.testing.assert_allclose(thin @ wide, (u[:, :4] * sv[:4]) @ vt[:4], atol=1e-5)
    np.testing.assert_array_equal(factorised.get_layer("pw").bias.numpy(), model.get_layer("pw").bias.numpy())
    x = np.random.default_rng(1).random((4, 6, 6, 16)).astype(np.float32)
    assert factorised(x).shape == model(x).shape


def test_bad_ranks_are_one_line_recipe_errors():
    model = _dense_model(np.random.default_rng(0))
    with pytest.raises(RecipeError, match=r"rank = 40 is larger than layer fc2 allows \(64 x 32 kernel: at most 32\)"):
        plan(model, LowRankConfig(rank=40))
    with pytest.raises(RecipeError, match="layers names 'flat' \\(Flatten\\), which cannot be factorised"):
        plan(model, LowRankConfig(rank=4, layers=["flat"]))
    with pytest.raises(RecipeError, match="'nope', not in the model"):
        plan(model, LowRankConfig(rank=4, layers=["nope"]))
    for text, words in [
        ("[lowrank]\nrank = 4\nenergy = 0.9", "both rank and energy"),
        ("[lowrank]\nenergy = 1.5", "energy = 1.5 is outside (0, 1]"),
        ("[lowrank]\nrank = -1", "rank = -1 must be >= 1"),
        ("[lowrank]\nlayers = \"fc1\"", "must be a list of layer names"),
    ]:
        with pytest.raises(RecipeError) as info:
            parse_recipe(text)
        assert words in str(info.value) and "\n" not in str(info.value)
    assert parse_recipe("[lowrank]\nenergy = 0.9\nlayers = [\"fc1\"]").lowrank == LowRankConfig(energy=0.9, layers=["fc1"])


@pytest.fixture(scope="module")
def dense_keras3(keras3, digits, tmp_path_factory):
    """A tiny Keras 3 Dense classifier on digits, saved as a user would."""
    keras3.utils.set_random_seed(0)
    layers = keras3.layers
    model = keras3.Sequential([
        keras3.Input((8, 8, 1)), layers.Flatten(name="flat"),
        layers.Dense(64, activation="relu", name="fc1"), layers.Dense(64, activation="relu", name="fc2"),
        layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile(optimizer=keras3.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(digits.x_train, digits.y_train, epochs=10, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("lowrank") / "dense.keras"
    model.save(path)
    return path


def _recipe(lowrank: LowRankConfig, sparsity: float = 0.0, clusters: int = 0) -> Recipe:
    return Recipe(lowrank=lowrank, prune=PruneConfig(target_sparsity=sparsity), cluster=ClusterConfig(clusters=clusters),
                  quantize=QuantizeConfig(calibration_samples=50), finetune=FinetuneConfig(epochs=2, batch_size=64, learning_rate=3e-3))


def test_compress_factorises_prunes_clusters_and_converts_bit_exact_with_tflm(dense_keras3, tmp_path):
    result = compress(dense_keras3, "digits", tmp_path / "out", _recipe(LowRankConfig(rank=8), 0.5, 16))
    report = json.loads((result.out_dir / "report.json").read_text())
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["fc1" + SUFFIX]["pruned"] and layers["fc1" + SUFFIX]["clustered"]  # factorised before pruning
    assert report["recipe"]["lowrank"]["rank"] == 8
    accuracy = report["accuracy"]
    assert accuracy["float"] >= 0.9 and accuracy["lowrank"] >= accuracy["float"] - 0.05
    assert accuracy["int8"] >= accuracy["lowrank"] - 0.03
    assert any(note.startswith("layer fc1 factorised at rank 8") and "4096 -> 1024" in note for note in report["notes"])
    tflite = result.tflite_path.read_bytes()
    verified = verify_tflite(tflite, samples=8)
    assert verified.bit_exact, verified
    fc_macs = sum(layer.macs for layer in generate(read_model(tflite)).layers if layer.op == "FULLY_CONNECTED")
    assert fc_macs == 8 * (64 + 64) * 2 + 64 * 10 < 64 * 64 + 64 * 64 + 64 * 10  # as codegen will run them


def test_a_rank_too_large_stops_compress_before_training(dense_keras3, tmp_path):
    with pytest.raises(RecipeError, match="rank = 65 is larger than layer fc1 allows") as info:
        compress(dense_keras3, "digits", tmp_path / "out", _recipe(LowRankConfig(rank=65)))
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()
