"""``tinycompress run`` / ``demo``: the checks that must fail fast, before any training."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tinycompress.cli import main

pytestmark = pytest.mark.host


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _assert_one_line_error(result, code: int, *words: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


def test_unknown_board_is_refused_before_training(tmp_path) -> None:
    out = tmp_path / "out"
    result = _invoke("run", str(tmp_path / "m.keras"), "--data", "digits", "--board", "nope", "-o", str(out))
    _assert_one_line_error(result, 4, "nope", "qemu-netduinoplus2")
    assert not out.exists()


def test_real_board_needs_a_port(tmp_path) -> None:
    result = _invoke("run", str(tmp_path / "m.keras"), "--data", "digits", "--board", "nucleo_l4r5zi",
                     "-o", str(tmp_path / "out"))
    _assert_one_line_error(result, 2, "--port")


def test_foreign_output_directory_is_left_alone(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    result = _invoke("run", str(tmp_path / "m.keras"), "--data", "digits", "--board", "qemu-riscv32", "-o", str(out))
    _assert_one_line_error(result, 2, "not empty")
    assert [p.name for p in out.iterdir()] == ["precious.txt"]


def test_missing_model_leaves_no_output(tmp_path) -> None:
    out = tmp_path / "out"
    result = _invoke("run", str(tmp_path / "missing.keras"), "--data", "digits", "--board", "qemu-riscv32",
                     "-o", str(out))
    assert result.exit_code == 2, result.output
    assert "missing.keras" in result.output and "Traceback" not in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_demo_refuses_a_real_board(tmp_path) -> None:
    result = _invoke("demo", "-o", str(tmp_path / "out"), "--board", "esp32dev")
    _assert_one_line_error(result, 2, "emulated")


@pytest.mark.emulator
def test_device_failure_keeps_the_compressed_model(tmp_path) -> None:
    """A device stage that fails after compression leaves the compression results in OUT."""
    import json

    from tinycompress.compress.demo import build
    from tinycompress.compress.recipe import ClusterConfig, FinetuneConfig, PruneConfig, Recipe
    from tinycompress.errors import LinkError
    from tinycompress.run import run

    import tinycompress.compress.tfenv  # noqa: F401  (TF's environment before Keras 3 loads)

    model_path = tmp_path / "tiny.keras"
    build("cnn").save(model_path)
    out = tmp_path / "out"
    recipe = Recipe(prune=PruneConfig(target_sparsity=0.0), cluster=ClusterConfig(clusters=0),
                    finetune=FinetuneConfig(epochs=1))
    with pytest.raises(LinkError, match="partial report are kept"):
        run(model_path, "digits", "qemu-riscv32", out, recipe, port="socket://127.0.0.1:1", limit=2)
    report = json.loads((out / "report.json").read_text())
    assert report["complete"] is False and report["stopped"]
    assert (out / "compress" / "model_int8.tflite").stat().st_size == report["compress"]["size_bytes"]["int8"]
    assert (out / "project" / "platformio.ini").is_file()
