"""Real STM32 boards: their exported sources compile and link with arm-none-eabi-gcc.

PlatformIO's ststm32 platform cannot be downloaded here, so these projects
are not built with ``pio run``; compiling and linking the same sources with
the same cross compiler, flags and linker script is the check we can make.
The port sources (the clock tree setup of tc_clock_stm32.c included, with
each board's generated register values) compile with -Werror.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tinycompress.project.boards import get_board, load_boards
from tinycompress.project.elfsize import memory_usage
from tinycompress.project.export import export_project
from tinycompress.project.model import ModelSources

STM32_BOARDS = [name for name, board in load_boards().items() if board.port_family == "stm32"]
GCC = "arm-none-eabi-gcc"

pytestmark = [pytest.mark.host, pytest.mark.needs_tools(GCC, "arm-none-eabi-nm")]


def _compile(gcc_args: list[str], cwd: Path) -> None:
    result = subprocess.run([GCC, *gcc_args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("board_name", STM32_BOARDS)
def test_stm32_sources_compile_and_link(board_name: str, board_model: Callable[[str], ModelSources],
                                        tmp_path: Path) -> None:
    board = get_board(board_name)
    small_model = board_model(board_name)
    project = export_project(small_model, board, tmp_path / "p").project
    src = project / "src"
    includes = ["-Isrc/port", "-Isrc/runtime/include", "-Isrc/model"]
    common = [*board.cflags, *board.libc_flags, "-O2", "-Wall", "-Wextra", "-ffunction-sections", "-fdata-sections"]
    objects = []
    sources = sorted(src.rglob("*.c"))
    assert any("arch" in source.parts for source in sources) == (board.runtime_arch is not None)
    for source in sources:
        obj = tmp_path / (source.relative_to(src).as_posix().replace("/", "_") + ".o")
        strict = ["-Werror"] if source.parent.name in ("port",) or source.name == "main.c" else []
        _compile([*common, *strict, *includes, "-c", str(source), "-o", str(obj)], project)
        objects.append(str(obj))
    elf = tmp_path / "firmware.elf"
    _compile([*common, "-nostartfiles", "-Wl,--gc-sections", "-Lsrc/port", "-Tsrc/port/tc_cortexm.ld",
              *objects, "-lm", "-o", str(elf)], project)
    usage = memory_usage(elf, board)
    assert usage.flash_used >= small_model.weights_bytes
    assert usage.ram_used >= small_model.arena_bytes + board.stack_bytes
    assert usage.flash_free > 0 and usage.ram_free > 0
    nm = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    for symbol in ("tc_vectors", "tc_reset_handler", "tc_fault_handler", "tc_port_timer_read", "main",
                   "tc_stm32_clock_init", "tc_port_core_clock_hz"):
        assert f" {symbol}\n" in nm, symbol
