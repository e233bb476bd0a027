"""TC_MODEL_INPUT_PRESERVED tells the truth: it is 1 exactly when invoke leaves the input intact.

The serial protocol trusts it to decide whether a second INVOKE may run on
the input already in the arena (docs/protocol.md, INPUT_STALE), so it is
checked against the generated C itself, run on the host.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import keras_int8
from tinycompress.codegen import generate, runtime_include_dirs, runtime_sources
from tinycompress.tflite import read_model

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]

HARNESS = """#include <stdio.h>
#include <string.h>
#include "model.h"

int main(void)
{
    static int8_t written[TC_MODEL_INPUT_BYTES];
    int i;
    for (i = 0; i < TC_MODEL_INPUT_BYTES; i++) {
        written[i] = (int8_t)(i * 37 + 11);
    }
    memcpy(tc_model_input(), written, sizeof written);
    if (tc_model_invoke() != TC_OK) {
        return 2;
    }
    printf("%d\\n", memcmp(tc_model_input(), written, sizeof written) == 0);
    return 0;
}
"""


def dense_only():
    """One FULLY_CONNECTED: its output must live beside its input, so the input survives."""
    keras_int8.tf_keras.utils.set_random_seed(0)
    return keras_int8.tf_keras.Sequential([keras_int8.layers.Input((16,)), keras_int8.layers.Dense(10)])


def input_survives(tflite: bytes, folder: Path) -> tuple[int, bool]:
    """The macro's value, and whether the compiled model really left its input as written."""
    generated = generate(read_model(tflite))
    for name, text in {**generated.files, "main.c": HARNESS}.items():
        (folder / name).write_text(text)
    exe = folder / "run"
    subprocess.run(["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror",
                    *(f"-I{d}" for d in (folder, *runtime_include_dirs())),
                    str(folder / "main.c"), str(folder / "model.c"), *map(str, runtime_sources()), "-o", str(exe)],
                   check=True, capture_output=True)
    survived = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.strip() == "1"
    macro = re.search(r"#define TC_MODEL_INPUT_PRESERVED (\d)\b", generated.files["model.h"])
    assert macro, "model.h has no TC_MODEL_INPUT_PRESERVED"
    return int(macro[1]), survived


def test_macro_says_whether_invoke_overwrites_the_input(tmp_path: Path) -> None:
    seen = set()
    for name, model in (("cnn", keras_int8.small_cnn()), ("dense", dense_only())):
        folder = tmp_path / name
        folder.mkdir()
        macro, survived = input_survives(keras_int8.convert_int8(model), folder)
        assert macro == int(survived), (name, macro, survived)
        seen.add(macro)
    assert seen == {0, 1}  # both answers occur, so neither is hard-wired
