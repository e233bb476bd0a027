"""export: project tree, real-board environments, and the fit check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.codegen import runtime_sources
from tinycompress.errors import BoardError, InputError
from tinycompress.project.boards import get_board
from tinycompress.project.build import normalize_port
from tinycompress.project.export import export_project
from tinycompress.project.fit import check_fit
from tinycompress.project.model import ModelSources, model_sources_from_tflite
from tinycompress.project.project import load_project

pytestmark = pytest.mark.host


def _text(project: Path, name: str) -> str:
    return (project / name).read_text()


def test_emulated_project_tree(small_model: ModelSources, tmp_path: Path) -> None:
    project = export_project(small_model, get_board("qemu-netduinoplus2"), tmp_path / "p").project
    ini = _text(project, "platformio.ini")
    assert "core_dir = .pio-core" in ini
    assert "platform = symlink://tools/platform-qemu" in ini
    assert "toolchain-tcarm @ symlink://tools/toolchain-tcarm" in ini
    assert "-icount shift=0,sleep=off" in ini
    assert "-DTC_WEIGHT_FORMATS=0x1" in ini  # a dense model links no packed-weight code
    for name in ("src/main.c", "src/model/model.c", "src/model/model.h", "src/port/memory.ld",
                 "src/port/tc_port.h", "src/port/tc_port_netduinoplus2.c", "src/port/tc_cortexm.ld",
                 "src/runtime/include/tc_runtime.h", "tools/platform-qemu/platform.json", "README.md"):
        assert (project / name).is_file(), name
    for source in runtime_sources():
        assert (project / "src" / "runtime" / "src" / source.name).is_file()
    assert not (project / "src" / "runtime" / "tests").exists()  # the on-core checkers' headers stay home
    assert (project / "tools/toolchain-tcarm/bin/arm-none-eabi-gcc").resolve().is_file()
    manifest = json.loads(_text(project, ".pio-core/packages/tool-scons/.piopm"))
    assert manifest["spec"]["owner"] == "platformio" and manifest["version"] == "4.41101.0"
    assert "ORIGIN = 0x08000000, LENGTH = 1048576" in _text(project, "src/port/memory.ld")
    assert not (project / "CMakeLists.txt").exists()
    info = load_project(project)
    assert info.board_name == "qemu-netduinoplus2"
    assert (project / info.model["tflite"]).read_bytes() == small_model.tflite
    assert info.model["arena_bytes"] == small_model.arena_bytes
    for path in project.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.suffix in (".c", ".h", ".ini", ".ld", ".md"):
            assert "{{" not in path.read_text() and "{%" not in path.read_text(), path


def test_stm32_project_uses_official_platform(small_model: ModelSources, tmp_path: Path) -> None:
    project = export_project(small_model, get_board("nucleo_l4r5zi"), tmp_path / "p").project
    ini = _text(project, "platformio.ini")
    assert "platform = ststm32" in ini and "board = nucleo_l4r5zi" in ini
    assert "board_build.ldscript = src/port/tc_cortexm.ld" in ini
    assert "extra_scripts = post:extra_script.py" in ini
    script = _text(project, "extra_script.py")
    compile(script, "extra_script.py", "exec")
    assert '"-mfloat-abi=hard"' in script and '"-nostartfiles"' in script
    assert not (project / "tools").exists()
    header = _text(project, "src/port/tc_board.h")
    assert "#define TC_BOARD_UART_BASE 0x40008000u" in header
    assert "#define TC_BOARD_UART_LPUART 1" in header


def test_esp32_project_uses_espidf(small_model: ModelSources, tmp_path: Path) -> None:
    project = export_project(small_model, get_board("esp32-c3-devkitm-1"), tmp_path / "p").project
    ini = _text(project, "platformio.ini")
    assert "platform = espressif32" in ini and "framework = espidf" in ini
    assert "idf_component_register" in _text(project, "src/CMakeLists.txt")
    assert "PRIVATE TC_WEIGHT_FORMATS=0x1)" in _text(project, "src/CMakeLists.txt")
    assert "project.cmake" in _text(project, "CMakeLists.txt")
    assert (project / "src/port/tc_port_esp32.c").is_file()
    assert not (project / "src/port/memory.ld").exists()
    assert not (project / "extra_script.py").exists()


def test_model_too_big_for_ram_is_refused(big_arena_tflite: Path, tmp_path: Path) -> None:
    model = model_sources_from_tflite(big_arena_tflite)
    board = get_board("qemu-netduinoplus2")
    assert model.arena_bytes > board.ram_bytes
    with pytest.raises(BoardError) as info:
        export_project(model, board, tmp_path / "p")
    message = str(info.value)
    assert "does not fit qemu-netduinoplus2" in message
    assert f"arena {model.arena_bytes:,} B" in message
    assert f"has {board.ram_bytes:,} B" in message
    assert "flash" not in message.split(";")[0]
    assert not (tmp_path / "p").exists()


def test_cli_refuses_with_exit_code(big_arena_tflite: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(big_arena_tflite), "--board", "qemu-netduinoplus2",
                                       "-o", str(tmp_path / "p")])
    assert result.exit_code == BoardError.exit_code
    assert "error: model does not fit qemu-netduinoplus2" in result.output
    assert "Traceback" not in result.output


def test_flash_shortfall_names_weights() -> None:
    board = get_board("nucleo_f446re")
    weights = board.flash_bytes - board.reserved_flash_bytes + 1
    with pytest.raises(BoardError, match=rf"flash: needs {board.flash_bytes + 1:,} B \(weights {weights:,} B"):
        check_fit(board, weights_bytes=weights, arena_bytes=1024)
    assert check_fit(board, weights_bytes=weights - 1, arena_bytes=1024).fits


@pytest.mark.parametrize(("given", "expected"), [("5555", "127.0.0.1:5555"), ("tcp:5555", "127.0.0.1:5555"),
                                                 ("socket://10.0.0.2:4000", "10.0.0.2:4000")])
def test_qemu_port_forms(given: str, expected: str) -> None:
    assert normalize_port(given, emulated=True) == expected
    assert normalize_port("/dev/ttyACM0", emulated=False) == "/dev/ttyACM0"


def test_bad_qemu_port_is_an_input_error() -> None:
    with pytest.raises(InputError, match="is not a TCP port"):
        normalize_port("/dev/ttyUSB0", emulated=True)


def test_export_never_replaces_a_foreign_folder(small_model: ModelSources, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="refusing to replace"):
        export_project(small_model, get_board("qemu-riscv32"), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    project = tmp_path / "p"
    export_project(small_model, get_board("qemu-riscv32"), project)
    export_project(small_model, get_board("qemu-netduinoplus2"), project)
    assert load_project(project).board_name == "qemu-netduinoplus2"
