"""Export + build a firmware project (its default application answers the serial protocol).

Shared by tests/link/test_profile_emulated.py and benchmarks/device_latency.py.
"""

from __future__ import annotations

from pathlib import Path


def export_and_build(tflite: Path, board_name: str, out: Path, *, runtime_arch: str | None = None):
    """``export`` + ``build``; returns the BuildResult.

    ``runtime_arch`` None builds the reference kernels (firmware/runtime/src).
    """
    from tinycompress.project.boards import get_board
    from tinycompress.project.build import build_project
    from tinycompress.project.export import export_project
    from tinycompress.project.model import model_sources_from_tflite

    export_project(model_sources_from_tflite(tflite, runtime_arch=runtime_arch), get_board(board_name), out)
    return build_project(out)
