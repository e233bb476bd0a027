"""Helpers shared by test files in several folders (tests/conftest.py puts this folder on sys.path).

Not a test module: it holds no tests, so it needs no tier marker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def one_line_refusal(result: Any, *words: str) -> str:
    """Assert a CLI result is a usage refusal (exit 2) of one ``error: `` line naming every word; return it."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def tiny_digits_cnn(folder: Path, beside: str, text: str) -> tuple[Path, Path]:
    """The smallest digits CNN (Keras 3, one 4-filter convolution), trained one epoch, saved as
    folder/tiny.keras, and a file ``beside`` it (a recipe, a search space) holding ``text``: both paths."""
    import tinycompress.compress.tfenv  # noqa: F401  (TensorFlow's environment first, as the CLI sets it)
    import keras

    from tinycompress.compress.data import load_dataset

    digits = load_dataset("digits")
    keras.utils.set_random_seed(1)
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu", name="conv"),
                              layers.Flatten(name="flat"), layers.Dense(10, activation="softmax", name="fc")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(digits.x_train, digits.y_train, epochs=1, batch_size=64, verbose=0)
    model.save(folder / "tiny.keras")
    (folder / beside).write_text(text)
    return folder / "tiny.keras", folder / beside


def digits_cnn_int8(digits: Any) -> bytes:
    """A small CNN trained 3 epochs on digits, full int8 (conv, depthwise, pool, dense, softmax): a real
    model, so accuracy means something. Calibrated on the first 64 training samples."""
    import numpy as np
    from keras_int8 import tf, tf_keras

    tf_keras.utils.set_random_seed(0)
    layers = tf_keras.layers
    model = tf_keras.Sequential([
        layers.Input(digits.sample_shape),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10),
        layers.Softmax(),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(digits.x_train, digits.y_train, epochs=3, batch_size=32, verbose=0)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None].astype(np.float32)] for x in digits.x_train[:64])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())
