"""``tinycompress compress`` and ``demo`` on the command line: success, and every bad input.

Each bad input must give one ``error:`` line, a non-zero exit, no traceback,
and leave OUT as it was (absent, or holding the previous run's files).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.compress.data import load_dataset

pytestmark = pytest.mark.host

FAST = "[finetune]\nepochs = 1\nbatch_size = 64\n[cluster]\nclusters = 8\n[quantize]\ncalibration_samples = 50\n"


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _digits_npz(path: Path, **overrides) -> Path:
    d = load_dataset("digits")
    arrays = {"x_train": d.x_train[:200], "y_train": d.y_train[:200], "x_test": d.x_test[:50], "y_test": d.y_test[:50]}
    arrays.update(overrides)
    np.savez(path, **arrays)
    return path


def _snapshot(path: Path) -> dict[str, bytes] | None:
    if not path.exists():
        return None
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fast_recipe_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "fast.toml"
    path.write_text(FAST)
    return path


@pytest.fixture(scope="module")
def previous_out(tmp_path_factory, keras3_cnn, fast_recipe_file) -> Path:
    """A successful run's output; failed runs into it must leave it byte for byte."""
    out = tmp_path_factory.mktemp("prev") / "out"
    result = _run("compress", str(keras3_cnn), "--data", "digits", "--recipe", str(fast_recipe_file),
                  "-o", str(out), "--quiet", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads((out / "report.json").read_text())
    return out


def test_summary_table_names_every_stage(tmp_path, keras3_cnn, fast_recipe_file):
    result = _run("compress", str(keras3_cnn), "--data", "digits", "--recipe", str(fast_recipe_file),
                  "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    for text in ("float", "pruned", "clustered", "int8 (TFLM)", "dw", "DepthwiseConv2D", "TFLM arena", "model_int8.tflite"):
        assert text in result.stdout
    assert "check sparsity reached: yes (every pruned layer (3) at >= 50.0 % zeros" in result.stdout


def _bad_cases(tmp: Path, model: Path, recipe: Path) -> dict[str, tuple[list[str], str]]:
    d = load_dataset("digits")
    random_bytes = tmp / "random.keras"
    random_bytes.write_bytes(np.random.default_rng(1).bytes(300))
    truncated = tmp / "truncated.keras"
    truncated.write_bytes(model.read_bytes()[:2000])
    tflite = tmp / "model.tflite"
    tflite.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))
    data_as_model = _digits_npz(tmp / "data_as_model.npz")
    wrong_shape = _digits_npz(tmp / "shape.npz", x_train=np.zeros((200, 5, 5, 1)), x_test=np.zeros((50, 5, 5, 1)))
    wrong_labels = _digits_npz(tmp / "labels.npz", y_train=np.full(200, 12))
    nan = _digits_npz(tmp / "nan.npz", x_train=np.where(np.arange(200)[:, None, None, None] == 3, np.nan, d.x_train[:200]))
    inf = _digits_npz(tmp / "inf.npz", x_test=np.full((50, 8, 8, 1), np.inf))
    recipes = {}
    for name, text in {"unknown": "[prune]\nsparsity = 0.5\n", "sparsity_high": "[prune]\ntarget_sparsity = 1.0\n",
                       "sparsity_low": "[prune]\ntarget_sparsity = -0.2\n",
                       "clusters": "[cluster]\nclusters = 1\n"}.items():
        recipes[name] = tmp / f"{name}.toml"
        recipes[name].write_text(text)
    m, r = str(model), str(recipe)
    return {
        "missing model": ([str(tmp / "absent.keras"), "--data", "digits", "--recipe", r], "not found"),
        "corrupt model": ([str(random_bytes), "--data", "digits", "--recipe", r], "not a Keras model"),
        "truncated model": ([str(truncated), "--data", "digits", "--recipe", r], "corrupt"),
        "tflite as model": ([str(tflite), "--data", "digits", "--recipe", r], ".tflite flatbuffer"),
        "npz as model": ([str(data_as_model), "--data", "digits", "--recipe", r], "not a .keras model"),
        "missing data": ([m, "--data", str(tmp / "absent.npz"), "--recipe", r], "not found"),
        "data shape": ([m, "--data", str(wrong_shape), "--recipe", r], "model expects (8, 8, 1)"),
        "labels": ([m, "--data", str(wrong_labels), "--recipe", r], "labels go up to 12 but the model has 10 outputs"),
        "nan": ([m, "--data", str(nan), "--recipe", r], "NaN/inf"),
        "inf": ([m, "--data", str(inf), "--recipe", r], "NaN/inf"),
        "unknown recipe key": ([m, "--data", "digits", "--recipe", str(recipes["unknown"])], "unknown key 'sparsity'"),
        "sparsity 1.0": ([m, "--data", "digits", "--recipe", str(recipes["sparsity_high"])], "outside [0, 1)"),
        "sparsity < 0": ([m, "--data", "digits", "--recipe", str(recipes["sparsity_low"])], "outside [0, 1)"),
        "clusters < 2": ([m, "--data", "digits", "--recipe", str(recipes["clusters"])], "clusters = 1 must be >= 3"),
        "missing recipe": ([m, "--data", "digits", "--recipe", str(tmp / "absent.toml")], "not found"),
    }


def test_every_bad_input_is_one_line_and_leaves_out_untouched(tmp_path, keras3_cnn, fast_recipe_file, previous_out):
    before = _snapshot(previous_out)
    for case, (args, message) in _bad_cases(tmp_path, keras3_cnn, fast_recipe_file).items():
        for out in (tmp_path / "fresh", previous_out):
            result = _run("compress", *args, "-o", str(out))
            assert result.exit_code == 2, (case, result.output)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (case, result.stderr)
            assert message in lines[0], (case, lines[0])
            assert "Traceback" not in result.output, case
            assert not (tmp_path / "fresh").exists(), case
            assert _snapshot(previous_out) == before, case
        assert not [p for p in previous_out.parent.iterdir() if p.name.startswith(".")], case


def test_foreign_out_directory_is_refused(tmp_path, keras3_cnn):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    result = _run("compress", str(keras3_cnn), "--data", "digits", "-o", str(foreign))
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert _snapshot(foreign) == {"thesis.tex": b"precious"}
    as_file = tmp_path / "out.txt"
    as_file.write_text("a file")
    result = _run("compress", str(keras3_cnn), "--data", "digits", "-o", str(as_file))
    assert result.exit_code == 2 and "is a file" in result.stderr and as_file.read_text() == "a file"


def test_real_process_exit_code_and_debug_traceback(tmp_path):
    recipe = tmp_path / "bad.toml"
    recipe.write_text("[cluster]\nclusters = 1\n")
    args = ["compress", "m.keras", "--data", "digits", "--recipe", str(recipe), "-o", str(tmp_path / "o")]
    code = "import sys; from tinycompress.cli import main; sys.argv = ['tinycompress'] + sys.argv[1:]; main()"
    plain = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert plain.returncode == 2 and plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    debug = subprocess.run([sys.executable, "-c", code, "--debug", *args], capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "RecipeError" in debug.stderr


@pytest.mark.parametrize("command", [["compress"], ["run", "--board", "qemu-riscv32"]])
def test_model_code_runs_only_with_trust_model(tmp_path, command):
    """A Keras 2 .h5 whose Lambda writes a file: refused (nothing runs) unless --trust-model."""
    from tinycompress.compress.tfenv import tf_keras

    marker = tmp_path / "marker"
    inputs = tf_keras.Input((4,))
    x = tf_keras.layers.Lambda(eval(f"lambda t: (__import__('pathlib').Path({str(marker)!r}).touch(), t)[1]"),
                               name="evil")(inputs)
    tf_keras.Model(inputs, tf_keras.layers.Dense(10, activation="softmax")(x)).save(tmp_path / "m.h5")
    marker.unlink()
    args = [*command, str(tmp_path / "m.h5"), "--data", "digits", "-o", str(tmp_path / "out")]
    refused = _run(*args)
    assert refused.exit_code == 3, refused.output
    assert "layer evil (Lambda) carries Python code" in refused.stderr and "--trust-model" in refused.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()
    trusted = _run(*args, "--trust-model")  # loads (the code runs), then the 4-feature input meets 8x8 digits
    assert marker.exists()
    assert trusted.exit_code == 2 and "data samples" in trusted.stderr, trusted.output
