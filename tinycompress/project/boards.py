"""The board registry: one ``boards/<name>.toml`` per board, loaded as data.

A board says what the fit check needs (flash, RAM, what the runtime
reserves), how PlatformIO builds for it (platform, board, framework, flags),
which port it uses (UART, latency timer and its unit), for real STM32 boards
the clock tree (checked by stm32clock.py when the board loads), and for
emulated boards how QEMU runs it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tinycompress.errors import BoardError
from tinycompress.project.stm32clock import clock_tree
from tinycompress.resources import DEFAULT_RUNTIME_ARCH, RUNTIME_ARCH_CHAINS, boards_dir

TIMER_UNITS = ("cycles", "instructions", "us")
DEFAULT_BAUD = 115200  # a board file without ``baud``: what every USB-serial bridge can do


@dataclass(frozen=True)
class Emulator:
    """How QEMU runs an emulated board."""

    qemu: str
    machine: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Board:
    """One board of ``boards/``; see that folder for the meaning of each field."""

    name: str
    description: str
    core: str
    arch: str
    clock_hz: int
    flash_bytes: int
    ram_bytes: int
    emulated: bool
    pio_platform: str
    pio_board: str
    pio_framework: str
    cflags: tuple[str, ...]
    libc_flags: tuple[str, ...]
    port_family: str
    uart: str
    timer: str
    timer_unit: str
    stack_bytes: int
    reserved_flash_bytes: int
    reserved_ram_bytes: int
    runtime_arch: str = DEFAULT_RUNTIME_ARCH  # a key of RUNTIME_ARCH_CHAINS
    flash_origin: int | None = None
    ram_origin: int | None = None
    emulator: Emulator | None = None
    port_config: dict[str, Any] = field(default_factory=dict)
    baud: int = DEFAULT_BAUD  # the firmware's UART and the host's serial port; the USB-serial bridge's limit

    @property
    def bare_metal(self) -> bool:
        """True when our startup code and linker script own the chip (no framework)."""
        return not self.pio_framework

    def summary(self) -> dict[str, Any]:
        """The fields ``tinycompress boards --json`` shows."""
        return {
            "name": self.name,
            "description": self.description,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "emulated": self.emulated,
            "platformio": {
                "platform": self.pio_platform,
                "board": self.pio_board,
                "framework": self.pio_framework or None,
            },
            "uart": self.uart,
            "baud": self.baud,
            "timer": self.timer,
            "timer_unit": self.timer_unit,
            "runtime_arch": self.runtime_arch,
            "emulator": self.emulator.machine if self.emulator else None,
        }


def _parse(path: Path) -> Board:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pio, build, port, memory = data["platformio"], data["build"], data["port"], data["memory"]
        emulator = data.get("emulator")
        board = Board(
            name=data["name"],
            description=data["description"],
            core=data["core"],
            arch=data["arch"],
            clock_hz=int(data["clock_hz"]),
            flash_bytes=int(data["flash_bytes"]),
            ram_bytes=int(data["ram_bytes"]),
            emulated=bool(data["emulated"]),
            pio_platform=pio["platform"],
            pio_board=pio["board"],
            pio_framework=pio.get("framework", ""),
            cflags=tuple(build.get("cflags", ())),
            libc_flags=tuple(build.get("libc", ())),
            port_family=port["family"],
            uart=port["uart"],
            timer=port["timer"],
            timer_unit=port["timer_unit"],
            stack_bytes=int(memory["stack_bytes"]),
            reserved_flash_bytes=int(memory["reserved_flash_bytes"]),
            reserved_ram_bytes=int(memory["reserved_ram_bytes"]),
            runtime_arch=build.get("runtime_arch", DEFAULT_RUNTIME_ARCH),
            flash_origin=memory.get("flash_origin"),
            ram_origin=memory.get("ram_origin"),
            emulator=Emulator(emulator["qemu"], emulator["machine"], tuple(emulator.get("args", ())))
            if emulator
            else None,
            port_config=dict(data.get(port["family"], {})),
            baud=int(data.get("baud", DEFAULT_BAUD)),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise BoardError(f"board file {path} is invalid ({type(exc).__name__}: {exc}); fix or remove it") from exc
    if board.name != path.stem:
        raise BoardError(f"board file {path} names itself {board.name!r}; the file name must match")
    if board.baud <= 0:
        raise BoardError(f"board {board.name}: baud {board.baud} is not a positive rate; fix it in {path}")
    if board.timer_unit not in TIMER_UNITS:
        raise BoardError(f"board {board.name}: timer_unit {board.timer_unit!r} is not one of {', '.join(TIMER_UNITS)}")
    if board.emulated and board.emulator is None:
        raise BoardError(f"board {board.name} is emulated but has no [emulator] table")
    if board.runtime_arch not in RUNTIME_ARCH_CHAINS:
        raise BoardError(f"board {board.name}: runtime_arch {board.runtime_arch!r} is not one of "
                         f"{', '.join(sorted(RUNTIME_ARCH_CHAINS))}; fix [build] runtime_arch in {path}")
    if board.port_family == "stm32":  # a clock tree the chip cannot run is refused when the board loads
        clock_tree(board.port_config.get("clock", {}), board.name, lpuart=bool(board.port_config.get("uart_lpuart")),
                   baud=board.baud)
    return board


@cache
def load_boards(directory: Path | None = None) -> dict[str, Board]:
    """All boards of ``directory`` (default: the installed ones), by name, in name order."""
    folder = boards_dir() if directory is None else directory
    boards = [_parse(path) for path in sorted(folder.glob("*.toml"))]
    return {board.name: board for board in boards}


def get_board(name: str) -> Board:
    """The board called ``name``, or a BoardError listing the known ones."""
    boards = load_boards()
    try:
        return boards[name]
    except KeyError:
        raise BoardError(
            f"unknown board {name!r}; known boards: {', '.join(boards)} (see `tinycompress boards`)"
        ) from None
