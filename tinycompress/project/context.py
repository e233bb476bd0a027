"""The one template context of a generated project, built in one place.

Every value a template in ``templates/`` reads comes from
:func:`build_context`; templates hold layout, this module holds decisions.
"""

from __future__ import annotations

import shlex
from typing import Any

from tinycompress import __version__
from tinycompress.errors import InputError
from tinycompress.project.boards import Board
from tinycompress.project.fit import estimate_fit
from tinycompress.project.model import ModelSources
from tinycompress.project.pio import PLATFORM_COPY, TOOLS_DIR, toolchain_package
from tinycompress.project.ports import port_family
from tinycompress.project.qemu import qemu_base_command
from tinycompress.project.stm32clock import board_header_pairs

# The source .tflite, kept in the project so profile can use it as the reference.
MODEL_FILE = "model.tflite"
INCLUDE_DIRS = ("src/port", "src/runtime/include", "src/model")
COMMON_FLAGS = ("-O2", "-Wall", "-Wextra")
# The application main.c runs: the serial protocol server (for `profile`),
# or a self-test that runs the model once on a built-in input and exits.
APPS = ("protocol", "selftest")
# The protocol server calls the generated API by its default prefix.
PROTOCOL_PREFIX = "tc_model"


def weight_formats_define(model: ModelSources) -> str:
    """``TC_WEIGHT_FORMATS=<mask>``: the runtime links only the weight formats the model uses."""
    return f"TC_WEIGHT_FORMATS=0x{model.weight_formats:X}"


def _pio(board: Board, app: str, model: ModelSources) -> dict[str, Any]:
    family = port_family(board.port_family)
    flags = [*COMMON_FLAGS, *(f"-I{d}" for d in INCLUDE_DIRS), f"-D{weight_formats_define(model)}"]
    if app == "protocol":
        flags.append("-DTC_PROFILE_LAYERS")  # per-layer counts for LAYER_PROFILE
    ldscript = None
    if board.bare_metal and family.linker_script:
        ldscript = f"src/port/{family.linker_script}"
        flags.append("-Lsrc/port")
    link_flags: list[str] = []
    if ldscript and not board.emulated:
        # ststm32's bare-metal build sets only -mcpu; the FPU ABI, C library and
        # startup choice must match between compiling and linking.
        flags += [*board.cflags, *board.libc_flags]
        link_flags = [*board.cflags, *board.libc_flags, "-nostartfiles"]
    if board.emulated:
        package = toolchain_package(board)
        platform = f"symlink://{TOOLS_DIR}/{PLATFORM_COPY}"
        packages = [f"{package} @ symlink://{TOOLS_DIR}/{package}"]
    else:
        platform, packages = board.pio_platform, []
    return {
        "env": board.name,
        "platform": platform,
        "board": board.pio_board,
        "framework": board.pio_framework,
        "platform_packages": packages,
        "ldscript": ldscript,
        "build_flags": flags,
        "link_flags": link_flags,
        "extra_scripts": ["post:extra_script.py"] if link_flags else [],
        "upload_protocol": "qemu" if board.emulated else "",
        "qemu_args": shlex.join(qemu_base_command(board)) if board.emulated else "",
    }


# Port families whose sources include a generated tc_board.h.
BOARD_HEADER_FAMILIES = ("stm32", "esp32")


def _board_header(board: Board) -> list[tuple[str, str]] | None:
    """``#define TC_BOARD_<NAME> <value>`` pairs for tc_board.h (the UART's baud rate, the STM32 register map)."""
    if board.port_family not in BOARD_HEADER_FAMILIES:
        return None
    baud = [("UART_BAUD", f"{board.baud}u")]
    if board.port_family != "stm32":
        return baud
    cfg = board.port_config
    pairs = baud + [
        ("UART_BASE", f"0x{cfg['uart_base']:08X}u"),
        ("UART_REGS_V2", "1" if cfg["uart_regs"] == "v2" else "0"),
        ("UART_LPUART", "1" if cfg["uart_lpuart"] else "0"),
        ("RCC_BASE", f"0x{cfg['rcc_base']:08X}u"),
        ("DWT_UNLOCK", "1" if cfg["dwt_unlock"] else "0"),
    ]
    for key in ("uart_enable", "gpio_enable", "gpio_enable2", "pwr_enable"):
        if key in cfg:
            offset, bit = cfg[key]
            pairs += [(f"{key.upper()}_OFFSET", f"0x{offset:X}u"), (f"{key.upper()}_BIT", f"{bit}u")]
    if "pwr_iosv" in cfg:
        address, bit = cfg["pwr_iosv"]
        pairs += [("PWR_IOSV_ADDR", f"0x{address:08X}u"), ("PWR_IOSV_BIT", f"{bit}u")]
    for key in ("tx", "rx"):
        gpio, pin, af = cfg[key]
        name = key.upper()
        pairs += [(f"{name}_GPIO", f"0x{gpio:08X}u"), (f"{name}_PIN", f"{pin}u"), (f"{name}_AF", f"{af}u")]
    return pairs + board_header_pairs(cfg.get("clock", {}), board.name, lpuart=bool(cfg["uart_lpuart"]),
                                      baud=board.baud)


def _partitions(board: Board, model: ModelSources) -> dict[str, Any] | None:
    """The app partition the fit check chose (ESP-IDF boards); a generated one is written as partitions.csv."""
    partition = estimate_fit(board, weights_bytes=model.weights_bytes, arena_bytes=model.arena_bytes).app_partition
    if partition is None:
        return None
    return {
        "table": partition.table,
        "generated": partition.generated,
        "offset": f"0x{partition.offset:X}",
        "size": f"0x{partition.size:X}",
        "size_bytes": partition.size,
        "flash_size": f"{board.flash_bytes // (1 << 20)}MB",
    }


def build_context(board: Board, model: ModelSources, *, seed: int, app: str = "protocol") -> dict[str, Any]:
    """Everything the templates see."""
    if app not in APPS:
        raise InputError(f"unknown application {app!r}; choose one of {', '.join(APPS)}")
    if app == "protocol" and model.prefix != PROTOCOL_PREFIX:
        raise InputError(
            f"the protocol application calls the model as {PROTOCOL_PREFIX}_*, this model uses prefix "
            f"{model.prefix!r}; generate it with the default prefix or export the selftest application"
        )
    memory = None
    if board.bare_metal and board.flash_origin is not None and board.ram_origin is not None:
        memory = {
            "flash_origin": board.flash_origin,
            "flash_bytes": board.flash_bytes,
            "ram_origin": board.ram_origin,
            "ram_bytes": board.ram_bytes,
            "stack_bytes": board.stack_bytes,
        }
    return {
        "generator": f"tinycompress {__version__}",
        "board": {
            "name": board.name,
            "description": board.description,
            "emulated": board.emulated,
            "flash_bytes": board.flash_bytes,
            "ram_bytes": board.ram_bytes,
            "uart": board.uart,
            "baud": board.baud,
            "timer": board.timer,
            "timer_unit": board.timer_unit,
        },
        "model": {
            "name": model.name,
            "sha256": model.sha256,
            "prefix": model.prefix,
            "PREFIX": model.prefix.upper(),
            "header": model.header(),
            "arena_bytes": model.arena_bytes,
            "weights_bytes": model.weights_bytes,
            "num_layers": model.num_layers,
            "weight_formats_define": weight_formats_define(model),
            "tflite": MODEL_FILE,
        },
        "app": {"seed": seed, "mode": app},
        "pio": _pio(board, app, model),
        "memory": memory,
        "board_header": _board_header(board),
        "partitions": _partitions(board, model),
    }
