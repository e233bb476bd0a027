"""Model loading: the Keras 3 bridge, Keras 2 formats, and every bad model file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinycompress.compress.keras_io import load_model
from tinycompress.compress.tfenv import tf_keras
from tinycompress.errors import ModelFormatError, UnsupportedError

pytestmark = pytest.mark.host


def _randomize_batchnorm(model) -> None:
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(size=beta.shape),
                               rng.normal(size=mean.shape), rng.uniform(0.5, 2, var.shape)])


def _many_layers_2d():
    import keras

    L = keras.layers
    inputs = keras.Input((8, 8, 1), name="image")
    x = L.ZeroPadding2D(1)(inputs)
    x = L.Conv2D(4, 3, name="conv")(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    a = L.DepthwiseConv2D(3, padding="same")(x)
    a = L.ReLU(max_value=6.0)(a)
    b = L.SeparableConv2D(4, 3, padding="same")(x)
    b = L.LeakyReLU(negative_slope=0.1)(b)
    x = L.Concatenate()([L.Add()([a, b]), x])
    x = L.MaxPooling2D()(x)
    x = L.AveragePooling2D(2, padding="same")(x)
    x = L.Dropout(0.2)(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Reshape((8, 1))(x)
    x = L.Flatten()(x)
    x = L.Dense(10)(x)
    return keras.Model(inputs, L.Softmax()(x))


def _many_layers_1d():
    import keras

    L = keras.layers
    return keras.Sequential([
        keras.Input((16, 3)),
        L.Conv1D(6, 3, padding="same", activation="relu"),
        L.BatchNormalization(),
        L.MaxPooling1D(2),
        L.Conv1D(6, 3),
        L.GlobalAveragePooling1D(),
        L.Dense(4, activation="softmax"),
    ])


@pytest.mark.parametrize("builder", [_many_layers_2d, _many_layers_1d], ids=["functional-2d", "sequential-1d"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras3_bridge_reproduces_the_model(tmp_path, builder, suffix):
    model = builder()
    _randomize_batchnorm(model)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = load_model(path)
    assert loaded.bridged and loaded.source_format == ("keras3" if suffix == ".keras" else "keras3-h5")
    assert isinstance(loaded.model, tf_keras.Model)
    x = np.random.default_rng(0).random((16, *loaded.input_shape), dtype=np.float32)
    expected = model.predict(x, verbose=0)
    assert np.allclose(loaded.model.predict(x, verbose=0), expected, atol=1e-5)
    assert [type(layer).__name__ for layer in loaded.model.layers[1:]] == [type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"]


def test_keras2_h5_zip_and_savedmodel_load_without_bridge(tmp_path):
    model = tf_keras.Sequential([tf_keras.Input((4,)), tf_keras.layers.Dense(3, activation="softmax")])
    x = np.ones((2, 4), np.float32)
    for name, expected in (("m.h5", "keras2-h5"), ("m.keras", "keras2-zip"), ("saved", "savedmodel")):
        model.save(tmp_path / name)
        loaded = load_model(tmp_path / name)
        assert (loaded.source_format, loaded.bridged) == (expected, False)
        assert np.allclose(loaded.model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unsupported_layer_is_named(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.LayerNormalization(name="ln"), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsupportedError, match=r"layer ln \(LayerNormalization\) is not supported") as info:
        load_model(tmp_path / "m.keras")
    assert "\n" not in str(info.value)


def test_two_outputs_are_refused(tmp_path):
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(3)(inputs)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsupportedError, match="exactly one input and one output"):
        load_model(tmp_path / "m.keras")


def _bad_files(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    import keras

    weights_only = tmp_path / "w.weights.h5"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(weights_only)
    files = {
        "random.keras": (np.random.default_rng(0).bytes(500), "not a Keras model"),
        "truncated.keras": (good.read_bytes()[: good.stat().st_size // 2], "corrupt"),
        "notes.h5": (b"just text\n", "not a Keras model"),
        "model.tflite": (b"\x1c\x00\x00\x00TFL3" + bytes(40), ".tflite flatbuffer"),
        "empty.keras": (b"", "not a Keras model"),
    }
    paths = {}
    for name, (content, message) in files.items():
        (tmp_path / name).write_bytes(content)
        paths[name] = (tmp_path / name, message)
    paths["weights-only"] = (weights_only, "weights only")
    paths["missing"] = (tmp_path / "absent.keras", "not found")
    (tmp_path / "emptydir").mkdir()
    paths["directory"] = (tmp_path / "emptydir", "without saved_model.pb")
    return paths


def test_bad_model_files_are_one_line_errors(tmp_path, keras3_cnn):
    for name, (path, message) in _bad_files(tmp_path, keras3_cnn).items():
        with pytest.raises(ModelFormatError) as info:
            load_model(path)
        assert message in str(info.value), name
        assert "\n" not in str(info.value), name


def test_exported_savedmodel_without_keras_metadata(tmp_path):
    import keras

    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).export(tmp_path / "exported", verbose=False)
    with pytest.raises(ModelFormatError, match="without Keras metadata"):
        load_model(tmp_path / "exported")


def _writer_lambda(marker: Path):
    """A lambda whose bytecode (saved in the model file) writes ``marker`` whenever it runs."""
    return eval(f"lambda t: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), t)[1]")


def _save_lambda_model(tmp_path: Path, fmt: str) -> Path:
    """A model with a file-writing Lambda, saved as ``fmt``; the marker is removed after saving."""
    marker = tmp_path / "marker"
    if fmt.startswith("keras3"):
        import keras

        inputs = keras.Input((4,))
        x = keras.layers.Lambda(_writer_lambda(marker), name="evil")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    else:
        inputs = tf_keras.Input((4,))
        x = tf_keras.layers.Lambda(_writer_lambda(marker), name="evil")(inputs)
        model = tf_keras.Model(inputs, tf_keras.layers.Dense(3, activation="softmax")(x))
    path = tmp_path / {"keras2-h5": "m.h5", "keras2-zip": "m.keras", "savedmodel": "saved",
                       "keras3": "m.keras", "keras3-h5": "m.h5"}[fmt]
    model.save(path)
    assert marker.exists()  # the lambda really writes the file when it runs
    marker.unlink()
    return path


@pytest.mark.parametrize("fmt", ["keras2-h5", "savedmodel", "keras2-zip", "keras3", "keras3-h5"])
def test_code_in_a_model_file_does_not_run_unless_trusted(tmp_path, fmt):
    path = _save_lambda_model(tmp_path, fmt)
    marker = tmp_path / "marker"
    with pytest.raises(UnsupportedError, match=r"layer evil \(Lambda\) carries Python code") as info:
        load_model(path)
    assert "--trust-model" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()
    if fmt.startswith("keras3"):  # trusted, Keras 3 runs it, then the bridge refuses a Lambda
        with pytest.raises(UnsupportedError, match=r"layer evil \(Lambda\) is not supported by the Keras 3 bridge"):
            load_model(path, trust_model=True)
    else:
        loaded = load_model(path, trust_model=True)
        assert loaded.source_format == fmt and [layer.name for layer in loaded.model.layers][1] == "evil"
    assert marker.read_text() == "ran"


def test_custom_layers_are_refused_unless_trusted(tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="thirdparty")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(Doubler(name="double")(inputs)))
    model.save(tmp_path / "m.keras")
    with pytest.raises(UnsupportedError, match=r"layer double \(Doubler\) is not a Keras layer") as info:
        load_model(tmp_path / "m.keras")
    assert "--trust-model" in str(info.value)
    with pytest.raises(UnsupportedError, match=r"layer double \(Doubler\) is not supported by the Keras 3 bridge"):
        load_model(tmp_path / "m.keras", trust_model=True)


def _config(layer: dict) -> dict:
    return {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [None, 4]}}, layer]}}


@pytest.mark.parametrize("layer, message", [
    ({"class_name": "Dense", "config": {"name": "d", "activation": {
        "module": "__main__", "class_name": "function", "config": "evil", "registered_name": "evil"}}},
     r"layer d \(Dense\) uses a custom object \(__main__.function\)"),
    ({"class_name": "Dense", "config": {"name": "d", "activation": {
        "class_name": "__lambda__", "config": {"code": "4wEAAAA="}}}},
     r"layer d \(Dense\) carries Python code"),
    ({"class_name": "Dense", "config": {"name": "d", "kernel_initializer": {
        "module": "keras.initializers", "class_name": "Evil", "registered_name": "pkg>Evil"}}},
     r"layer d \(Dense\) uses a registered custom object \(pkg>Evil\)"),
    ({"class_name": "TFOpLambda", "config": {"name": "w", "function": "io.write_file"}},
     r"layer w \(TFOpLambda\) calls the TensorFlow function 'io.write_file'"),
    ({"class_name": "Sequential", "config": {"name": "inner", "layers": [
        {"class_name": "Lambda", "config": {"name": "deep", "function": ["4wEA", None, None]}}]}},
     r"layer deep \(Lambda\) carries Python code"),
])
def test_code_anywhere_in_a_config_is_found(layer, message):
    from tinycompress.compress.trust import check_config, layer_classes

    with pytest.raises(UnsupportedError, match=message):
        check_config(_config(layer), Path("m.h5"), layer_classes(tf_keras.layers))


def test_plain_configs_pass_the_check():
    from tinycompress.compress.trust import check_config, layer_classes

    known = layer_classes(tf_keras.layers)
    for layer in ({"class_name": "TFOpLambda", "config": {"name": "add", "function": "math.add"}},
                  {"class_name": "Dense", "config": {"name": "d", "kernel_initializer": {
                      "module": "keras.initializers", "class_name": "GlorotUniform", "registered_name": None}}}):
        check_config(_config(layer), Path("m.h5"), known)


def test_quoted_library_messages_end_at_a_sentence():
    from tinycompress.compress.keras_io import _first_line

    fits = ("Requested the deserialization of a layer whose function is a Python lambda. This carries a "
            "potential risk of arbitrary code execution and thus it is disallowed by default.")
    long = ValueError(f"{fits} If you trust the source of the saved model, pass safe_mode=False.\nDetails.")
    assert _first_line(long) == fits
    words = ValueError("word " * 100)
    assert _first_line(words).endswith("word ...") and len(_first_line(words)) <= 204
