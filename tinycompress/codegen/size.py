"""Flash and RAM of a generated model on a Cortex-M4, measured by linking it.

The model is linked with ``--gc-sections`` and ``tc_<prefix>_invoke`` as the
entry point, and the runtime built with the model's weight formats
(``-DTC_WEIGHT_FORMATS``, as a generated project builds it), so only the
kernels the model calls and the decode code of its formats are counted:
``text`` is code, ``rodata`` weights and parameters, ``bss`` the arena.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tinycompress.codegen import runtime_include_dirs, runtime_sources
from tinycompress.codegen.build import temporary_dir
from tinycompress.codegen.emit import GeneratedModel
from tinycompress.errors import ToolError

CORTEX_M4 = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")


@dataclass(frozen=True)
class FirmwareSize:
    text: int
    rodata: int
    bss: int


def cortex_m4_size(generated: GeneratedModel, weight_formats: int | None = None) -> FirmwareSize:
    """Link ``generated`` with the runtime for a Cortex-M4 (-Os) and read its sections.

    ``weight_formats``: the runtime's TC_WEIGHT_FORMATS mask, the model's own by default."""
    from elftools.elf.elffile import ELFFile

    formats = generated.weight_formats if weight_formats is None else weight_formats

    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        raise ToolError("arm-none-eabi-gcc not found; install gcc-arm-none-eabi to measure code size")
    with temporary_dir() as tmp:
        work = Path(tmp)
        for name, text in generated.files.items():
            (work / name).write_text(text)
        elf = work / "model.elf"
        cmd = [cc, "-std=c99", "-Wall", "-Wextra", "-Werror", *CORTEX_M4, "-Os",
               f"-DTC_WEIGHT_FORMATS=0x{formats:X}",
               "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections", "-nostartfiles",
               f"-Wl,-e,{generated.prefix}_invoke", "--specs=nosys.specs",
               *(f"-I{d}" for d in (work, *runtime_include_dirs())),
               str(work / "model.c"), *map(str, runtime_sources()), "-o", str(elf)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            raise ToolError(f"the Cortex-M4 link of the generated C failed: {proc.stderr.strip()[:300]}")
        with elf.open("rb") as handle:
            sections = {s.name: s["sh_size"] for s in ELFFile(handle).iter_sections()}
    return FirmwareSize(text=sections.get(".text", 0), rodata=sections.get(".rodata", 0),
                        bss=sections.get(".bss", 0))
