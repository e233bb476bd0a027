"""A model that does not fit is refused with fixes that shrink what is short."""

from __future__ import annotations

import pytest

from tinycompress.errors import BoardError
from tinycompress.project.boards import get_board
from tinycompress.project.fit import check_fit

pytestmark = pytest.mark.host


def _refusal(board_name: str, *, weights_bytes: int, arena_bytes: int) -> str:
    with pytest.raises(BoardError) as info:
        check_fit(get_board(board_name), weights_bytes=weights_bytes, arena_bytes=arena_bytes)
    return str(info.value)


def test_ram_shortfall_suggests_what_shrinks_activations() -> None:
    board = get_board("qemu-netduinoplus2")
    message = _refusal(board.name, weights_bytes=1024, arena_bytes=board.ram_bytes)
    assert "RAM: needs" in message and "flash: needs" not in message
    assert "a smaller input" in message and "fewer channels or narrower layers" in message
    assert "a board with more RAM" in message
    assert "pruning" not in message and "clustering" not in message  # they leave the arena as it was


def test_flash_shortfall_suggests_what_shrinks_weights() -> None:
    board = get_board("nucleo_f446re")
    message = _refusal(board.name, weights_bytes=board.flash_bytes, arena_bytes=1024)
    assert "flash: needs" in message and "RAM: needs" not in message
    assert "shrink the weights (pruning, clustering, fewer channels)" in message
    assert "a board with more flash" in message and "smaller input" not in message


def test_both_short_gets_both_fixes() -> None:
    board = get_board("nucleo_f446re")
    message = _refusal(board.name, weights_bytes=board.flash_bytes, arena_bytes=board.ram_bytes)
    assert "shrink the weights" in message and "shrink the activations" in message
    assert "a board with more flash and RAM" in message
