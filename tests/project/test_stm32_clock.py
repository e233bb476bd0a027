"""Real STM32 boards at their rated clock: the clock tree, its register values and the C sequence.

QEMU has no RCC/PLL model, so the clock code is checked here: the board
data against each reference manual's figures (PLL ranges, bus maxima,
flash wait states), the register values against the manuals' field
layouts, and tc_clock_stm32.c itself compiled for the host against fake
register memory that plays the hardware, including a PLL that never locks.

Reference manual figures used below (STMicroelectronics):
- RM0432 (STM32L4+), number of wait states by HCLK: range 1 boost, 5 for
  100 < HCLK <= 120 MHz (20 MHz per wait state).
- RM0390 (STM32F446), number of wait states by HCLK: 2.7-3.6 V, 5 for
  150 < HCLK <= 180 MHz (30 MHz per wait state); 180 MHz needs over-drive.
- RM0385 (STM32F746), number of wait states by HCLK: 2.7-3.6 V, 7 for
  210 < HCLK <= 216 MHz; 216 MHz needs over-drive.
- RM0433 (STM32H743) Table 17, FLASH wait states: VOS1, 2 wait states and WRHIGHFREQ 2
  for an AXI clock of 185-210 MHz; CPU 400 MHz, AXI 200 MHz at VOS1.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tinycompress.errors import BoardError
from tinycompress.project.boards import Board, get_board, load_boards
from tinycompress.project.context import _board_header
from tinycompress.project.render import render_tree
from tinycompress.project.stm32clock import brr, clock_tree, min_wait_states, register_values
from tinycompress.resources import boards_dir, ports_dir, templates_dir

pytestmark = pytest.mark.host

STM32_BOARDS = sorted(name for name, board in load_boards().items() if board.port_family == "stm32")
HERE = Path(__file__).parent
MHZ = 1_000_000

# board -> core, AXI/AHB, PCLK1, PCLK2, UART kernel clock, VCO, wait states, reset clock (Hz)
RATED = {
    "nucleo_l4r5zi": (120 * MHZ, 120 * MHZ, 120 * MHZ, 120 * MHZ, 120 * MHZ, 240 * MHZ, 5, 4 * MHZ),
    "nucleo_f446re": (180 * MHZ, 180 * MHZ, 45 * MHZ, 90 * MHZ, 45 * MHZ, 360 * MHZ, 5, 16 * MHZ),
    "disco_f746ng": (216 * MHZ, 216 * MHZ, 54 * MHZ, 108 * MHZ, 108 * MHZ, 432 * MHZ, 7, 16 * MHZ),
    "nucleo_h743zi": (400 * MHZ, 200 * MHZ, 100 * MHZ, 100 * MHZ, 100 * MHZ, 800 * MHZ, 2, 64 * MHZ),
}


def fields(*pairs: tuple[int, int]) -> int:
    """A register value from (value, lowest bit) pairs, as the manuals lay the fields out."""
    return sum(value << lsb for value, lsb in pairs)


# The registers each board's clock code writes, field by field from the manuals.
REGISTERS = {
    "nucleo_l4r5zi": {  # RM0432 PLLCFGR, FLASH_ACR
        "PLLCFGR": fields((1, 0), (1 - 1, 4), (60, 8), (1, 24), (0, 25)),  # MSI, M=1, N=60, PLLREN, R=2
        "CFGR_PRESCALERS": 0,
        "CFGR_SW_PLL": 3,
        "FLASH_ACR": fields((5, 0), (1, 8), (1, 9), (1, 10)),  # 5 WS, prefetch, I-cache, D-cache
        "BOOST": 1,
    },
    "nucleo_f446re": {  # RM0390 PLLCFGR, CFGR, FLASH_ACR
        "PLLCFGR": fields((8, 0), (180, 6), (0, 16), (0, 22), (8, 24), (2, 28)),  # HSI, M=8, N=180, P=2
        "CFGR_PRESCALERS": fields((0b101, 10), (0b100, 13)),  # APB1 / 4, APB2 / 2
        "CFGR_SW_PLL": 2,
        "FLASH_ACR": fields((5, 0), (1, 8), (1, 9), (1, 10)),
        "VOS": 3,
        "OVERDRIVE": 1,
    },
    "disco_f746ng": {  # RM0385 PLLCFGR, CFGR, FLASH_ACR
        "PLLCFGR": fields((25, 0), (432, 6), (0, 16), (1, 22), (9, 24), (2, 28)),  # HSE 25 MHz, M=25, N=432, P=2
        "CFGR_PRESCALERS": fields((0b101, 10), (0b100, 13)),
        "CFGR_SW_PLL": 2,
        "FLASH_ACR": fields((7, 0), (1, 8), (1, 9)),  # 7 WS, prefetch, ART accelerator
        "VOS": 3,
        "OVERDRIVE": 1,
    },
    "nucleo_h743zi": {  # RM0433 PLLCKSELR/PLLCFGR/PLL1DIVR, DxCFGR, FLASH_ACR
        "PLLCKSELR": fields((2, 0), (4, 4), (32, 12), (32, 20)),  # HSE, DIVM1=4 (DIVM2/3 at reset)
        "PLLCFGR": fields((1, 2), (0x1FF, 16)),  # PLL1RGE 2-4 MHz, wide VCO, DIVxyEN as at reset
        "PLL1DIVR": fields((400 - 1, 0), (2 - 1, 9), (4 - 1, 16), (2 - 1, 24)),
        "D1CFGR": fields((0b1000, 0), (0b100, 4)),  # AXI = CPU / 2, APB3 / 2
        "D2CFGR": fields((0b100, 4), (0b100, 8)),
        "D3CFGR": fields((0b100, 4)),
        "CFGR_SW_PLL": 3,
        "FLASH_ACR": fields((2, 0), (2, 4)),  # 2 WS, WRHIGHFREQ 2
        "VOS": 3,
    },
}


def clock_cfg(board: Board) -> dict[str, Any]:
    return board.port_config["clock"]


@pytest.mark.parametrize("board_name", STM32_BOARDS)
def test_every_real_stm32_board_has_a_rated_clock_tree(board_name: str) -> None:
    assert board_name in RATED, "a new STM32 board needs its reference manual figures here"
    board = get_board(board_name)
    tree = clock_tree(clock_cfg(board), board_name, lpuart=board.port_config["uart_lpuart"], baud=board.baud)
    core, hclk, pclk1, pclk2, uart, vco, wait_states, reset = RATED[board_name]
    assert (tree.core_hz, tree.hclk_hz, tree.pclk1_hz, tree.pclk2_hz) == (core, hclk, pclk1, pclk2)
    assert (tree.uart_hz, tree.vco_hz, tree.reset_hz) == (uart, vco, reset)
    assert tree.flash_latency == tree.min_flash_latency == wait_states
    assert tree.core_hz == board.clock_hz, "the board's nominal clock is the one the port sets up"


@pytest.mark.parametrize("board_name", STM32_BOARDS)
def test_register_values_follow_the_reference_manual_layouts(board_name: str) -> None:
    board = get_board(board_name)
    cfg = clock_cfg(board)
    tree = clock_tree(cfg, board_name, lpuart=board.port_config["uart_lpuart"], baud=board.baud)
    values = dict(register_values(cfg, tree))
    expected = REGISTERS[board_name]
    assert {name: values[name] for name in expected} == expected


@pytest.mark.parametrize(("hclk", "per_state", "wait_states"), [
    (80 * MHZ, 20 * MHZ, 3), (80 * MHZ + 1, 20 * MHZ, 4), (120 * MHZ, 20 * MHZ, 5),  # RM0432
    (150 * MHZ, 30 * MHZ, 4), (180 * MHZ, 30 * MHZ, 5), (216 * MHZ, 30 * MHZ, 7),  # RM0390 / RM0385
    (70 * MHZ, 70 * MHZ, 0), (200 * MHZ, 70 * MHZ, 2),  # RM0433 Table 17, VOS1
])
def test_wait_state_bands(hclk: int, per_state: int, wait_states: int) -> None:
    assert min_wait_states(hclk, per_state) == wait_states


@pytest.mark.parametrize(("board_name", "change", "message"), [
    ("nucleo_l4r5zi", {"flash_latency": 4}, "needs at least 5"),
    ("nucleo_l4r5zi", {"voltage": "range1_normal"}, "exceed what range1_normal allows"),
    ("nucleo_l4r5zi", {"pll_n": 100}, "VCO 400 MHz is outside 64-344 MHz"),
    ("nucleo_f446re", {"voltage": "scale1"}, "exceed what scale1 allows"),
    ("nucleo_f446re", {"apb1_div": 2}, "pclk1 90 MHz exceeds 45 MHz"),
    ("disco_f746ng", {"flash_latency": 6}, "needs at least 7"),
    ("nucleo_h743zi", {"ahb_div": 1}, "400 MHz bus exceed"),
    ("nucleo_h743zi", {"pll_m": 16}, "PLL input 0.5 MHz is outside"),
])
def test_a_clock_tree_the_chip_cannot_run_is_refused(board_name: str, change: dict[str, Any], message: str) -> None:
    board = get_board(board_name)
    cfg = {**copy.deepcopy(clock_cfg(board)), **change}
    with pytest.raises(BoardError, match=re.escape(message)):
        clock_tree(cfg, board_name, lpuart=board.port_config["uart_lpuart"], baud=board.baud)


def test_board_file_with_a_clock_the_chip_cannot_run_does_not_load(tmp_path: Path) -> None:
    text = (boards_dir() / "nucleo_f446re.toml").read_text()
    assert "flash_latency = 5" in text
    (tmp_path / "nucleo_f446re.toml").write_text(text.replace("flash_latency = 5", "flash_latency = 3"))
    with pytest.raises(BoardError, match="flash_latency 3 does not fit 180 MHz"):
        load_boards(tmp_path)


# board -> UART BRR for 115200 baud at the rated clock, at the reset clock.
# LPUART (L4R5ZI): 256 x f / baud (RM0432); USART, 16x oversampling: f / baud.
BRR = {
    "nucleo_l4r5zi": (266_667, 8_889),  # 120 MHz PCLK1, 4 MHz MSI
    "nucleo_f446re": (391, 139),  # 45 MHz PCLK1, 16 MHz HSI
    "disco_f746ng": (938, 139),  # 108 MHz PCLK2, 16 MHz HSI
    "nucleo_h743zi": (868, 556),  # 100 MHz PCLK1, 64 MHz HSI
}


@pytest.mark.parametrize("board_name", STM32_BOARDS)
def test_baud_divisor_follows_the_clock(board_name: str) -> None:
    board = get_board(board_name)
    tree = clock_tree(clock_cfg(board), board_name, lpuart=board.port_config["uart_lpuart"], baud=board.baud)
    lpuart = board.port_config["uart_lpuart"]
    at_115200 = brr(tree.uart_hz, lpuart=lpuart, baud=115_200), brr(tree.reset_hz, lpuart=lpuart, baud=115_200)
    assert at_115200 == BRR[board_name]


def test_a_baud_the_uart_cannot_make_at_the_reset_clock_is_refused() -> None:
    """The fallback must keep the console: at 4 MHz MSI the LPUART cannot make 2 Mbaud (BRR below 0x300)."""
    board = get_board("nucleo_l4r5zi")
    with pytest.raises(BoardError, match="a 4 MHz UART clock cannot make 2000000 baud"):
        clock_tree(clock_cfg(board), board.name, lpuart=True, baud=2_000_000)


# ---- the C sequence against fake registers ---------------------------------------------

WAIT_LOOPS = int(re.search(r"#define TC_STM32_CLOCK_WAIT_LOOPS (\d+)u",
                           (ports_dir() / "stm32" / "tc_clock_stm32.h").read_text())[1])

# family -> RCC_CFGR offset, SWS shift, FLASH_ACR, reset values to preload {address: value}
FAMILY = {
    "l4": (0x08, 2, 0x4002_2000, {0x4000_7000: 0x200, 0x4000_7080: 0x100}),  # PWR_CR1 range 1, CR5 R1MODE
    "f4": (0x08, 2, 0x4002_3C00, {}),
    "f7": (0x08, 2, 0x4002_3C00, {}),
    "h7": (0x10, 3, 0x5200_2000, {0x5200_2000: 0x37, 0x5802_480C: 0x46, 0x5802_4818: 0x4000}),
}
PLLON, HSEON = 1 << 24, 1 << 16


@pytest.fixture(scope="module")
def fake_clock_binary(tmp_path_factory: pytest.TempPathFactory):
    """Build (once per board) tc_clock_stm32.c + the fake register harness for the host."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no host C compiler")
    built: dict[str, Path] = {}

    def build(board_name: str) -> Path:
        if board_name in built:
            return built[board_name]
        board = get_board(board_name)
        work = tmp_path_factory.mktemp(board_name)
        shutil.copy(templates_dir() / "src" / "port" / "tc_board.h.j2", work / "tc_board.h.j2")
        render_tree(work / "include", {"board_header": _board_header(board), "generator": "test",
                                       "board": {"name": board.name}}, templates=work)
        exe = work / "clock"
        result = subprocess.run(
            [cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{work / 'include'}",
             f"-I{ports_dir() / 'stm32'}", f"-I{HERE}", "-include", "stm32_fake_regs.h",
             str(ports_dir() / "stm32" / "tc_clock_stm32.c"), str(HERE / "stm32_fake_regs.c"), "-o", str(exe)],
            capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        built[board_name] = exe
        return exe

    return build


def run_clock(exe: Path, family: str, mode: str) -> tuple[list[tuple[int, int]], tuple[int, int, int], int]:
    """Writes in order, (core_hz, uart_hz, UART BRR) returned, register accesses made."""
    preload = [f"{address:#x}={value:#x}" for address, value in FAMILY[family][3].items()]
    out = subprocess.run([str(exe), mode, *preload], capture_output=True, text=True, check=True, timeout=60).stdout
    writes = [(int(a, 16), int(v, 16)) for a, v in re.findall(r"^W (\w+) (\w+)$", out, flags=re.M)]
    core, uart = map(int, re.search(r"^R (\d+) (\d+)$", out, flags=re.M).groups())
    baud_divisor = int(re.search(r"^B (\d+)$", out, flags=re.M)[1])
    return writes, (core, uart, baud_divisor), int(re.search(r"^N (\d+)$", out, flags=re.M)[1])


def first(writes: list[tuple[int, int]], address: int, test: Callable[[int], object] | None = None) -> int:
    """Index of the first write to ``address`` whose value passes ``test`` (default: any write)."""
    return next(i for i, (a, v) in enumerate(writes) if a == address and (test is None or test(v)))


@pytest.mark.parametrize("board_name", STM32_BOARDS)
def test_clock_sequence_reaches_the_rated_clock(board_name: str, fake_clock_binary) -> None:
    board = get_board(board_name)
    family = clock_cfg(board)["family"]
    rcc = board.port_config["rcc_base"]
    cfgr_offset, sws_shift, flash_acr, _ = FAMILY[family]
    cfgr, rcc_cr = rcc + cfgr_offset, rcc
    regs = REGISTERS[board_name]
    writes, clocks, _ = run_clock(fake_clock_binary(board_name), family, "ok")
    core, _, _, _, uart, _, _, _ = RATED[board_name]
    assert clocks == (core, uart, brr(uart, lpuart=board.port_config["uart_lpuart"], baud=board.baud))
    assert [v for a, v in writes if a == flash_acr][-1] == regs["FLASH_ACR"]
    switch = first(writes, cfgr, lambda v: v & ((1 << sws_shift) - 1) == regs["CFGR_SW_PLL"])
    pll_on = first(writes, rcc_cr, lambda v: v & PLLON)
    latency_set = first(writes, flash_acr, lambda v: v == regs["FLASH_ACR"])
    assert pll_on < switch
    if family == "h7":  # 7 wait states at reset: lowered only once the new clock runs
        assert latency_set > switch
        assert first(writes, 0x5802_4818, lambda v: (v >> 14) & 3 == 3) < pll_on  # VOS1 first
        assert writes[first(writes, rcc + 0x18)][1] == regs["D1CFGR"] and first(writes, rcc + 0x18) < switch
    else:  # raised before the faster clock
        assert latency_set < switch
        assert [v for a, v in writes if a == cfgr][-1] == regs["CFGR_PRESCALERS"] | regs["CFGR_SW_PLL"]
    if family == "l4":  # boost mode before the PLL; AHB / 2 across the switch, then / 1
        assert first(writes, 0x4000_7080, lambda v: not v & (1 << 8)) < pll_on
        assert writes[switch][1] & (0xF << 4) == 0b1000 << 4
    if family in ("f4", "f7"):  # over-drive switched in before the switch
        assert first(writes, 0x4000_7000, lambda v: v & (1 << 17)) < switch


@pytest.mark.parametrize("mode", ["no_pll", "no_switch", "dead"])
@pytest.mark.parametrize("board_name", STM32_BOARDS)
def test_clock_falls_back_to_the_reset_clock_within_the_bound(board_name: str, mode: str,
                                                                fake_clock_binary) -> None:
    board = get_board(board_name)
    family = clock_cfg(board)["family"]
    rcc = board.port_config["rcc_base"]
    cfgr = rcc + FAMILY[family][0]
    writes, clocks, accesses = run_clock(fake_clock_binary(board_name), family, mode)
    reset = RATED[board_name][7]
    divisor = brr(reset, lpuart=board.port_config["uart_lpuart"], baud=board.baud)
    assert clocks == (reset, reset, divisor), "the UART divisor follows the clock that runs"
    # one wait ran out (at least the bound), and no wait ran longer than the bound
    assert WAIT_LOOPS <= accesses <= 2 * WAIT_LOOPS + 200
    cr = [v for a, v in writes if a == rcc]
    assert not cr or not cr[-1] & (PLLON | HSEON), "the PLL and HSE are switched off again"
    cfgr_writes = [v for a, v in writes if a == cfgr]
    if mode == "no_switch":
        assert cfgr_writes[-1] == 0, "back on the reset clock with every prescaler at 1"
        if family == "h7":
            assert [v for a, v in writes if a == rcc + 0x18][-1] == 0
    else:
        assert not cfgr_writes, "never switched"
