"""Structured (channel) pruning: the narrow model is the original with the dropped channels cut out.

Each surgery test compares the rebuilt model with a reference built by
hand: the original model in which every consumer of a dropped channel has
that input zeroed (so the channel no longer matters). Equal outputs prove
the slicing, the Flatten row mapping, the Add groups and the Concatenate
ranges are right.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinycompress.cli.compress import print_summary
from tinycompress.codegen import generate
from tinycompress.codegen.verify import verify_tflite
from tinycompress.compress import channels as ch
from tinycompress.compress.data import Dataset, load_dataset
from tinycompress.compress.demo import train_demo_model
from tinycompress.compress.keras_io import load_model
from tinycompress.compress.pipeline import compress
from tinycompress.compress.quantize import calibration_set, to_int8
from tinycompress.compress.recipe import (
    ChannelsConfig,
    ClusterConfig,
    FinetuneConfig,
    PruneConfig,
    QuantizeConfig,
    Recipe,
    parse_recipe,
)
from tinycompress.compress.tfenv import tf_keras
from tinycompress.errors import RecipeError, UnsupportedError
from tinycompress.progress import NullProgress
from tinycompress.tflite import read_model

pytestmark = pytest.mark.host

L = tf_keras.layers
HALF = ChannelsConfig(keep=0.5)
DIGITS = load_dataset("digits")


def _randomise_batch_norms(model) -> None:
    """Non-trivial BN statistics, so a wrongly sliced BN shows in the outputs."""
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.2, 2, gamma.shape), rng.normal(0, 0.5, beta.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.5, 2, var.shape)])


def _cnn():
    """The digits demo CNN (Sequential, Conv-Conv-Pool-Flatten-Dense-Dense)."""
    tf_keras.utils.set_random_seed(1)
    return tf_keras.Sequential([
        tf_keras.Input((8, 8, 1)),
        L.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        L.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool"),
        L.Flatten(name="flatten"),
        L.Dense(64, activation="relu", name="fc1"),
        L.Dense(10, activation="softmax", name="fc2"),
    ])


def _dscnn():
    """A DS-CNN in miniature: Conv-BN-ReLU, DepthwiseConv-BN-ReLU, 1x1 Conv-BN-ReLU, GAP, Dense."""
    tf_keras.utils.set_random_seed(2)
    inputs = tf_keras.Input((8, 8, 1))
    x = L.Conv2D(16, 3, padding="same", use_bias=False, name="conv1")(inputs)
    x = L.ReLU(name="relu1")(L.BatchNormalization(name="bn1")(x))
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw2")(x)
    x = L.ReLU(name="relu2")(L.BatchNormalization(name="bn2")(x))
    x = L.Conv2D(32, 1, use_bias=False, name="pw2")(x)
    x = L.ReLU(name="relu3")(L.BatchNormalization(name="bn3")(x))
    x = L.GlobalAveragePooling2D(name="gap")(x)
    model = tf_keras.Model(inputs, L.Dense(10, activation="softmax", name="fc")(x))
    _randomise_batch_norms(model)
    return model


def _resnet():
    """A residual block (Add joins conv0 and conv2), then two branches joined by Concatenate."""
    tf_keras.utils.set_random_seed(3)
    inputs = tf_keras.Input((8, 8, 1))
    skip = L.ReLU(name="r0")(L.BatchNormalization(name="bn0")(L.Conv2D(16, 3, padding="same", name="conv0")(inputs)))
    x = L.ReLU(name="r1")(L.BatchNormalization(name="bn1")(L.Conv2D(16, 3, padding="same", name="conv1")(skip)))
    x = L.BatchNormalization(name="bn2")(L.Conv2D(16, 3, padding="same", name="conv2")(x))
    x = L.ReLU(name="r2")(L.Add(name="add")([skip, x]))
    a = L.Conv2D(16, 1, activation="relu", name="ca")(x)
    b = L.Conv2D(8, 1, activation="relu", name="cb")(L.DepthwiseConv2D(3, padding="same", name="dw")(x))
    x = L.Concatenate(name="cat")([a, b])
    x = L.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv3")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    model = tf_keras.Model(inputs, L.Dense(10, activation="softmax", name="fc")(x))
    _randomise_batch_norms(model)
    return model


def _norms(model, name: str) -> np.ndarray:
    kernel = model.get_layer(name).kernel.numpy()
    return np.sqrt((kernel.reshape(-1, kernel.shape[-1]) ** 2).sum(axis=0))


def _dropped(scores: np.ndarray) -> np.ndarray:
    """The half of the channels with the lowest scores."""
    return np.sort(np.argsort(-scores, kind="stable")[len(scores) // 2:])


def _zero_inputs(model, name: str, rows) -> None:
    layer = model.get_layer(name)
    kernel = layer.kernel.numpy()
    kernel[..., np.asarray(rows, dtype=int), :] = 0
    layer.kernel.assign(kernel)


def _reference(kind: str, model) -> tuple[dict[str, int], object]:
    """Expected widths, and a copy of ``model`` whose consumers ignore the dropped channels."""
    ref = tf_keras.models.clone_model(model)
    ref.set_weights(model.get_weights())
    if kind == "cnn":
        d1, d2, d3 = _dropped(_norms(model, "conv1")), _dropped(_norms(model, "conv2")), _dropped(_norms(model, "fc1"))
        _zero_inputs(ref, "conv2", d1)
        _zero_inputs(ref, "fc1", [s * 32 + c for s in range(16) for c in d2])  # Flatten of 4x4x32
        _zero_inputs(ref, "fc2", d3)
        return {"conv1": 8, "conv2": 16, "fc1": 32, "fc2": 10}, ref
    if kind == "dscnn":
        d1, d2 = _dropped(_norms(model, "conv1")), _dropped(_norms(model, "pw2"))
        _zero_inputs(ref, "pw2", d1)  # through bn1, dw2, bn2: channel for channel
        _zero_inputs(ref, "fc", d2)
        return {"conv1": 8, "pw2": 16, "fc": 10}, ref
    joined = _dropped(_norms(model, "conv0") + _norms(model, "conv2"))  # one keep set for the Add group
    d1, da, db, d3 = (_dropped(_norms(model, n)) for n in ("conv1", "ca", "cb", "conv3"))
    _zero_inputs(ref, "conv1", joined)
    _zero_inputs(ref, "conv2", d1)
    _zero_inputs(ref, "ca", joined)
    _zero_inputs(ref, "cb", joined)  # after dw, channel for channel
    _zero_inputs(ref, "conv3", [*da, *(16 + db)])  # Concatenate: cb's channels follow ca's 16
    _zero_inputs(ref, "fc", d3)
    return {"conv0": 8, "conv1": 8, "conv2": 8, "ca": 8, "cb": 4, "conv3": 16, "fc": 10}, ref


BUILDERS = {"cnn": _cnn, "dscnn": _dscnn, "resnet": _resnet}


def _width(layer) -> int:
    config = layer.get_config()
    return int(config.get("units") or config["filters"])


def _shrunk(model, config: ChannelsConfig = HALF):
    graph, counts = ch.plan(model, config)
    scores, _ = ch.importance(model, graph, config.criterion, DIGITS, from_logits=False)
    return ch.shrink(model, graph, ch.keep_sets(scores, counts))


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_surgery_equals_the_original_with_dropped_channels_ignored(kind, digits: Dataset):
    model = BUILDERS[kind]()
    widths, ref = _reference(kind, model)
    narrow = _shrunk(model)
    assert {name: _width(narrow.get_layer(name)) for name in widths} == widths
    x = digits.x_test[:64]
    np.testing.assert_allclose(narrow(x, training=False).numpy(), ref(x, training=False).numpy(), atol=1e-5)
    # The reference still differs from the unpruned model: the dropped channels did matter.
    assert not np.allclose(model(x, training=False).numpy(), ref(x, training=False).numpy(), atol=1e-5)
    assert narrow.count_params() < 0.5 * model.count_params()


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_narrow_model_cuts_macs_and_its_int8_is_bit_exact(kind, digits: Dataset):
    model = BUILDERS[kind]()
    narrow = _shrunk(model)
    calibration = calibration_set(digits, QuantizeConfig(calibration_samples=50), 0)
    original_macs = generate(read_model(to_int8(model, calibration))).macs
    tflite = to_int8(narrow, calibration)
    result = verify_tflite(tflite, samples=8)
    assert result.bit_exact, result
    assert result.macs <= 0.6 * original_macs, (result.macs, original_macs)
    assert ch.keras_macs(narrow) <= 0.6 * ch.keras_macs(model)


def test_bn_gamma_keeps_the_channels_with_the_largest_gammas():
    model = _dscnn()
    gammas = np.abs(model.get_layer("bn1").gamma.numpy())
    narrow = _shrunk(model, ChannelsConfig(keep=0.5, criterion="bn_gamma"))
    kept = np.sort(np.argsort(-gammas, kind="stable")[:8])
    np.testing.assert_array_equal(narrow.get_layer("bn1").gamma.numpy(), model.get_layer("bn1").gamma.numpy()[kept])


def test_taylor_drops_large_filters_whose_output_nothing_uses():
    """conv1's filters 0..7 are the largest but conv2 ignores them: L2 keeps them, taylor drops them."""
    model = _cnn()
    conv1, conv2 = model.get_layer("conv1"), model.get_layer("conv2")
    conv1.kernel.assign(conv1.kernel.numpy() * np.repeat([100.0, 1.0], 8))
    _zero_inputs(model, "conv2", range(8))
    assert _width(conv2) == 32
    for criterion, kept in (("l2", range(8)), ("taylor", range(8, 16))):
        graph, counts = ch.plan(model, ChannelsConfig(keep=0.5, criterion=criterion))
        scores, _ = ch.importance(model, graph, criterion, DIGITS, from_logits=False)
        np.testing.assert_array_equal(ch.keep_sets(scores, counts)[graph.find(graph.producers["conv1"])], kept)


def test_per_layer_fractions_and_the_protected_output():
    model = _cnn()
    narrow = _shrunk(model, ChannelsConfig(keep=0.5, layers={"conv1": 1.0, "fc1": 0.25}))
    assert [_width(narrow.get_layer(n)) for n in ("conv1", "conv2", "fc1", "fc2")] == [16, 16, 16, 10]
    with pytest.raises(RecipeError, match=r"fc2 = 0.5: .*output.*remove it"):
        ch.plan(model, ChannelsConfig(layers={"fc2": 0.5}))
    with pytest.raises(RecipeError, match=r"names conv9, not a prunable layer.*prunable: conv1, conv2, fc1, fc2"):
        ch.plan(model, ChannelsConfig(layers={"conv9": 0.5}))


def test_multiple_rounds_kept_counts_to_the_widths_the_kernels_like():
    model = _cnn()  # conv1 16, conv2 32, fc1 64 filters: keep 0.4 asks for 6.4, 12.8 and 25.6
    exact = _shrunk(model, ChannelsConfig(keep=0.4))
    assert [_width(exact.get_layer(n)) for n in ("conv1", "conv2", "fc1")] == [6, 13, 26]
    rounded = _shrunk(model, ChannelsConfig(keep=0.4, multiple=8))
    assert [_width(rounded.get_layer(n)) for n in ("conv1", "conv2", "fc1", "fc2")] == [8, 16, 24, 10]
    # At least one multiple; a layer no wider than the multiple is rounded plainly.
    assert [ch._kept(0.05, 64, 8), ch._kept(0.5, 8, 8), ch._kept(1.0, 30, 8)] == [8, 4, 30]


def test_keep_that_empties_a_layer_is_a_one_line_recipe_error():
    with pytest.raises(RecipeError, match=r"keep = 0.01 leaves conv1 \(16 channels\) with no channel; use keep >= 0.0625") as info:
        ch.plan(_cnn(), ChannelsConfig(keep=0.01))
    assert "\n" not in str(info.value)


def test_untraceable_layer_is_named_and_can_be_kept_whole(digits: Dataset):
    tf_keras.utils.set_random_seed(4)
    inputs = tf_keras.Input((8, 8, 1))
    x = L.Conv2D(8, 3, padding="same", name="conv")(inputs)
    x = L.Reshape((64, 8), name="reshape")(x)
    x = L.Flatten(name="flat")(L.Conv1D(4, 3, name="conv1d")(x))
    model = tf_keras.Model(inputs, L.Dense(10, name="fc")(x))
    with pytest.raises(UnsupportedError, match=r"into layer reshape \(Reshape layers are not traced through\).*conv = 1.0"):
        ch.plan(model, HALF)
    narrow = _shrunk(model, ChannelsConfig(keep=0.5, layers={"conv": 1.0}))
    assert _width(narrow.get_layer("conv")) == 8 and _width(narrow.get_layer("conv1d")) == 2
    assert narrow(digits.x_test[:4]).shape == (4, 10)


@pytest.mark.parametrize("softmax", [L.Activation("softmax", name="prob"), L.Softmax(name="prob")])
def test_softmax_layer_keeps_the_classifier_whole_and_blocks_a_hidden_cut(softmax):
    inputs = tf_keras.Input((64,))
    hidden = L.Dense(16, name="hidden")(inputs)
    head = tf_keras.Model(inputs, softmax(L.Dense(10, name="logits")(hidden)))
    assert [_width(_shrunk(head).get_layer(n)) for n in ("hidden", "logits")] == [8, 10]
    middle = tf_keras.Model(inputs, L.Dense(10, name="logits")(L.Activation("softmax", name="sm")(hidden)))
    with pytest.raises(UnsupportedError, match=r"into layer sm \(a softmax normalises across the channels\).*hidden = 1.0"):
        ch.plan(middle, HALF)


def test_layer_used_twice_is_refused_by_name():
    inputs = tf_keras.Input((8,))
    shared = L.Dense(8, name="shared")
    model = tf_keras.Model(inputs, L.Dense(10, name="fc")(L.Add()([shared(inputs), shared(inputs)])))
    with pytest.raises(UnsupportedError, match="layer shared is called 2 times"):
        ch.plan(model, HALF)


def test_recipe_section_parses_and_rejects_bad_values():
    recipe = parse_recipe('[channels]\nkeep = 0.5\ncriterion = "bn_gamma"\nsteps = 2\n[channels.layers]\nconv1 = 1\n')
    assert recipe.channels == ChannelsConfig(keep=0.5, criterion="bn_gamma", steps=2, layers={"conv1": 1.0})
    assert recipe.channels.enabled and not Recipe().channels.enabled
    for text, message in [
        ("[channels]\nkeep = 0", r"keep = 0.0 is outside \(0, 1\]"),
        ("[channels.layers]\nconv1 = 1.5", r"layers.conv1 = 1.5 is outside \(0, 1\]"),
        ('[channels]\ncriterion = "fisher"', "criterion = 'fisher' is not one of 'l2', 'bn_gamma', 'taylor'"),
        ("[channels]\nsteps = 0", "steps = 0 must be >= 1"),
        ("[channels]\nmultiple = 0", "multiple = 0 must be >= 1"),
        ("[channels]\nlayers = 0.5", r"must be a \[channels.layers\] table"),
    ]:
        with pytest.raises(RecipeError, match=message):
            parse_recipe(text)


def test_compress_prunes_channels_first_and_reports_the_cut(tmp_path, keras3_cnn, capsys):
    recipe = Recipe(
        channels=ChannelsConfig(keep=0.5, steps=2),
        quantize=QuantizeConfig(calibration_samples=50),
        finetune=FinetuneConfig(epochs=1, batch_size=64),
    )
    result = compress(keras3_cnn, "digits", tmp_path / "out", recipe)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["channels"]["widths"] == {"conv": [8, 4], "pw": [16, 8]}
    assert report["channels"]["macs"]["after"] <= 0.6 * report["channels"]["macs"]["before"]
    assert report["channels"]["params"]["after"] < report["channels"]["params"]["before"]
    assert report["accuracy"]["channels"] is not None and report["timing_s"]["channels"] > 0
    print_summary(report, str(tmp_path / "out"))
    before, after = report["channels"]["macs"]["before"], report["channels"]["macs"]["after"]
    assert f"MACs {before:,} -> {after:,}" in capsys.readouterr().out
    tflite = result.tflite_path.read_bytes()
    assert verify_tflite(tflite, samples=8).bit_exact
    # magnitude pruning and clustering ran on the narrow model
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["pw"]["pruned"] and layers["pw"]["clustered"] and layers["pw"]["params"] == 4 * 8 + 8


def test_compress_with_a_bad_keep_writes_nothing(tmp_path, keras3_cnn):
    out = tmp_path / "out"
    with pytest.raises(RecipeError, match="leaves conv"):
        compress(keras3_cnn, "digits", out, Recipe(channels=ChannelsConfig(keep=0.05)))
    assert not out.exists()


@pytest.mark.parametrize("arch, data, keep, widths", [
    ("dscnn-wide", "digits", 0.4, {name: [64, 24] for name in ("conv1", "pw1", "pw2", "pw3", "pw4")}),
    ("har-wide", "aeon:JapaneseVowels", 0.5, {"conv1": [32, 16], "conv2": [64, 32]}),
])
def test_wide_demo_models_shrink_to_a_tenth_of_their_float32_weights_bit_exact(tmp_path, arch, data, keep, widths):
    """The over-wide demo models of benchmarks/channel_pruning.py, trained one epoch, through compress."""
    model = train_demo_model(tmp_path / f"{arch}.keras", arch, epochs=1, data=load_dataset(data))
    recipe = Recipe(
        channels=ChannelsConfig(keep=keep, multiple=8),
        prune=PruneConfig(target_sparsity=0),
        cluster=ClusterConfig(clusters=0),
        quantize=QuantizeConfig(calibration_samples=50),
        finetune=FinetuneConfig(epochs=1, batch_size=64),
    )
    result = compress(model.path, data, tmp_path / "out", recipe)
    report = result.report.to_dict()
    assert report["channels"]["widths"] == widths
    macs = report["channels"]["macs"]
    assert macs["after"] <= 0.6 * macs["before"], macs
    verified = verify_tflite(result.tflite_path.read_bytes(), samples=8)
    assert verified.bit_exact, verified
    # Dense int8 weights with their biases and requantisation tables, against the float model's kernels and biases.
    float32 = 4 * sum(layer.count_params() for layer in load_model(model.path).model.layers
                      if type(layer).__name__ != "BatchNormalization")
    assert 10 * report["size_bytes"]["weights"] <= float32, (report["size_bytes"]["weights"], float32)
