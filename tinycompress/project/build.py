"""``build`` and ``flash``: PlatformIO on a generated project.

``build`` runs ``pio run`` and reads the ELF for the flash and RAM really
used. ``flash`` runs ``pio run -t upload``: for a real board the official
platform's uploader, for an emulated board QEMU (serial on stdio, or on a TCP
port a client such as the profiler connects to).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinycompress.errors import InputError, ToolError
from tinycompress.progress import NullProgress, Progress
from tinycompress.project.elfsize import MemoryUsage, memory_usage
from tinycompress.project.pio import prepare_offline, run_pio
from tinycompress.project.project import ProjectInfo, load_project

_LOG_TAIL_LINES = 25


@dataclass(frozen=True)
class BuildResult:
    """The firmware built and what it takes of the board."""

    project: ProjectInfo
    firmware: Path
    memory: MemoryUsage
    log: str


def _tail(log: str) -> str:
    return " | ".join(line.strip() for line in log.strip().splitlines()[-_LOG_TAIL_LINES:] if line.strip())


def build_project(path: Path, *, verbose: bool = False, progress: Progress | None = None) -> BuildResult:
    """``pio run`` the project at ``path``; ToolError with the log's tail if it fails."""
    info = load_project(path)
    board = info.board
    task = (progress or NullProgress()).task(f"pio run ({board.name})", total=None)
    prepare_offline(info.path, board)
    args = ["run", "-e", info.env] + (["-v"] if verbose else [])
    result = run_pio(info.path, args)
    task.close()
    if result.returncode != 0:
        hint = "" if board.emulated else " (real boards need PlatformIO's registry for the official platform)"
        raise ToolError(f"pio run failed for {board.name}{hint}: {_tail(result.stdout)}")
    if not info.firmware.is_file():
        raise ToolError(f"pio run succeeded but left no {info.firmware}; see `pio run -v` in {info.path}")
    return BuildResult(info, info.firmware, memory_usage(info.firmware, board), result.stdout)


def normalize_port(port: str, *, emulated: bool) -> str:
    """For emulated boards a TCP endpoint ``HOST:PORT`` (from ``PORT``, ``tcp:PORT``, ``socket://HOST:PORT``)."""
    if not emulated:
        return port
    text = port.removeprefix("socket://").removeprefix("tcp:").removeprefix("tcp://")
    host, _, number = text.rpartition(":")
    if not number.isdigit() or not 0 < int(number) < 65536:
        raise InputError(f"--port {port!r} is not a TCP port for QEMU; use e.g. --port 5555 or --port 127.0.0.1:5555")
    return f"{host or '127.0.0.1'}:{number}"


def flash_project(path: Path, *, port: str | None = None) -> int:
    """``pio run -t upload``; returns its exit status (non-zero when the upload or, on QEMU, the firmware failed).

    Output goes straight to the terminal: for an emulated board without a
    port it is the firmware's serial output.
    """
    info = load_project(path)
    board = info.board
    prepare_offline(info.path, board)
    args = ["run", "-e", info.env, "-t", "upload"]
    if port:
        args += ["--upload-port", normalize_port(port, emulated=board.emulated)]
    return run_pio(info.path, args, capture=False).returncode
