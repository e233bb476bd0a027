"""Flash and RAM a built firmware really uses, read from its ELF sections.

Sections are classed the way a linker map reads: read-only allocated
sections live in flash; initialised writable data lives in RAM and keeps its
initial image in flash; zero-initialised (NOBITS) sections, including the
reserved stack, take RAM only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from tinycompress.errors import ToolError
from tinycompress.project.boards import Board


@dataclass(frozen=True)
class MemoryUsage:
    """Bytes used and free, for flash and RAM, with the per-section sizes."""

    flash_used: int
    flash_total: int
    ram_used: int
    ram_total: int
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def flash_free(self) -> int:
        return self.flash_total - self.flash_used

    @property
    def ram_free(self) -> int:
        return self.ram_total - self.ram_used

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"flash_free": self.flash_free, "ram_free": self.ram_free}


def memory_usage(elf_path: Path, board: Board) -> MemoryUsage:
    """Classify every allocated section of ``elf_path`` into flash and RAM."""
    flash = ram = 0
    sections: dict[str, int] = {}
    try:
        with open(elf_path, "rb") as handle:
            for section in ELFFile(handle).iter_sections():
                flags = section["sh_flags"]
                size = section["sh_size"]
                if not flags & SH_FLAGS.SHF_ALLOC or size == 0:
                    continue
                sections[section.name] = size
                in_file = section["sh_type"] != "SHT_NOBITS"
                if flags & SH_FLAGS.SHF_WRITE:
                    ram += size
                    flash += size if in_file else 0
                else:
                    flash += size
    except (OSError, ELFError) as exc:
        raise ToolError(f"cannot read firmware {elf_path}: {exc}; rebuild with `tinycompress build`") from exc
    return MemoryUsage(flash, board.flash_bytes, ram, board.ram_bytes, sections)
