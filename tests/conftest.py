"""Test tiers: ``host`` (default), ``emulator`` (QEMU), ``hardware`` (--port).

Emulator tests are skipped when QEMU or the cross compilers are missing,
unless ``TINYCOMPRESS_REQUIRE_EMULATOR=1`` turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest

_EMULATOR_TOOLS = ("qemu-system-arm", "qemu-system-riscv32", "arm-none-eabi-gcc", "riscv64-unknown-elf-gcc")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--port", default=None, help="serial port of a real board for hardware tests")
    parser.addoption("--board", default=None, help="board name for hardware tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [tool for tool in _EMULATOR_TOOLS if shutil.which(tool) is None]
    require = os.environ.get("TINYCOMPRESS_REQUIRE_EMULATOR") == "1"
    for item in items:
        if "hardware" in item.keywords and not config.getoption("--port"):
            item.add_marker(pytest.mark.skip(reason="needs a real board: pass --port and --board"))
        if "emulator" in item.keywords and missing and not require:
            item.add_marker(pytest.mark.skip(reason=f"missing {', '.join(missing)}; run ./setup.sh"))


@pytest.fixture
def hardware_port(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--port")
