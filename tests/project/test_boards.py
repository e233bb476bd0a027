"""The board registry (boards/*.toml) and the local platform's board manifests."""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.errors import BoardError
from tinycompress.project.boards import get_board, load_boards
from tinycompress.project.ports import FAMILIES
from tinycompress.resources import boards_dir, platform_dir

pytestmark = pytest.mark.host

REQUIRED = {
    "nucleo_l4r5zi": "ststm32", "nucleo_f446re": "ststm32", "disco_f746ng": "ststm32",
    "nucleo_h743zi": "ststm32", "esp32dev": "espressif32", "esp32-s3-devkitc-1": "espressif32",
    "esp32-c3-devkitm-1": "espressif32", "qemu-netduinoplus2": "tinycompress-qemu",
    "qemu-mps3-an547": "tinycompress-qemu", "qemu-riscv32": "tinycompress-qemu",
}
EXPECTED_UNIT = {"ststm32": "cycles", "espressif32": "us", "tinycompress-qemu": "instructions"}


def test_every_required_board_is_defined() -> None:
    boards = load_boards()
    assert set(REQUIRED) <= set(boards)
    for name, platform in REQUIRED.items():
        board = boards[name]
        assert board.pio_platform == platform
        assert board.timer_unit == EXPECTED_UNIT[platform]
        assert board.port_family in FAMILIES
        assert board.flash_bytes > board.reserved_flash_bytes
        assert board.ram_bytes > board.reserved_ram_bytes + board.stack_bytes
        assert board.emulated == (platform == "tinycompress-qemu")


@pytest.mark.parametrize("name", [n for n, p in REQUIRED.items() if p == "tinycompress-qemu"])
def test_platform_manifest_agrees_with_board_file(name: str) -> None:
    board = get_board(name)
    manifest = json.loads((platform_dir() / "boards" / f"{board.pio_board}.json").read_text())
    assert manifest["upload"]["maximum_size"] == board.flash_bytes
    assert manifest["upload"]["maximum_ram_size"] == board.ram_bytes
    assert manifest["build"]["arch"] == board.arch
    assert shlex.split(manifest["build"]["cpu_flags"]) == list(board.cflags)
    assert shlex.split(manifest["build"]["libc_flags"]) == list(board.libc_flags)


# Kernel chain head per core: the DSP extension (M4/M7), Helium (M55), plain C99 for the rest.
RUNTIME_ARCH = {"cortex-m4f": "cortex-m-dsp", "cortex-m7": "cortex-m-dsp", "cortex-m55": "helium",
                "rv32imc": "portable", "lx6": "portable", "lx7": "portable"}


def test_every_board_builds_the_best_kernels_its_core_runs() -> None:
    """RISC-V and Xtensa boards name no runtime_arch, and still get the portable kernels."""
    for name in REQUIRED:
        board = get_board(name)
        assert board.runtime_arch == RUNTIME_ARCH[board.core], name


def test_unknown_runtime_arch_is_refused(tmp_path) -> None:
    text = (boards_dir() / "qemu-riscv32.toml").read_text().replace("[build]\n", '[build]\nruntime_arch = "vax"\n')
    (tmp_path / "qemu-riscv32.toml").write_text(text)
    with pytest.raises(BoardError, match="runtime_arch 'vax' is not one of cortex-m-dsp, helium, portable"):
        load_boards(tmp_path)


def test_unknown_board_names_the_known_ones() -> None:
    with pytest.raises(BoardError, match="unknown board 'nucleo_xyz'.*qemu-netduinoplus2"):
        get_board("nucleo_xyz")


def test_cli_lists_boards_with_sizes() -> None:
    result = CliRunner().invoke(main, ["boards", "--json"])
    assert result.exit_code == 0, result.output
    listed = {entry["name"]: entry for entry in json.loads(result.output)}
    assert set(REQUIRED) <= set(listed)
    assert listed["qemu-netduinoplus2"]["flash_bytes"] == 1_048_576
    assert listed["qemu-netduinoplus2"]["ram_bytes"] == 196_608
    table = CliRunner().invoke(main, ["boards"])
    assert table.exit_code == 0 and "nucleo_l4r5zi" in table.output
