"""Model fixtures shared by the project-stage tests.

Models are built here with the real converter (tests/keras_int8.py) and
compiled with the real code generator; nothing is a stand-in. Helpers that
tests import by name live in project_helpers.py: ``from conftest import``
would get another folder's conftest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tinycompress.project.boards import get_board
from tinycompress.project.model import ModelSources, model_sources_from_tflite


@pytest.fixture(scope="session")
def small_tflite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny int8 CNN (conv, depthwise, max-pool, dense, softmax)."""
    from keras_int8 import convert_int8, small_cnn

    path = tmp_path_factory.mktemp("models") / "small_cnn.tflite"
    path.write_bytes(convert_int8(small_cnn(0)))
    return path


@pytest.fixture(scope="session")
def small_model(small_tflite: Path) -> ModelSources:
    return model_sources_from_tflite(small_tflite)


@pytest.fixture(scope="session")
def board_model(small_tflite: Path) -> Callable[[str], ModelSources]:
    """The small model compiled with the runtime kernels a board uses (its runtime_arch)."""
    cache: dict[str, ModelSources] = {}

    def sources(board_name: str) -> ModelSources:
        if board_name not in cache:
            arch = get_board(board_name).runtime_arch
            cache[board_name] = model_sources_from_tflite(small_tflite, runtime_arch=arch)
        return cache[board_name]

    return sources


@pytest.fixture(scope="session")
def big_arena_tflite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wide convolution: few weights, but an arena far beyond 192 KiB."""
    from keras_int8 import convert_int8
    from tinycompress.compress.tfenv import tf_keras

    tf_keras.utils.set_random_seed(0)
    inp = tf_keras.layers.Input((128, 128, 3))
    out = tf_keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
    path = tmp_path_factory.mktemp("models") / "big_arena.tflite"
    path.write_bytes(convert_int8(tf_keras.Model(inp, out), samples=4))
    return path
