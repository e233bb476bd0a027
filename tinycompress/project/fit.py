"""Fit check: will the model fit the board, before anything is built.

Flash must hold the weights plus the code (runtime, port, application,
libc); RAM must hold the arena, the stack and the static data of that code.
The code side is a per-board estimate from ``boards/<board>.toml``
(``reserved_*_bytes``); after a build, :mod:`tinycompress.project.elfsize`
gives the real figures.

On ESP-IDF boards the application image lives in one partition of the
flash, not the whole of it: the board file lists app partition sizes to
try (``[esp32] app_partitions``, smallest first, the first being ESP-IDF's
default table) and the image gets the smallest that holds it, else a
generated table whose app runs to the end of flash, else the model is
refused with the numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tinycompress.errors import BoardError
from tinycompress.project.boards import Board


# ESP-IDF's default partition table, and the one a project generates when the default's app is too small.
DEFAULT_TABLE = "partitions_singleapp.csv"
GENERATED_TABLE = "partitions.csv"


@dataclass(frozen=True)
class AppPartition:
    """The flash partition an ESP-IDF application image is written to, and the table declaring it.

    With ``DEFAULT_TABLE`` the project sets nothing (ESP-IDF's default);
    with ``GENERATED_TABLE`` the project carries its own partitions.csv.
    """

    table: str
    offset: int
    size: int

    @property
    def generated(self) -> bool:
        return self.table == GENERATED_TABLE


def app_partition(board: Board, image_bytes: int) -> AppPartition | None:
    """The smallest app partition of ``board`` that holds ``image_bytes`` (None: a board without partitions).

    Candidates are the board's ``[esp32] app_partitions`` sizes (the first
    is ESP-IDF's default table) and, last, the app from ``app_offset`` to
    the end of flash. The last is returned even when too small, so the fit
    check can refuse with its size. Generated tables take the next size up
    rather than the estimate's exact size because the code size is only an
    estimate.
    """
    config = board.port_config
    if "app_partitions" not in config:
        return None
    offset = int(config["app_offset"])
    rest_of_flash = board.flash_bytes - offset
    sizes = [int(size) for size in config["app_partitions"] if int(size) < rest_of_flash] + [rest_of_flash]
    size = next((size for size in sizes if image_bytes <= size), rest_of_flash)
    table = DEFAULT_TABLE if size == int(config["app_partitions"][0]) else GENERATED_TABLE
    return AppPartition(table, offset, size)


@dataclass(frozen=True)
class FitEstimate:
    """Bytes needed versus bytes the board has, for flash and RAM."""

    board: str
    weights_bytes: int
    arena_bytes: int
    code_estimate_bytes: int
    stack_bytes: int
    static_ram_estimate_bytes: int
    flash_needed: int
    ram_needed: int
    flash_bytes: int
    ram_bytes: int
    app_partition: AppPartition | None = None

    @property
    def flash_available(self) -> int:
        """What the image may fill: its app partition on ESP-IDF boards, else the whole flash."""
        return self.app_partition.size if self.app_partition else self.flash_bytes

    @property
    def fits(self) -> bool:
        return self.flash_needed <= self.flash_available and self.ram_needed <= self.ram_bytes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"flash_available": self.flash_available, "fits": self.fits}


def estimate_fit(board: Board, *, weights_bytes: int, arena_bytes: int) -> FitEstimate:
    """The model's needs on ``board`` next to what the board offers."""
    flash_needed = weights_bytes + board.reserved_flash_bytes
    return FitEstimate(
        board=board.name,
        weights_bytes=weights_bytes,
        arena_bytes=arena_bytes,
        code_estimate_bytes=board.reserved_flash_bytes,
        stack_bytes=board.stack_bytes,
        static_ram_estimate_bytes=board.reserved_ram_bytes,
        flash_needed=flash_needed,
        ram_needed=arena_bytes + board.stack_bytes + board.reserved_ram_bytes,
        flash_bytes=board.flash_bytes,
        ram_bytes=board.ram_bytes,
        app_partition=app_partition(board, flash_needed),
    )


def check_fit(board: Board, *, weights_bytes: int, arena_bytes: int) -> FitEstimate:
    """Like :func:`estimate_fit`, but a model that does not fit is a BoardError naming the numbers."""
    fit = estimate_fit(board, weights_bytes=weights_bytes, arena_bytes=arena_bytes)
    problems, fixes, more = [], [], []
    if fit.flash_needed > fit.flash_available:
        has = (f"the largest app partition its {fit.flash_bytes:,} B flash can hold is {fit.flash_available:,} B "
               f"(from 0x{fit.app_partition.offset:X} to the end)" if fit.app_partition
               else f"the board has {fit.flash_bytes:,} B")
        problems.append(
            f"flash: needs {fit.flash_needed:,} B (weights {fit.weights_bytes:,} B + code estimate "
            f"{fit.code_estimate_bytes:,} B) but {has}"
        )
        fixes.append("shrink the weights (pruning, clustering, fewer channels)")
        more.append("flash")
    if fit.ram_needed > fit.ram_bytes:
        problems.append(
            f"RAM: needs {fit.ram_needed:,} B (arena {fit.arena_bytes:,} B + stack {fit.stack_bytes:,} B + "
            f"static data estimate {fit.static_ram_estimate_bytes:,} B) but the board has {fit.ram_bytes:,} B"
        )
        # The arena holds activations, which pruning and clustering leave as large as before.
        fixes.append("shrink the activations the arena holds (a smaller input, fewer channels or narrower layers)")
        more.append("RAM")
    if problems:
        raise BoardError(
            f"model does not fit {board.name}: {'; '.join(problems)}; {' and '.join(fixes)}, "
            f"or pick a board with more {' and '.join(more)} (`tinycompress boards`)"
        )
    return fit
