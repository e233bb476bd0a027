"""Latency sources of the emulated boards count guest instructions.

A loop of exactly two instructions per iteration is timed for two trip
counts; the difference of the readings must be twice the difference of the
counts (exact for TIM2 and minstret, within one SysTick tick on mps3-an547).
``noinline`` keeps the loading of the trip count (one or two instructions,
depending on its size) out of the timed region.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from project_helpers import EMULATED, report_fields

from tinycompress.project.boards import get_board
from tinycompress.project.build import build_project
from tinycompress.project.export import export_project
from tinycompress.project.model import ModelSources
from tinycompress.project.qemu import run_firmware

pytestmark = pytest.mark.emulator

SHORT, LONG = 1_000, 11_000
# One an547 SysTick tick is 31.25 instructions; each reading may be off by one tick.
TOLERANCE = {"qemu-mps3-an547": 64}

TIMING_MAIN = f"""\
#include <stdint.h>
#include "tc_port.h"

__attribute__((noinline)) static void spin(uint32_t n)
{{
#if defined(__riscv)
    __asm volatile("1: addi %0, %0, -1\\n\\tbnez %0, 1b" : "+r"(n));
#else
    __asm volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(n) : : "cc");
#endif
}}

__attribute__((noinline)) static uint32_t timed(uint32_t n)
{{
    uint32_t start = tc_port_timer_read();
    spin(n);
    return tc_port_timer_read() - start;
}}

static void put_u32(const char *key, uint32_t value)
{{
    char text[32];
    int i = 0, k = 0;
    char digits[11];
    do {{ digits[k++] = (char)('0' + value % 10u); value /= 10u; }} while (value);
    text[i++] = 't'; text[i++] = 'c'; text[i++] = ':'; text[i++] = ' ';
    while (*key) text[i++] = *key++;
    text[i++] = '=';
    while (k) text[i++] = digits[--k];
    text[i++] = '\\n';
    tc_port_write((const uint8_t *)text, (size_t)i);
}}

int main(void)
{{
    tc_port_init();
    put_u32("short", timed({SHORT}u));
    put_u32("long", timed({LONG}u));
    return 0;
}}
"""


@pytest.mark.parametrize("board_name", EMULATED)
def test_timer_counts_instructions(board_name: str, small_model: ModelSources, tmp_path: Path) -> None:
    project = export_project(small_model, get_board(board_name), tmp_path / "p").project
    (project / "src" / "main.c").write_text(TIMING_MAIN)
    result = build_project(project)
    run = run_firmware(result.project.board, result.firmware, timeout=30)
    assert run.exit_code == 0, run.output
    fields = report_fields(run.output)
    measured = int(fields["long"]) - int(fields["short"])
    assert abs(measured - 2 * (LONG - SHORT)) <= TOLERANCE.get(board_name, 0), fields
