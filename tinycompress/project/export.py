"""``export``: a compiled model + a board -> a complete PlatformIO project.

The steps run in order into a temporary folder that becomes the project only
when all of them succeed: fit check, templates, generated model, runtime,
board port, offline PlatformIO packages, project file.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tinycompress.fsutil import atomic_directory, check_output_dir
from tinycompress.progress import NullProgress, Progress
from tinycompress.project.boards import Board
from tinycompress.project.context import MODEL_FILE, build_context
from tinycompress.project.fit import FitEstimate, check_fit
from tinycompress.project.model import ModelSources
from tinycompress.project.pio import CORE_DIR, TOOLS_DIR, prepare_offline
from tinycompress.project.ports import port_family, port_files
from tinycompress.project.project import ProjectInfo, write_project_file
from tinycompress.project.render import render_tree
from tinycompress.resources import protocol_dir, runtime_dir

DEFAULT_SEED = 1
COMMAND = "export"
# What later commands write into a project (PlatformIO's build folder and
# packages, profile's default report and its HTML): the marker lets a new export replace them.
PROJECT_OWNED = (".pio", CORE_DIR, TOOLS_DIR, "report.json", "report.html")


def project_owned(board: Board) -> tuple[str, ...]:
    """:data:`PROJECT_OWNED`, plus what an ESP-IDF build writes beside platformio.ini."""
    if board.pio_framework != "espidf":
        return PROJECT_OWNED
    return (*PROJECT_OWNED, f"sdkconfig.{board.name}", "dependencies.lock", "managed_components")


@dataclass(frozen=True)
class ExportResult:
    """The project written and the fit estimate it passed."""

    project: Path
    board: Board
    fit: FitEstimate
    files: tuple[str, ...]


def _write_model(root: Path, model: ModelSources) -> None:
    folder = root / "src" / "model"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in model.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (root / MODEL_FILE).write_bytes(model.tflite)


def _copy_runtime(root: Path, model: ModelSources) -> None:
    for source in model.runtime_files:
        target = root / "src" / "runtime" / source.relative_to(runtime_dir().resolve())
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _copy_protocol(root: Path) -> None:
    """The device side of the serial protocol, for the protocol application."""
    folder = root / "src" / "protocol"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("tc_proto.c", "tc_proto.h"):
        shutil.copyfile(protocol_dir() / name, folder / name)


def _copy_port(root: Path, board: Board) -> None:
    folder = root / "src" / "port"
    folder.mkdir(parents=True, exist_ok=True)
    for source in port_files(port_family(board.port_family)):
        shutil.copyfile(source, folder / source.name)


def export_project(
    model: ModelSources,
    board: Board,
    out: Path,
    *,
    seed: int = DEFAULT_SEED,
    app: str = "protocol",
    progress: Progress | None = None,
    inputs: Sequence[str | Path] = (),
) -> ExportResult:
    """Write the PlatformIO project for ``model`` on ``board`` to ``out``.

    ``app`` is the application: ``"protocol"`` answers the serial protocol
    (what ``profile`` talks to), ``"selftest"`` runs the model once on a
    built-in input, prints the output checksum and latency, and exits.

    An existing project at ``out`` that an earlier export wrote is replaced
    atomically; any other non-empty folder is refused, so a mistyped ``-o``
    cannot wipe user files, and so are ``inputs`` (the model file) inside ``out``.
    """
    out = check_output_dir(out, COMMAND, inputs=inputs)
    fit = check_fit(board, weights_bytes=model.weights_bytes, arena_bytes=model.arena_bytes)
    context = build_context(board, model, seed=seed, app=app)
    task = (progress or NullProgress()).task(f"export for {board.name}", total=5)
    with atomic_directory(out, COMMAND, owned=project_owned(board)) as root:
        render_tree(root, context)
        task.advance()
        _write_model(root, model)
        _copy_runtime(root, model)
        if app == "protocol":
            _copy_protocol(root)
        task.advance()
        _copy_port(root, board)
        task.advance()
        prepare_offline(root, board)
        task.advance()
        info = ProjectInfo(
            path=Path(out).resolve(),
            board_name=board.name,
            env=context["pio"]["env"],
            model=context["model"],
            fit=fit.as_dict(),
            seed=seed,
            generator=context["generator"],
        )
        write_project_file(root, info)
        task.advance()
        files = tuple(sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
                             and ".pio-core" not in p.parts and "tools" not in p.parts))
    task.close()
    return ExportResult(Path(out).resolve(), board, fit, files)
