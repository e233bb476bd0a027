"""Firmware projects: boards, export (Jinja2 templates), PlatformIO build/flash, QEMU runs.

``export_project`` -> ``build_project`` -> ``run_firmware`` / ``start_qemu``
(emulated boards) or ``flash_project`` (real boards); see docs/boards.md.
"""

from __future__ import annotations

from tinycompress.project.boards import Board, get_board, load_boards
from tinycompress.project.build import BuildResult, build_project, flash_project
from tinycompress.project.elfsize import MemoryUsage, memory_usage
from tinycompress.project.export import ExportResult, export_project
from tinycompress.project.fit import FitEstimate, check_fit, estimate_fit
from tinycompress.project.model import ModelSources, model_sources_from_tflite
from tinycompress.project.project import ProjectInfo, load_project
from tinycompress.project.qemu import QemuRun, QemuSession, run_firmware, start_qemu

__all__ = [
    "Board", "BuildResult", "ExportResult", "FitEstimate", "MemoryUsage", "ModelSources", "ProjectInfo",
    "QemuRun", "QemuSession", "build_project", "check_fit", "estimate_fit", "export_project", "flash_project",
    "get_board", "load_boards", "load_project", "memory_usage", "model_sources_from_tflite", "run_firmware",
    "start_qemu",
]
