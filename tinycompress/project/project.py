"""A generated project on disk: ``tinycompress.json`` says what it holds.

build, flash and profile read it to know the board and the model without
parsing ``platformio.ini``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinycompress.errors import InputError
from tinycompress.fsutil import write_text_atomic
from tinycompress.project.boards import Board, get_board
from tinycompress.project.pio import firmware_path

PROJECT_FILE = "tinycompress.json"


@dataclass(frozen=True)
class ProjectInfo:
    """What ``tinycompress export`` recorded about a project."""

    path: Path
    board_name: str
    env: str
    model: dict[str, Any]
    fit: dict[str, Any]
    seed: int
    generator: str

    @property
    def board(self) -> Board:
        return get_board(self.board_name)

    @property
    def firmware(self) -> Path:
        return firmware_path(self.path, self.env)


def write_project_file(project: Path, info: ProjectInfo) -> None:
    data = asdict(info)
    data.pop("path")
    write_text_atomic(project / PROJECT_FILE, json.dumps(data, indent=2) + "\n")


def load_project(path: Path) -> ProjectInfo:
    """The project at ``path``, or InputError if it is not one ``tinycompress export`` made."""
    project = Path(path)
    meta = project / PROJECT_FILE
    if not meta.is_file():
        raise InputError(
            f"{project} is not a tinycompress project (no {PROJECT_FILE}); "
            "create one with `tinycompress export MODEL.tflite --board BOARD -o DIR`"
        )
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        return ProjectInfo(path=project.resolve(), **data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{meta} is corrupt ({exc}); export the project again") from exc
