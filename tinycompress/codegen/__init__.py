"""Compile a verified IR into C for the tinycompress runtime (firmware/runtime)."""

from __future__ import annotations

from pathlib import Path

from tinycompress.codegen.emit import GeneratedModel, LayerInfo, generate
from tinycompress.errors import InputError

__all__ = ["GeneratedModel", "LayerInfo", "generate", "runtime_include_dirs", "runtime_sources"]

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def runtime_sources(arch: str | None = None) -> list[Path]:
    """The runtime's C files a build of a generated model must compile.

    With ``arch`` (a folder of firmware/runtime/arch/, e.g. ``"cortex-m-dsp"``),
    optimised kernels replace the reference files of the same name; they keep
    the reference symbols, so generated code is the same either way.
    """
    sources = {p.name: p for p in (FIRMWARE / "runtime" / "src").glob("*.c")}
    if arch is not None:
        folder = FIRMWARE / "runtime" / "arch" / arch
        if not folder.is_dir():
            known = sorted(p.name for p in (FIRMWARE / "runtime" / "arch").glob("*") if p.is_dir())
            raise InputError(f"no runtime kernels for arch {arch!r}; known: {', '.join(known) or 'none'}")
        sources.update({p.name: p for p in folder.glob("*.c")})
    return sorted(sources.values(), key=lambda p: p.name)


def runtime_include_dirs() -> list[Path]:
    """Include directories for model.c (tc_runtime.h; tc_port.h for TC_PROFILE_LAYERS)."""
    return [FIRMWARE / "runtime" / "include", FIRMWARE / "ports" / "include"]
