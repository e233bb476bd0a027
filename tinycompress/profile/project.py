"""A firmware project as the profiler sees it: model bytes, board, sizes, a link.

Reads what ``tinycompress export`` recorded (``tinycompress.json``), the ELF
that ``tinycompress build`` produced, and for emulated boards starts QEMU
itself, so ``tinycompress profile PROJECT`` needs no port for them.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinycompress.errors import InputError
from tinycompress.link import DeviceLink, open_link
from tinycompress.link.client import DEFAULT_BAUDRATE, DEFAULT_TIMEOUT_S, port_hint
from tinycompress.profile.report import LayerInfo, Target

if TYPE_CHECKING:
    from tinycompress.compress.data import Dataset
    from tinycompress.progress import Progress
    from tinycompress.project.boards import Board
    from tinycompress.project.project import ProjectInfo


@dataclass(frozen=True)
class ProfiledProject:
    """An exported (and built) project plus its model's .tflite bytes."""

    info: ProjectInfo
    tflite: bytes

    @property
    def board(self) -> Board:
        return self.info.board

    def target(self) -> Target:
        """ELF sizes and the layer table (names, ops, MACs) from the code generator; the clock comes from the device."""
        from tinycompress.codegen import generate
        from tinycompress.codegen.summary import layer_name
        from tinycompress.project.elfsize import memory_usage
        from tinycompress.tflite import read_model

        generated = generate(read_model(self.tflite), runtime_arch=self.board.runtime_arch)
        flash = ram = None
        if Path(self.info.firmware).is_file():
            usage = memory_usage(self.info.firmware, self.board)
            flash, ram = usage.flash_used, usage.ram_used
        return Target(
            board=self.board.name,
            flash_bytes=flash,
            ram_bytes=ram,
            layers=tuple(LayerInfo(layer_name(layer), layer.op, int(layer.macs), layer.name)
                         for layer in generated.layers),
        )

    def versions(self, *, used_qemu: bool) -> dict[str, str | None]:
        """Versions for the report: the compiler that built the firmware, QEMU when it ran it."""
        from tinycompress.versions import collect, project_compiler

        built = Path(self.info.firmware).is_file()
        emulator = self.board.emulator if used_qemu and self.board.emulated else None
        return collect(compiler=project_compiler(self.info.path) if built else None,
                       qemu=emulator.qemu if emulator else None)


def load_project(path: Path, model: Path | None = None) -> ProfiledProject:
    """The project at ``path``; its .tflite from the project file, or ``model`` if given."""
    from tinycompress.project.project import load_project as load_info

    info = load_info(path)
    source = Path(model) if model else _recorded_model(info)
    try:
        tflite = source.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the model {source}: {exc.strerror}; pass the project's .tflite with --model"
        ) from None
    return ProfiledProject(info, tflite)


def _recorded_model(info: ProjectInfo) -> Path:
    recorded = info.model.get("tflite") if isinstance(info.model, dict) else None
    if not recorded:
        raise InputError(
            f"project {info.path} does not record its .tflite; pass it with --model MODEL.tflite"
        )
    return Path(info.path) / recorded


@contextlib.contextmanager
def device_link(project: ProfiledProject, port: str | None, *, baudrate: int = DEFAULT_BAUDRATE,
                timeout: float = DEFAULT_TIMEOUT_S) -> Iterator[DeviceLink]:
    """A link to the project's firmware: ``port`` if given, else QEMU for an emulated board."""
    if port:
        with open_link(port, baudrate=baudrate, timeout=timeout) as link:
            yield link
        return
    board = project.board
    if not board.emulated:
        raise InputError(f"board {board.name} is a real board: give its serial port with --port; {port_hint()}")
    from tinycompress.project.qemu import start_qemu

    with start_qemu(board, project.info.firmware) as session, \
            tempfile.TemporaryDirectory(prefix="tc-input-") as shared:
        # QEMU runs here: inputs go through a file it reads for the guest (LOAD_INPUT)
        with DeviceLink(session.open_serial(), session.url, timeout=timeout,
                        input_file=Path(shared) / "input.bin") as link:
            yield link


def profile_project(path: Path, data: Dataset | str | Path, *, port: str | None = None,
                    model: Path | None = None, limit: int | None = None, progress: Progress | None = None,
                    baudrate: int | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                    boot_timeout: float = 10.0, task: str | None = None) -> dict[str, Any]:
    """Profile the built project at ``path`` on ``data`` (a ``Dataset`` or a spec such as ``"digits"``).

    ``task`` overrides the task detected from a data spec (it picks the metric).

    Starts QEMU for an emulated board unless ``port`` is given. ``baudrate``
    ``None`` is the board file's ``baud``, the rate its firmware was built
    with. Returns the report dict; ``report["complete"]`` is false if the
    device was lost.
    """
    from tinycompress.compress.data import load_dataset
    from tinycompress.link.client import check_port
    from tinycompress.profile.device import profile_link

    if port and baudrate is not None:
        check_port(port, baudrate)
    profiled = load_project(path, model)
    baudrate = baudrate or profiled.board.baud
    dataset = load_dataset(data, task) if isinstance(data, (str, Path)) else data
    target = profiled.target()
    with device_link(profiled, port, baudrate=baudrate, timeout=timeout) as link:
        report = profile_link(link, profiled.tflite, dataset.x_test, dataset.y_test, target,
                              limit=limit, progress=progress, boot_timeout=boot_timeout, task=dataset.task,
                              anomaly=dataset.anomaly_test)
    report["versions"] = profiled.versions(used_qemu=port is None)
    return report
