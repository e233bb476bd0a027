"""Emulator tier: export + offline PlatformIO build + QEMU run on every emulated board.

The firmware's output (built with the board's optimised kernels, if any)
must equal, byte for byte, the same generated C compiled for the host with
the reference kernels and the TFLM interpreter on the same input; a fault
must end the run with a report and a non-zero status.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from project_helpers import EMULATED, report_fields, run_on_host, xorshift_input

from tinycompress.oracle import TflmOracle
from tinycompress.project.boards import get_board
from tinycompress.project.build import BuildResult, build_project
from tinycompress.project.export import export_project
from tinycompress.project.model import ModelSources
from tinycompress.project.qemu import run_firmware, start_qemu
from tinycompress.resources import ports_dir

pytestmark = pytest.mark.emulator

FAULTING_MAIN = """\
#include <stdint.h>
#include "tc_port.h"

int main(void)
{
    tc_port_init();
    tc_port_write((const uint8_t *)"about to fault\\n", 15);
    *(volatile uint32_t *)0xFFFFFFF0u = 1u; /* unmapped on every emulated board */
    __builtin_trap();
    return 0;
}
"""


def _export_and_build(model: ModelSources, board_name: str, out: Path, home: Path) -> BuildResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))  # PlatformIO must not touch the user's home
        result = export_project(model, get_board(board_name), out, app="selftest")
        return build_project(result.project)


@pytest.fixture(scope="module", params=EMULATED)
def built(request: pytest.FixtureRequest, board_model: Callable[[str], ModelSources],
          tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    home = tmp_path_factory.mktemp("home")
    model = board_model(request.param)
    result = _export_and_build(model, request.param, tmp_path_factory.mktemp("proj") / "p", home)
    assert list(home.iterdir()) == [], "the build wrote to $HOME"
    return result


def test_output_matches_host_build_and_tflm(built: BuildResult, small_tflite: Path, tmp_path: Path) -> None:
    board = built.project.board
    run = run_firmware(board, built.firmware, timeout=60)
    assert run.exit_code == 0, run.output
    assert "FAULT" not in run.output
    device = report_fields(run.output)
    host = report_fields(run_on_host(built.project.path, tmp_path))
    assert device["status"] == "0"
    assert device["output"] == host["output"]
    assert device["checksum"] == host["checksum"]

    oracle = TflmOracle(small_tflite.read_bytes())
    sample = xorshift_input(built.project.seed, int(np.prod(oracle.input.shape)))
    expected = oracle.run(sample).astype(np.int8).view(np.uint8)
    assert device["output"] == expected.tobytes().hex()

    value, unit = device["latency"].split()
    assert unit == board.timer_unit == "instructions"
    assert int(value) > 0
    assert device["board"] == board.name


def test_latency_is_deterministic(built: BuildResult) -> None:
    runs = [run_firmware(built.project.board, built.firmware, timeout=60) for _ in range(2)]
    assert runs[0].exit_code == runs[1].exit_code == 0
    assert report_fields(runs[0].output)["latency"] == report_fields(runs[1].output)["latency"]


def test_elf_sizes_cover_model(built: BuildResult, small_model: ModelSources) -> None:
    board = built.project.board
    usage = built.memory
    assert usage.flash_used >= small_model.weights_bytes
    assert usage.ram_used >= small_model.arena_bytes + board.stack_bytes
    assert usage.flash_used + usage.flash_free == board.flash_bytes
    assert usage.ram_used + usage.ram_free == board.ram_bytes
    assert 0 < usage.flash_free and 0 < usage.ram_free


def test_session_serves_pyserial_socket(built: BuildResult) -> None:
    with start_qemu(built.project.board, built.firmware) as session:
        assert session.url.startswith("socket://127.0.0.1:")
        link = session.open_serial(read_timeout=5.0)
        try:
            first = link.read_until(b"\n")
        finally:
            link.close()
        assert first.startswith(b"tc: output=")


@pytest.mark.parametrize("board_name", EMULATED)
def test_fault_is_reported_and_exits_nonzero(board_name: str, small_model: ModelSources, tmp_path: Path) -> None:
    project = tmp_path / "fault"
    export_project(small_model, get_board(board_name), project)
    (project / "src" / "main.c").write_text(FAULTING_MAIN)
    result = build_project(project)
    run = run_firmware(result.project.board, result.firmware, timeout=30)
    assert "about to fault" in run.output
    assert "FAULT:" in run.output
    assert run.exit_code == 99 == _fault_exit_code()


RUNAWAY_RECURSION_MAIN = """\
#include <stdint.h>
#include "tc_port.h"

static volatile uint32_t sink;

static uint32_t dive(uint32_t depth)
{
    volatile uint32_t frame[16];
    frame[0] = depth;
    sink += frame[0];
    return depth ? dive(depth + 1) + frame[0] : 0u;
}

int main(void)
{
    tc_port_init();
    tc_port_write((const uint8_t *)"diving\\n", 7);
    return (int)dive(1u);
}
"""


@pytest.mark.parametrize("board_name", EMULATED)
def test_stack_overflow_is_a_fault(board_name: str, small_model: ModelSources, tmp_path: Path) -> None:
    project = tmp_path / "overflow"
    export_project(small_model, get_board(board_name), project)
    (project / "src" / "main.c").write_text(RUNAWAY_RECURSION_MAIN)
    result = build_project(project)
    run = run_firmware(result.project.board, result.firmware, timeout=30)
    assert "diving" in run.output
    assert "FAULT: StackOverflow" in run.output
    assert run.exit_code == _fault_exit_code()


def _fault_exit_code() -> int:
    header = (ports_dir() / "include" / "tc_port.h").read_text()
    return int(header.split("#define TC_PORT_EXIT_FAULT")[1].split()[0])
