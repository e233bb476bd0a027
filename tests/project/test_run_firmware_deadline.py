"""Host tier: run_firmware never returns output cut short by its deadline.

A firmware still printing when the deadline passes may exit an instant
later with status 0; returning what was read then would hand the caller a
report without its last lines (seen under load as a selftest report missing
its `status` field). A fake QEMU session drives that timing exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import serial

from tinycompress.errors import ToolError
from tinycompress.project import qemu
from tinycompress.project.boards import get_board

pytestmark = pytest.mark.host


class FakeClock:
    """time.monotonic that advances one second per serial read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeLink:
    """A guest that prints one byte per second and closes after ``length`` bytes."""

    def __init__(self, clock: FakeClock, length: int) -> None:
        self.clock = clock
        self.left = length

    def read(self, size: int) -> bytes:
        if self.left == 0:
            raise serial.SerialException("socket disconnected")
        self.left -= 1
        self.clock.now += 1.0
        return b"x"

    def close(self) -> None:
        pass


class FakeSession:
    """A QEMU session whose process exits with status 0 as soon as it is waited for."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link
        self.closed = False

    def open_serial(self, read_timeout: float) -> FakeLink:
        return self.link

    def wait(self, timeout: float) -> int:
        return 0

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(qemu.time, "monotonic", fake)
    return fake


def test_output_past_the_deadline_is_an_error_not_a_short_report(clock: FakeClock,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    session = FakeSession(FakeLink(clock, length=100))
    monkeypatch.setattr(qemu, "start_qemu", lambda board, elf: session)
    with pytest.raises(ToolError, match="did not finish within 10 s"):
        qemu.run_firmware(get_board("qemu-netduinoplus2"), Path("fw.elf"), timeout=10)
    assert session.closed


def test_output_ended_by_exit_is_returned_whole(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qemu, "start_qemu", lambda board, elf: FakeSession(FakeLink(clock, length=5)))
    run = qemu.run_firmware(get_board("qemu-netduinoplus2"), Path("fw.elf"), timeout=10)
    assert run.exit_code == 0
    assert run.output == "xxxxx"
