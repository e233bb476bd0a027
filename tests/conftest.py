"""Test tiers: ``host`` (default), ``emulator`` (QEMU), ``hardware`` (a board named with ``--board``).

Every test file declares its tier with a module-level ``pytestmark``; a test
that needs more carries its own tier marker, which wins (``emulator`` over
``host``). A collected file without one stops the run, so a new file cannot
slip out of the tiers unnoticed.

A test that needs an external program says so with
``@pytest.mark.needs_tools("arm-none-eabi-gcc", ...)``; ``emulator`` tests
need QEMU and the cross compilers without saying it. ``tool_skip`` is the one
place that turns a missing program into a skip, or into a failure when
``TINYCOMPRESS_REQUIRE_EMULATOR=1`` (CI), so nothing CI relies on is skipped
silently.

The ``hardware`` tier is skipped unless ``--board`` is given: a real board
through ``--port``, or an emulated board (no port) through QEMU by the same
tests. With ``--board``, a ``-m``/``-k`` that deselects every hardware test
is refused rather than obeyed silently.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

TIERS = ("host", "emulator", "hardware")
EMULATOR_TOOLS = ("qemu-system-arm", "qemu-system-riscv32", "arm-none-eabi-gcc", "riscv64-unknown-elf-gcc")
REQUIRE_ENV = "TINYCOMPRESS_REQUIRE_EMULATOR"

_deselected_hardware = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinycompress", "tinycompress test tiers")
    group.addoption("--port", default=None, help="serial port of the real board the hardware tier runs on")
    group.addoption("--board", default=None,
                    help="board the hardware tier runs on (a real one needs --port; an emulated one runs in QEMU)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_tools(*programs): skipped (failed under "
                                       f"{REQUIRE_ENV}=1) when a program is not on PATH")
    config.stash[_deselected_hardware] = 0
    port, board_name = config.getoption("--port"), config.getoption("--board")
    if port and not board_name:
        raise pytest.UsageError("--port needs --board: name the board on that port (`tinycompress boards` lists them)")
    if board_name:
        from tinycompress.errors import BoardError
        from tinycompress.project.boards import get_board

        try:
            board = get_board(board_name)
        except BoardError as exc:
            raise pytest.UsageError(f"--board: {exc}") from None
        if not board.emulated and not port:
            raise pytest.UsageError(f"--board {board_name} is a real board: give its serial port with --port")


def _needed_tools(item: pytest.Item) -> list[str]:
    tools = [tool for mark in item.iter_markers("needs_tools") for tool in mark.args]
    config = item.config
    emulated_hardware = (item.get_closest_marker("hardware") and config.getoption("--board")
                         and not config.getoption("--port"))
    if item.get_closest_marker("emulator") or emulated_hardware:
        tools += EMULATOR_TOOLS
    return tools


def tool_skip(item: pytest.Item) -> str | None:
    """The one decision on missing programs: why ``item`` cannot run here, or None if it can.

    The reason becomes a skip mark at collection (reported at the test's own
    line), or under ``TINYCOMPRESS_REQUIRE_EMULATOR=1`` a failure at setup.
    """
    missing = sorted({tool for tool in _needed_tools(item) if shutil.which(tool) is None})
    return f"missing {', '.join(missing)}; run ./setup.sh" if missing else None


def _tools_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = tool_skip(item) if _tools_required() else None
    if reason:
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 forbids skipping it)", pytrace=False)


def _untiered_files(items: list[pytest.Item]) -> list[str]:
    """Test files whose module carries no tier marker (``pytestmark = pytest.mark.host``)."""
    untiered = set()
    for item in items:
        module = item.getparent(pytest.Module)
        if module is not None and not {mark.name for mark in module.own_markers} & set(TIERS):
            untiered.add(str(Path(module.path).relative_to(item.config.rootpath)))
    return sorted(untiered)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    untiered = _untiered_files(items)
    if untiered:
        raise pytest.UsageError(
            f"test files without a tier marker: {', '.join(untiered)}; "
            f"add a module-level `pytestmark = pytest.mark.<tier>` ({' / '.join(TIERS)})"
        )
    no_board = "hardware tier: pass --board (and --port for a real board); see README"
    for item in items:
        reason = no_board if item.get_closest_marker("hardware") and not config.getoption("--board") else None
        if reason is None and not _tools_required():
            reason = tool_skip(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        config = items[0].config
        config.stash[_deselected_hardware] += sum(1 for item in items if item.get_closest_marker("hardware"))


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    if not config.getoption("--board") or not config.stash[_deselected_hardware]:
        return
    if not any(item.get_closest_marker("hardware") for item in session.items):
        raise pytest.UsageError(
            f"--board {config.getoption('--board')} asks for the hardware tier, but -m/-k deselected every "
            "hardware test; drop the -m/-k that excludes them (such as -m 'not hardware')"
        )
