"""Compile a verified IR into C for the tinycompress runtime (firmware/runtime)."""

from __future__ import annotations

from pathlib import Path

from tinycompress.codegen.emit import GeneratedModel, LayerInfo, generate
from tinycompress.resources import ports_dir, runtime_arch_folders, runtime_dir

__all__ = ["GeneratedModel", "LayerInfo", "generate", "runtime_include_dirs", "runtime_sources"]


def runtime_sources(arch: str | None = None) -> list[Path]:
    """The runtime's C files a build of a generated model must compile.

    With ``arch`` (a board's ``runtime_arch``, a key of RUNTIME_ARCH_CHAINS),
    each kernel comes from the first folder of that arch's chain that has it
    (helium, then cortex-m-dsp, then portable, then src/); the variants keep
    the reference symbols, so generated code is the same either way. Without,
    the reference kernels of src/ alone (what the kernel tests check against TFLM).
    """
    sources = {p.name: p for p in (runtime_dir() / "src").glob("*.c")}
    if arch is not None:
        for folder in reversed(runtime_arch_folders(arch)):
            sources.update({p.name: p for p in folder.glob("*.c")})
    return sorted(sources.values(), key=lambda p: p.name)


def runtime_include_dirs() -> list[Path]:
    """Include directories for model.c (tc_runtime.h; tc_port.h for TC_PROFILE_LAYERS)."""
    return [runtime_dir() / "include", ports_dir() / "include"]
