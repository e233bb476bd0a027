"""Fit check: will the model fit the board, before anything is built.

Flash must hold the weights plus the code (runtime, port, application,
libc); RAM must hold the arena, the stack and the static data of that code.
The code side is a per-board estimate from ``boards/<board>.toml``
(``reserved_*_bytes``); after a build, :mod:`tinycompress.project.elfsize`
gives the real figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tinycompress.errors import BoardError
from tinycompress.project.boards import Board


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

    @property
    def fits(self) -> bool:
        return self.flash_needed <= self.flash_bytes and self.ram_needed <= self.ram_bytes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"fits": self.fits}


def estimate_fit(board: Board, *, weights_bytes: int, arena_bytes: int) -> FitEstimate:
    """The model's needs on ``board`` next to what the board offers."""
    return FitEstimate(
        board=board.name,
        weights_bytes=weights_bytes,
        arena_bytes=arena_bytes,
        code_estimate_bytes=board.reserved_flash_bytes,
        stack_bytes=board.stack_bytes,
        static_ram_estimate_bytes=board.reserved_ram_bytes,
        flash_needed=weights_bytes + board.reserved_flash_bytes,
        ram_needed=arena_bytes + board.stack_bytes + board.reserved_ram_bytes,
        flash_bytes=board.flash_bytes,
        ram_bytes=board.ram_bytes,
    )


def check_fit(board: Board, *, weights_bytes: int, arena_bytes: int) -> FitEstimate:
    """Like :func:`estimate_fit`, but a model that does not fit is a BoardError naming the numbers."""
    fit = estimate_fit(board, weights_bytes=weights_bytes, arena_bytes=arena_bytes)
    problems = []
    if fit.flash_needed > fit.flash_bytes:
        problems.append(
            f"flash: needs {fit.flash_needed:,} B (weights {fit.weights_bytes:,} B + code estimate "
            f"{fit.code_estimate_bytes:,} B) but the board has {fit.flash_bytes:,} B"
        )
    if fit.ram_needed > fit.ram_bytes:
        problems.append(
            f"RAM: needs {fit.ram_needed:,} B (arena {fit.arena_bytes:,} B + stack {fit.stack_bytes:,} B + "
            f"static data estimate {fit.static_ram_estimate_bytes:,} B) but the board has {fit.ram_bytes:,} B"
        )
    if problems:
        raise BoardError(
            f"model does not fit {board.name}: {'; '.join(problems)}; compress the model further "
            "(pruning, clustering, fewer channels) or pick a larger board (`tinycompress boards`)"
        )
    return fit
