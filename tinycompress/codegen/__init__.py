"""Compile a verified IR into C for the tinycompress runtime (firmware/runtime)."""

from __future__ import annotations

from pathlib import Path

from tinycompress.codegen.emit import GeneratedModel, LayerInfo, generate

__all__ = ["GeneratedModel", "LayerInfo", "generate", "runtime_include_dirs", "runtime_sources"]

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def runtime_sources() -> list[Path]:
    """The runtime's C files a build of a generated model must compile."""
    return sorted((FIRMWARE / "runtime" / "src").glob("*.c"))


def runtime_include_dirs() -> list[Path]:
    """Include directories for model.c (tc_runtime.h; tc_port.h for TC_PROFILE_LAYERS)."""
    return [FIRMWARE / "runtime" / "include", FIRMWARE / "ports" / "include"]
