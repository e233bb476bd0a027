"""Board port families: which firmware/ports/ folders a project gets.

A family is the unit of porting work (one UART driver, one timer, one
startup); boards of a family differ only in data (memory map, pins).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinycompress.errors import BoardError
from tinycompress.resources import ports_dir


@dataclass(frozen=True)
class PortFamily:
    """Folders of firmware/ports/ copied into ``src/port/`` and the linker script."""

    name: str
    folders: tuple[str, ...]
    linker_script: str | None


FAMILIES: dict[str, PortFamily] = {
    family.name: family
    for family in (
        PortFamily("netduinoplus2", ("include", "common", "cortexm", "netduinoplus2"), "tc_cortexm.ld"),
        PortFamily("mps3_an547", ("include", "common", "cortexm", "mps3_an547"), "tc_cortexm.ld"),
        PortFamily("riscv32_virt", ("include", "common", "riscv32_virt"), "tc_riscv.ld"),
        PortFamily("stm32", ("include", "common", "cortexm", "stm32"), "tc_cortexm.ld"),
        PortFamily("esp32", ("include", "esp32"), None),
        PortFamily("host", ("include", "host"), None),
    )
}


def port_family(name: str) -> PortFamily:
    try:
        return FAMILIES[name]
    except KeyError:
        raise BoardError(f"unknown port family {name!r}; known: {', '.join(FAMILIES)}") from None


def port_files(family: PortFamily) -> list[Path]:
    """The port's files (sources, headers, linker scripts), flattened into one folder."""
    files = [path for folder in family.folders for path in sorted((ports_dir() / folder).iterdir()) if path.is_file()]
    names = [path.name for path in files]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise BoardError(f"port {family.name}: file names collide: {', '.join(sorted(duplicates))}")
    return files
