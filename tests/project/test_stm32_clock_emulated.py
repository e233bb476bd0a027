"""Emulator tier: the real boards' STM32F4 clock setup gives up on a PLL that never locks, and the firmware works on.

QEMU's netduinoplus2 (an STM32F405) does not model RCC or PWR: every ready
flag reads 0, as on a board whose PLL fails to lock. The F446's clock code
(tc_clock_stm32.c with nucleo_f446re's generated tc_board.h) runs before the
netduinoplus2 port; the firmware must come up within its bounded waits, say
in INFO that it runs at the 16 MHz reset clock, and serve the protocol. The
same firmware without the clock code reports 0 (an emulator knows no clock).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tinycompress.link import DeviceLink
from tinycompress.profile.session import connect, stream
from tinycompress.project.boards import get_board
from tinycompress.project.context import _board_header
from tinycompress.project.export import export_project
from tinycompress.project.model import ModelSources
from tinycompress.project.qemu import start_qemu
from tinycompress.project.render import render_tree
from tinycompress.resources import ports_dir, templates_dir

GCC = "arm-none-eabi-gcc"
HERE = Path(__file__).parent

pytestmark = [pytest.mark.emulator, pytest.mark.needs_tools(GCC, "qemu-system-arm")]


def _gcc(args: list[str], cwd: Path) -> None:
    result = subprocess.run([GCC, *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _build(project: Path, work: Path, cflags: list[str]) -> tuple[Path, Path]:
    """The exported netduinoplus2 firmware, linked as is and with the F446 clock setup in front of its port."""
    f446 = get_board("nucleo_f446re")
    shutil.copy(templates_dir() / "src" / "port" / "tc_board.h.j2", work / "tc_board.h.j2")
    render_tree(work / "f446", {"board_header": _board_header(f446), "generator": "test",
                                "board": {"name": f446.name}}, templates=work)
    objects = []
    for source in sorted((project / "src").rglob("*.c")):
        obj = work / (source.relative_to(project / "src").as_posix().replace("/", "_") + ".o")
        _gcc([*cflags, "-Isrc/port", "-Isrc/runtime/include", "-Isrc/model", "-c", str(source), "-o", str(obj)],
             project)
        objects.append(str(obj))
    clock_objects = []
    for source in (ports_dir() / "stm32" / "tc_clock_stm32.c", HERE / "stm32_clock_on_qemu.c"):
        obj = work / f"{source.stem}.o"
        _gcc([*cflags, "-Werror", f"-I{work / 'f446'}", f"-I{ports_dir() / 'stm32'}", f"-I{ports_dir() / 'include'}",
              "-c", str(source), "-o", str(obj)], project)
        clock_objects.append(str(obj))
    link = [*cflags, "-nostartfiles", "-Wl,--gc-sections", "-Lsrc/port", "-Tsrc/port/tc_cortexm.ld"]
    plain, clocked = work / "plain.elf", work / "clocked.elf"
    _gcc([*link, *objects, "-lm", "-o", str(plain)], project)
    _gcc([*link, "-Wl,--wrap=tc_port_init,--wrap=tc_port_core_clock_hz", *objects, *clock_objects, "-lm",
          "-o", str(clocked)], project)
    return plain, clocked


def test_pll_that_never_locks_falls_back_and_the_firmware_still_answers(
        board_model: Callable[[str], ModelSources], tmp_path: Path) -> None:
    board = get_board("qemu-netduinoplus2")
    model = board_model(board.name)
    project = export_project(model, board, tmp_path / "p").project
    cflags = [*board.cflags, *board.libc_flags, "-O2", "-Wall", "-Wextra", "-ffunction-sections", "-fdata-sections"]
    plain, clocked = _build(project, tmp_path, cflags)
    for elf, clock_hz in ((plain, 0), (clocked, 16_000_000)):
        with start_qemu(board, elf) as session:
            port = session.open_serial()
            try:
                link = DeviceLink(port, session.url, timeout=5)
                info = connect(link, boot_timeout=30)  # an unbounded wait never gets this far
                assert (info.core_clock_hz, info.timer_unit) == (clock_hz, "instructions"), elf.name
                measured = stream(link, info, np.zeros((2, info.input_bytes), np.int8))
                assert measured.complete and len(measured.results) == 2, measured.stopped
            finally:
                port.close()
