"""Real-board projects pin their PlatformIO platform, so they build the same next year."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from tinycompress.project.boards import get_board
from tinycompress.project.export import export_project
from tinycompress.project.model import ModelSources

pytestmark = pytest.mark.host


def _platform(project: Path) -> str:
    ini = configparser.ConfigParser(inline_comment_prefixes=(";",))
    ini.read(project / "platformio.ini")
    env = ini["platformio"]["default_envs"]
    return ini[f"env:{env}"]["platform"]


@pytest.mark.parametrize("board, platform", [
    ("nucleo_l4r5zi", "ststm32"), ("nucleo_h743zi", "ststm32"),
    ("esp32dev", "espressif32"), ("esp32-c3-devkitm-1", "espressif32"),
])
def test_real_board_platform_is_pinned_to_an_exact_version(small_model: ModelSources, tmp_path: Path,
                                                           board: str, platform: str) -> None:
    project = export_project(small_model, get_board(board), tmp_path / "p").project
    assert re.fullmatch(rf"{platform} @ \d+\.\d+\.\d+", _platform(project))


def test_emulated_board_keeps_its_local_platform(small_model: ModelSources, tmp_path: Path) -> None:
    project = export_project(small_model, get_board("qemu-netduinoplus2"), tmp_path / "p").project
    assert _platform(project) == "symlink://tools/platform-qemu"
