"""PlatformIO for generated projects: offline packages, ``pio run``, upload.

Every project keeps PlatformIO's core dir inside itself (``.pio-core``), so
nothing touches the user's home. Two pieces make emulated boards build with
zero downloads, and both are made here rather than committed because they
depend on the machine:

- ``.pio-core/packages/tool-scons``: PlatformIO runs SCons from a core
  package it would otherwise download; ours runs the PyPI ``scons`` that is
  installed with tinycompress. The ``.piopm`` manifest makes PlatformIO
  accept it as the package its core requires.
- ``tools/toolchain-*/bin``: links to the system cross compilers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tinycompress.errors import ToolError
from tinycompress.project.boards import Board
from tinycompress.resources import platform_dir

CORE_DIR = ".pio-core"
TOOLS_DIR = "tools"
PLATFORM_COPY = "platform-qemu"
# The tool-scons version PlatformIO 6.2 requires (~4.41101.0): SCons 4.11.1.
SCONS_PACKAGE_VERSION = "4.41101.0"

TOOLCHAINS: dict[str, tuple[str, str, str]] = {
    # arch -> (package, tool prefix, Debian package)
    "arm": ("toolchain-tcarm", "arm-none-eabi-", "gcc-arm-none-eabi"),
    "riscv": ("toolchain-tcriscv", "riscv64-unknown-elf-", "gcc-riscv64-unknown-elf"),
}
_TOOLS = ("gcc", "g++", "gcc-ar", "gcc-ranlib", "as", "ld", "ar", "objcopy", "objdump", "size", "nm", "gdb")


def toolchain_package(board: Board) -> str:
    """Name of the local toolchain package an emulated board builds with."""
    return TOOLCHAINS[board.arch][0]


def install_tool_scons(project: Path) -> Path:
    """Put the PyPI-backed ``tool-scons`` package into the project's core dir."""
    target = project / CORE_DIR / "packages" / "tool-scons"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "scons.py"):
        shutil.copyfile(platform_dir() / "packages" / "tool-scons" / name, target / name)
    manifest = {
        "type": "tool",
        "name": "tool-scons",
        "version": SCONS_PACKAGE_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None},
    }
    (target / ".piopm").write_text(json.dumps(manifest), encoding="utf-8")
    return target


def install_local_platform(project: Path, board: Board) -> None:
    """Copy the emulated-board platform into ``tools/`` and link the system compiler."""
    tools = project / TOOLS_DIR
    platform_copy = tools / PLATFORM_COPY
    if platform_copy.exists():
        shutil.rmtree(platform_copy)
    shutil.copytree(platform_dir(), platform_copy, ignore=shutil.ignore_patterns("packages", "__pycache__"))
    package, prefix, debian = TOOLCHAINS[board.arch]
    gcc = shutil.which(prefix + "gcc")
    if gcc is None:
        raise ToolError(f"{prefix}gcc not found; install the Debian package {debian} (./setup.sh does)")
    toolchain = tools / package
    bin_dir = toolchain / "bin"
    if toolchain.exists():
        shutil.rmtree(toolchain)
    bin_dir.mkdir(parents=True)
    shutil.copyfile(platform_dir() / "packages" / package / "package.json", toolchain / "package.json")
    for tool in _TOOLS:
        found = shutil.which(prefix + tool)
        if found:
            (bin_dir / (prefix + tool)).symlink_to(found)


def prepare_offline(project: Path, board: Board) -> None:
    """Everything machine-specific a project needs before ``pio run``."""
    install_tool_scons(project)
    if board.emulated:
        install_local_platform(project, board)


def pio_environment(project: Path) -> dict[str, str]:
    """Process environment for PlatformIO: core dir in the project, no telemetry."""
    env = dict(os.environ)
    env["PLATFORMIO_CORE_DIR"] = str((project / CORE_DIR).resolve())
    env["PLATFORMIO_SETTING_ENABLE_TELEMETRY"] = "No"
    env["PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL"] = "3650"
    env.pop("PLATFORMIO_BUILD_DIR", None)
    return env


def pio_command(*args: str) -> list[str]:
    """``pio`` run through the current Python, where platformio and scons are installed."""
    return [sys.executable, "-m", "platformio", *args]


def run_pio(project: Path, args: list[str], *, capture: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``pio <args>`` in ``project``; the caller decides what a failure means."""
    return subprocess.run(
        pio_command(*args),
        cwd=project,
        env=pio_environment(project),
        stdin=subprocess.DEVNULL if capture else None,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
        check=False,
    )


def firmware_path(project: Path, env_name: str) -> Path:
    """Where ``pio run`` leaves the linked firmware of environment ``env_name``."""
    return project / ".pio" / "build" / env_name / "firmware.elf"
