"""``tinycompress verify`` and ``tinycompress inspect`` through click, as a user runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import keras_int8
from tinycompress.cli import main

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "small.tflite"
    path.write_bytes(keras_int8.convert_int8(keras_int8.small_cnn()))
    return str(path)


def test_verify_json(model_path: str) -> None:
    result = CliRunner().invoke(main, ["verify", model_path, "--samples", "7", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("bit_exact", "samples", "mismatched_samples", "arena_bytes", "weights_bytes",
                "tflm_arena_bytes"):
        assert key in report
    assert report["bit_exact"] is True and report["samples"] == 7 and report["mismatched_samples"] == 0
    assert 0 < report["arena_bytes"] < report["tflm_arena_bytes"]


def test_verify_human(model_path: str) -> None:
    result = CliRunner().invoke(main, ["verify", model_path, "-n", "3"])
    assert result.exit_code == 0 and "bit-exact" in result.stdout and "3/3" in result.stdout


def test_inspect_json(model_path: str) -> None:
    result = CliRunner().invoke(main, ["inspect", model_path, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [layer["op"] for layer in report["layers"]] == [
        "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"]
    assert report["layers"][0]["macs"] == 6 * 6 * 8 * 3 * 3 * 3
    assert report["layers"][0]["output_shape"] == [1, 6, 6, 8]
    assert report["macs"] == sum(layer["macs"] for layer in report["layers"])
    assert report["arena_bytes"] > 0 and report["tflm_arena_bytes"] > report["arena_bytes"]
    assert report["weights_bytes"] == sum(layer["weights_bytes"] for layer in report["layers"])
    if report["code_bytes"] is not None:
        assert 0 < report["code_bytes"] < report["flash_bytes"]
        assert report["flash_bytes"] >= report["code_bytes"] + report["weights_bytes"]


@pytest.mark.parametrize("content, code, message", [
    (b"", 2, "is empty"),
    (b"garbage garbage", 2, "not a TFLite flatbuffer"),
])
def test_bad_model_is_one_line_error(tmp_path, content: bytes, code: int, message: str) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    for command in ("verify", "inspect"):
        result = CliRunner().invoke(main, [command, str(path)])
        assert result.exit_code == code
        assert message in result.stderr and "Traceback" not in result.stderr


def test_verify_mismatch_exits_8_naming_the_layer(model_path: str, monkeypatch) -> None:
    """A wrong constant in the generated C must fail the command, naming the layer."""
    import dataclasses

    from tinycompress.codegen import verify as verify_module

    real_generate = verify_module.generate

    def broken(model, prefix):
        gen = real_generate(model, prefix)
        c = gen.files["model.c"].replace(".output_zero_point = -128", ".output_zero_point = -120", 1)
        return dataclasses.replace(gen, files={**gen.files, "model.c": c})

    monkeypatch.setattr(verify_module, "generate", broken)
    result = CliRunner().invoke(main, ["verify", model_path, "-n", "4", "--json"])
    assert result.exit_code == 8
    assert json.loads(result.stdout)["bit_exact"] is False
    assert "first diverging layer: CONV_2D#0:conv2d" in result.stderr and "Traceback" not in result.stderr


def test_inspect_ranks_storage_for_the_board_core(tmp_path) -> None:
    """Blocks of 8 at 50 %: kept blocks on a Cortex-M4 (0.89x dense), dense on the M55 (1.43x there)."""
    path = tmp_path / "blocks.tflite"
    path.write_bytes(keras_int8.convert_int8(keras_int8.block_dense((512,), (32,), 8, seed=5)))
    picks = {}
    for board in (None, "qemu-netduinoplus2", "qemu-mps3-an547"):
        result = CliRunner().invoke(main, ["inspect", str(path), "--json", *(["--board", board] if board else [])])
        assert result.exit_code == 0, result.output
        layer = json.loads(result.stdout)["layers"][0]
        picks[board] = (layer["weights_storage"], layer["weights_storage_reason"].split(":")[0])
    assert picks == {None: ("block8", "balanced"), "qemu-netduinoplus2": ("block8", "balanced"),
                     "qemu-mps3-an547": ("s8", "balanced (helium)")}
    result = CliRunner().invoke(main, ["inspect", str(path), "--board", "no-such-board"])
    assert result.exit_code != 0 and "unknown board 'no-such-board'" in result.stderr
    assert "Traceback" not in result.stderr
