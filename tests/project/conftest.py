"""Models and helpers shared by the project-stage tests.

Models are built here with the real converter (tests/keras_int8.py) and
compiled with the real code generator; nothing is a stand-in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tinycompress.project.boards import get_board
from tinycompress.project.model import ModelSources, model_sources_from_tflite
from tinycompress.resources import ports_dir

EMULATED = ("qemu-netduinoplus2", "qemu-mps3-an547", "qemu-riscv32")


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


def xorshift_input(seed: int, count: int) -> np.ndarray:
    """The built-in input of the generated application (src/main.c), as int8."""
    state, values = seed, []
    for _ in range(count):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        values.append(state >> 24)
    return np.array(values, dtype=np.uint8).view(np.int8)


def report_fields(output: str) -> dict[str, str]:
    """``tc: key=value`` lines the application prints."""
    return dict(re.findall(r"^tc: (\w+)=(.*?)\r?$", output, flags=re.M))


def run_on_host(project: Path, workdir: Path) -> str:
    """Compile the project's application and model with the reference runtime for the host; run it."""
    from tinycompress.codegen import runtime_sources

    sources = [project / "src" / "main.c", *sorted((project / "src" / "model").glob("*.c")),
               *runtime_sources(), ports_dir() / "host" / "tc_port_host.c"]
    exe = workdir / "host_app"
    includes = ["-I", str(ports_dir() / "include"), "-I", str(project / "src" / "runtime" / "include"),
                "-I", str(project / "src" / "model")]
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "no host C compiler"
    subprocess.run([cc, "-O2", "-std=c99", *includes, *map(str, sources), "-lm", "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=60).stdout
