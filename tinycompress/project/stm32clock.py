"""The clock tree of a real STM32 board: checked against its reference manual, turned into register values.

A board's ``[stm32.clock]`` table gives the parameters (source, PLL
dividers, bus prescalers, voltage scaling, flash wait states). This module
computes the frequencies they give, refuses a tree the chip cannot run
(PLL ranges, bus maxima, too few wait states for the voltage), and encodes
the register values ``firmware/ports/stm32/tc_clock_stm32.c`` writes, so
that every figure is checked here on the host where a test can see it.
QEMU has no RCC model, so this is where the clock code is verified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tinycompress.errors import BoardError

# AHB (HPRE) and APB (PPRE) prescaler encodings, the same in every family
# used here (RM0432, RM0390, RM0385, RM0433).
_HPRE = {1: 0b0000, 2: 0b1000, 4: 0b1001, 8: 0b1010, 16: 0b1011, 64: 0b1100, 128: 0b1101, 256: 0b1110,
         512: 0b1111}
_PPRE = {1: 0b000, 2: 0b100, 4: 0b101, 8: 0b110, 16: 0b111}


@dataclass(frozen=True)
class FamilyLimits:
    """What one STM32 family's PLL, buses and flash accept (the reference manual named in ``manual``)."""

    manual: str
    sources: tuple[str, ...]
    pll_m: tuple[int, int]
    pll_n: tuple[int, int]
    vco_in_hz: tuple[float, float]
    vco_out_hz: tuple[float, float]
    sysclk_output: str  # which PLL output drives SYSCLK: "p" or "r"
    # voltage setting -> (max HCLK, HCLK per flash wait state, max core clock)
    voltages: dict[str, tuple[int, int, int]]
    max_pclk: dict[str, int]
    max_latency: int


FAMILIES: dict[str, FamilyLimits] = {
    # RM0432 (STM32L4+): PLL (VCO in 2.66-16 MHz, out 64-344 MHz, N 8-127, M 1-16); the table
    # "number of wait states according to CPU clock (HCLK) frequency": range 1, 20 MHz per
    # wait state, 5 WS up to 120 MHz in range 1 boost; range 1 normal mode stops at 80 MHz.
    "l4": FamilyLimits("RM0432", ("msi", "hsi", "hse", "hse_bypass"), (1, 16), (8, 127), (2.66e6, 16e6),
                       (64e6, 344e6), "r",
                       {"range1_boost": (120_000_000, 20_000_000, 120_000_000),
                        "range1_normal": (80_000_000, 20_000_000, 80_000_000)},
                       {"pclk1": 120_000_000, "pclk2": 120_000_000}, 15),
    # RM0390 (STM32F446): PLL (VCO in 1-2 MHz, out 100-432 MHz, N 50-432, M 2-63); the wait
    # state table at 2.7-3.6 V: 30 MHz per wait state, 5 WS for 150-180 MHz; 180 MHz needs
    # scale 1 with over-drive, 168 MHz without.
    "f4": FamilyLimits("RM0390", ("hsi", "hse", "hse_bypass"), (2, 63), (50, 432), (1e6, 2e6),
                       (100e6, 432e6), "p",
                       {"scale1_overdrive": (180_000_000, 30_000_000, 180_000_000),
                        "scale1": (168_000_000, 30_000_000, 168_000_000)},
                       {"pclk1": 45_000_000, "pclk2": 90_000_000}, 15),
    # RM0385 (STM32F746): PLL (VCO in 1-2 MHz, out 100-432 MHz); the wait state table at
    # 2.7-3.6 V: 30 MHz per wait state, 7 WS for 210-216 MHz; 216 MHz needs scale 1 with
    # over-drive, 180 MHz without.
    "f7": FamilyLimits("RM0385", ("hsi", "hse", "hse_bypass"), (2, 63), (50, 432), (1e6, 2e6),
                       (100e6, 432e6), "p",
                       {"scale1_overdrive": (216_000_000, 30_000_000, 216_000_000),
                        "scale1": (180_000_000, 30_000_000, 180_000_000)},
                       {"pclk1": 54_000_000, "pclk2": 108_000_000}, 15),
    # RM0433 (STM32H743): PLL (ref 1-16 MHz, wide VCO 192-836 MHz, N 4-512, M 1-63); wait
    # states from Table 17 ("FLASH recommended number of wait states and programming
    # delay"), by AXI clock (HCLK): VOS1, 70 MHz per wait state,
    # 2 WS up to 210 MHz; the CPU runs up to 400 MHz and the AXI bus up to 200 MHz at VOS1.
    "h7": FamilyLimits("RM0433", ("hsi", "hse", "hse_bypass"), (1, 63), (4, 512), (1e6, 16e6),
                       (192e6, 836e6), "p",
                       {"vos1": (200_000_000, 70_000_000, 400_000_000)},
                       {"pclk1": 100_000_000, "pclk2": 100_000_000}, 7),
}

# LPUART BRR must be at least 0x300 and below 2^20 (RM0432); USART BRR
# (16x oversampling) at least 16 and below 2^16.


@dataclass(frozen=True)
class ClockTree:
    """The frequencies a clock configuration gives, and the fallback (reset) ones."""

    family: str
    vco_in_hz: float
    vco_hz: float
    sysclk_hz: int
    core_hz: int
    hclk_hz: int
    pclk1_hz: int
    pclk2_hz: int
    uart_hz: int
    flash_latency: int
    min_flash_latency: int
    reset_hz: int


def _pick(cfg: dict[str, Any], key: str, board: str) -> Any:
    try:
        return cfg[key]
    except KeyError:
        raise BoardError(f"board {board}: [stm32.clock] has no {key!r}; add it (see boards/nucleo_l4r5zi.toml)") from None


def _within(value: float, bounds: tuple[float, float], what: str, board: str, manual: str) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise BoardError(f"board {board}: {what} {value / 1e6:g} MHz is outside {low / 1e6:g}-{high / 1e6:g} MHz "
                         f"({manual}); change the PLL dividers in [stm32.clock]")


def min_wait_states(hclk_hz: int, hz_per_wait_state: int) -> int:
    """Fewest flash wait states for ``hclk_hz``: one per started ``hz_per_wait_state`` band, minus one."""
    return max(0, math.ceil(hclk_hz / hz_per_wait_state) - 1)


def clock_tree(cfg: dict[str, Any], board: str, *, lpuart: bool, baud: int) -> ClockTree:
    """The checked clock tree of a board's ``[stm32.clock]`` table; BoardError naming the broken limit.

    ``lpuart`` and ``baud`` describe the console UART, whose divisor must fit
    its register at the rated clock and at the reset clock alike.
    """
    family = _pick(cfg, "family", board)
    if family not in FAMILIES:
        raise BoardError(f"board {board}: clock family {family!r} is not one of {', '.join(FAMILIES)}")
    limits = FAMILIES[family]
    source = _pick(cfg, "source", board)
    if source not in limits.sources:
        raise BoardError(f"board {board}: clock source {source!r} is not one of {', '.join(limits.sources)}")
    m, n = int(_pick(cfg, "pll_m", board)), int(_pick(cfg, "pll_n", board))
    for name, value, (low, high) in (("pll_m", m, limits.pll_m), ("pll_n", n, limits.pll_n)):
        if not low <= value <= high:
            raise BoardError(f"board {board}: {name} {value} is outside {low}-{high} ({limits.manual})")
    out_div = int(_pick(cfg, f"pll_{limits.sysclk_output}", board))
    if out_div not in ((2, 4, 6, 8) if family != "h7" else range(2, 129, 2)):
        raise BoardError(f"board {board}: pll_{limits.sysclk_output} {out_div} is not a divider the PLL has")
    vco_in = int(_pick(cfg, "source_hz", board)) / m
    _within(vco_in, limits.vco_in_hz, "PLL input", board, limits.manual)
    vco = vco_in * n
    _within(vco, limits.vco_out_hz, "VCO", board, limits.manual)
    sysclk = int(vco / out_div)
    voltage = _pick(cfg, "voltage", board)
    if voltage not in limits.voltages:
        raise BoardError(f"board {board}: voltage {voltage!r} is not one of {', '.join(limits.voltages)}")
    max_hclk, hz_per_ws, max_core = limits.voltages[voltage]
    ahb = int(_pick(cfg, "ahb_div", board))
    if ahb not in _HPRE:
        raise BoardError(f"board {board}: ahb_div {ahb} is not one of {sorted(_HPRE)}")
    # On the H7 the CPU runs at SYSCLK (D1CPRE = 1) and ahb_div divides it down to the AXI bus.
    core = sysclk if family == "h7" else sysclk // ahb
    hclk = sysclk // ahb
    if core > max_core or hclk > max_hclk:
        raise BoardError(f"board {board}: {core / 1e6:g} MHz core, {hclk / 1e6:g} MHz bus exceed what {voltage} "
                         f"allows ({max_core / 1e6:g} / {max_hclk / 1e6:g} MHz, {limits.manual})")
    pclk = {}
    for bus in ("pclk1", "pclk2"):
        div = int(_pick(cfg, f"apb{bus[-1]}_div", board))
        if div not in _PPRE:
            raise BoardError(f"board {board}: apb{bus[-1]}_div {div} is not one of {sorted(_PPRE)}")
        pclk[bus] = hclk // div
        if pclk[bus] > limits.max_pclk[bus]:
            raise BoardError(f"board {board}: {bus} {pclk[bus] / 1e6:g} MHz exceeds "
                             f"{limits.max_pclk[bus] / 1e6:g} MHz ({limits.manual}); raise apb{bus[-1]}_div")
    latency = int(_pick(cfg, "flash_latency", board))
    needed = min_wait_states(hclk, hz_per_ws)
    if not needed <= latency <= limits.max_latency:
        raise BoardError(f"board {board}: flash_latency {latency} does not fit {hclk / 1e6:g} MHz at {voltage}: "
                         f"{limits.manual} needs at least {needed}; set flash_latency = {needed}")
    uart_clock = _pick(cfg, "uart_clock", board)
    if uart_clock not in pclk:
        raise BoardError(f"board {board}: uart_clock {uart_clock!r} is not one of {', '.join(pclk)}")
    reset_hz = int(_pick(cfg, "reset_hz", board))
    for hz in (pclk[uart_clock], reset_hz):
        _check_baud(hz, lpuart, baud, board)
    return ClockTree(family, vco_in, vco, sysclk, core, hclk, pclk["pclk1"], pclk["pclk2"], pclk[uart_clock],
                     latency, needed, reset_hz)


def brr(uart_hz: int, *, lpuart: bool, baud: int) -> int:
    """The UART baud rate register value for ``uart_hz`` (LPUART: 256 x f / baud; USART: f / baud, rounded)."""
    return (uart_hz * 256 + baud // 2) // baud if lpuart else (uart_hz + baud // 2) // baud


def _check_baud(uart_hz: int, lpuart: bool, baud: int, board: str) -> None:
    value = brr(uart_hz, lpuart=lpuart, baud=baud)
    low, high = (0x300, 1 << 20) if lpuart else (16, 1 << 16)
    if not low <= value < high:
        raise BoardError(f"board {board}: a {uart_hz / 1e6:g} MHz UART clock cannot make {baud} baud "
                         f"(BRR {value:#x}); change the UART's bus prescaler")


def register_values(cfg: dict[str, Any], tree: ClockTree) -> list[tuple[str, int]]:
    """``(name, value)`` of every register field the C clock code writes, for tc_board.h."""
    family = tree.family
    source = cfg["source"]
    hpre, ppre1, ppre2 = _HPRE[cfg["ahb_div"]], _PPRE[cfg["apb1_div"]], _PPRE[cfg["apb2_div"]]
    m, n = cfg["pll_m"], cfg["pll_n"]
    values = [("HSE", int(source.startswith("hse"))), ("HSE_BYPASS", int(source == "hse_bypass"))]
    if family == "l4":
        # RM0432 RCC_PLLCFGR: PLLSRC[1:0] (1 MSI, 2 HSI16, 3 HSE), PLLM[7:4] = M-1,
        # PLLN[14:8], PLLREN bit 24, PLLR[26:25] = R/2-1; P and Q outputs stay off.
        src = {"msi": 1, "hsi": 2, "hse": 3, "hse_bypass": 3}[source]
        values += [
            ("PLLCFGR", src | (m - 1) << 4 | n << 8 | 1 << 24 | (cfg["pll_r"] // 2 - 1) << 25),
            ("CFGR_PRESCALERS", hpre << 4 | ppre1 << 8 | ppre2 << 11),  # RCC_CFGR
            ("CFGR_SW_PLL", 3),
            # FLASH_ACR: LATENCY[3:0], PRFTEN bit 8, ICEN bit 9, DCEN bit 10.
            ("FLASH_ACR", tree.flash_latency | 1 << 8 | 1 << 9 | 1 << 10),
            ("BOOST", int(cfg["voltage"] == "range1_boost")),
        ]
    elif family in ("f4", "f7"):
        # RM0390 / RM0385 RCC_PLLCFGR: PLLM[5:0], PLLN[14:6], PLLP[17:16] = P/2-1,
        # PLLSRC bit 22 (1 = HSE), PLLQ[27:24], PLLR[30:28] (F446; reserved at its reset value 2 on the F746).
        pll_r = cfg.get("pll_r", 2)
        values += [
            ("PLLCFGR", m | n << 6 | (cfg["pll_p"] // 2 - 1) << 16 | int(source.startswith("hse")) << 22
             | cfg["pll_q"] << 24 | pll_r << 28),
            ("CFGR_PRESCALERS", hpre << 4 | ppre1 << 10 | ppre2 << 13),  # RCC_CFGR HPRE, PPRE1, PPRE2
            ("CFGR_SW_PLL", 2),
            # FLASH_ACR: LATENCY[3:0], PRFTEN bit 8; F4: ICEN bit 9, DCEN bit 10; F7: ARTEN bit 9.
            ("FLASH_ACR", tree.flash_latency | 1 << 8 | (1 << 9 | 1 << 10 if family == "f4" else 1 << 9)),
            ("VOS", 3),  # PWR_CR VOS[15:14] = 11: scale 1
            ("OVERDRIVE", int(cfg["voltage"] == "scale1_overdrive")),
        ]
    else:
        # RM0433 RCC_PLLCKSELR: PLLSRC[1:0] (0 HSI, 2 HSE), DIVM1[9:4]; DIVM2/3 keep their reset 32.
        # RCC_PLLCFGR: PLL1RGE[3:2] by reference clock, PLL1VCOSEL 0 (wide), every DIVxyEN
        # kept set as at reset. RCC_PLL1DIVR: DIVN1 = N-1, DIVP1 = P-1, DIVQ1 = Q-1, DIVR1 = R-1.
        ref_range = sum(tree.vco_in_hz >= edge for edge in (2e6, 4e6, 8e6))  # 1-2, 2-4, 4-8, 8-16 MHz
        values += [
            ("PLLCKSELR", (2 if source.startswith("hse") else 0) | m << 4 | 32 << 12 | 32 << 20),
            ("PLLCFGR", ref_range << 2 | 0x1FF << 16),
            ("PLL1DIVR", (n - 1) | (cfg["pll_p"] - 1) << 9 | (cfg["pll_q"] - 1) << 16 | (cfg["pll_r"] - 1) << 24),
            # RCC_D1CFGR HPRE[3:0], D1PPRE[6:4], D1CPRE[11:8] = 0 (CPU at SYSCLK);
            # D2CFGR D2PPRE1[6:4], D2PPRE2[10:8]; D3CFGR D3PPRE[6:4].
            ("D1CFGR", hpre | _PPRE[cfg["apb3_div"]] << 4),
            ("D2CFGR", ppre1 << 4 | ppre2 << 8),
            ("D3CFGR", _PPRE[cfg["apb4_div"]] << 4),
            ("CFGR_SW_PLL", 3),
            # FLASH_ACR: LATENCY[3:0], WRHIGHFREQ[5:4] (Table 17 at VOS1: 0 up to 70 MHz AXI,
            # 1 up to 185 MHz, 2 above).
            ("FLASH_ACR", tree.flash_latency | _wrhighfreq(tree.hclk_hz) << 4),
            ("VOS", 3),  # PWR_D3CR VOS[15:14] = 11: VOS1
        ]
    return values


def _wrhighfreq(axi_hz: int) -> int:
    return 0 if axi_hz <= 70_000_000 else 1 if axi_hz <= 185_000_000 else 2


def board_header_pairs(cfg: dict[str, Any], board: str, *, lpuart: bool, baud: int) -> list[tuple[str, str]]:
    """The ``TC_BOARD_CLOCK_*`` defines of tc_board.h: family, frequencies, register values."""
    tree = clock_tree(cfg, board, lpuart=lpuart, baud=baud)
    pairs = [
        (f"CLOCK_FAMILY_{tree.family.upper()}", "1"),
        ("CLOCK_CORE_HZ", f"{tree.core_hz}u"),
        ("CLOCK_UART_HZ", f"{tree.uart_hz}u"),
        ("CLOCK_RESET_HZ", f"{tree.reset_hz}u"),
    ]
    pairs += [(f"CLOCK_{name}", f"0x{value:08X}u" if value > 0xF else f"{value}u")
              for name, value in register_values(cfg, tree)]
    return pairs
