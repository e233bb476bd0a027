"""Host tier: run_firmware keeps what the guest printed while the serial port was opening.

QEMU starts the guest the moment it accepts the connection, so a firmware
that prints and exits at once can have its whole output on the socket before
pyserial's ``open()`` returns; that ``open()`` ends by flushing its input, and
on a loaded host the selftest report came back empty or without its first
byte (then a `status` field was missing). Here a stand-in for QEMU's serial
server prints a report as soon as it accepts and closes, and opening the port
waits until those bytes have arrived before it goes on: the timing the load
made likely, made certain.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from serial.urlhandler import protocol_socket

from tinycompress.project import qemu
from tinycompress.project.boards import get_board

pytestmark = pytest.mark.host

REPORT = b"tc: output=989096a79a928fa7a791\ntc: status=0\n"


class ExitedProcess:
    """The QEMU process of the session: it has exited with status 0."""

    stderr = None

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def printed() -> Iterator[tuple[int, threading.Event]]:
    """A serial server that prints REPORT on accept, then closes like a QEMU that exited; its port and a done flag."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.sendall(REPORT)
        done.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], done
    finally:
        listener.close()
        thread.join(timeout=5)


def test_output_printed_before_the_port_is_open_is_kept(printed: tuple[int, threading.Event],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    port, done = printed
    configure = protocol_socket.Serial._reconfigure_port  # called by open() between connecting and its flush

    def after_the_guest_printed(self: protocol_socket.Serial) -> None:
        assert done.wait(5) and select.select([self._socket], [], [], 5)[0]
        configure(self)

    monkeypatch.setattr(protocol_socket.Serial, "_reconfigure_port", after_the_guest_printed)
    board = get_board("qemu-riscv32")
    monkeypatch.setattr(qemu, "start_qemu", lambda board, elf: qemu.QemuSession(ExitedProcess(), port, board))
    run = qemu.run_firmware(board, Path("firmware.elf"), timeout=10)
    assert run.exit_code == 0
    assert run.output == REPORT.decode()


def test_closing_the_port_does_not_pause(printed: tuple[int, threading.Event],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """pyserial's socket close sleeps 0.3 s for quick reconnects; a QEMU session never reconnects."""
    port, done = printed
    session = qemu.QemuSession(ExitedProcess(), port, get_board("qemu-riscv32"))
    link = session.open_serial()
    sleeps: list[float] = []
    monkeypatch.setattr(protocol_socket.time, "sleep", sleeps.append)
    link.close()
    assert sleeps == [] and not link.is_open
    link.close()  # a second close is harmless
