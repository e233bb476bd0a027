"""Run firmware on an emulated board: QEMU with serial 0 on a local TCP port.

One command line for every use (``pio run -t upload`` in generated projects,
tests, the profiler): deterministic ``-icount shift=0,sleep=off`` (latency
figures are instructions), no display or monitor, and serial 0 on
``tcp:127.0.0.1:PORT,server=on,wait=on,nodelay=on`` so the guest starts
only once the host is connected and no boot output is lost. ``nodelay=on``
matters: QEMU sends what the guest's UART transmits a byte at a time, and
with Nagle's algorithm each answer's tail waited for the host's delayed ACK
(about 45 ms per request/answer exchange, issue 12).

Typical use by a host-side client::

    with start_qemu(board, elf) as session:
        link = session.open_serial()      # a pyserial object on socket://
        link.write(request)
        ...
    # leaving the block stops QEMU; so does the death of the process that started it

and for run-to-completion firmware, ``run_firmware(board, elf)`` returns the
exit status (semihosting / exit device) and everything the guest printed.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import serial
from serial.urlhandler.protocol_socket import Serial as SocketSerial

from tinycompress.errors import BoardError, ToolError
from tinycompress.link.client import no_delay
from tinycompress.project.boards import Board

ICOUNT = ("-icount", "shift=0,sleep=off")
HEADLESS = ("-display", "none", "-monitor", "none")
_QEMU_PACKAGES = {"qemu-system-arm": "qemu-system-arm", "qemu-system-riscv32": "qemu-system-misc"}
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_SIGKILL = int(signal.SIGKILL)


@dataclass(frozen=True)
class QemuRun:
    """Outcome of a run-to-completion firmware: its exit status and serial output."""

    exit_code: int
    output: str


def qemu_base_command(board: Board) -> list[str]:
    """QEMU and its options for ``board``, without ``-kernel`` and ``-serial``."""
    if board.emulator is None:
        raise BoardError(f"board {board.name} is not emulated; flash it with `tinycompress flash --port PORT`")
    emu = board.emulator
    return [emu.qemu, "-M", emu.machine, *emu.args, *ICOUNT, *HEADLESS]


def qemu_command(board: Board, elf: Path, serial_backend: str) -> list[str]:
    """The full command line: ``serial_backend`` is a QEMU chardev such as ``stdio``."""
    return [*qemu_base_command(board), "-kernel", str(elf), "-serial", serial_backend]


def serial_server(port: int) -> str:
    """QEMU's ``-serial`` chardev: a TCP server on ``port`` that waits for its client, Nagle off."""
    return f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"


def _require_qemu(board: Board) -> str:
    exe = qemu_base_command(board)[0]
    found = shutil.which(exe)
    if found is None:
        package = _QEMU_PACKAGES.get(exe, exe)
        raise ToolError(f"{exe} not found; install the Debian package {package} (./setup.sh does)")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for QEMU's serial server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _GuestSerial(SocketSerial):
    """pyserial's ``socket://`` port without the input flush at the end of its ``open()``.

    QEMU starts the guest the moment it accepts the connection, so the
    guest's first output can arrive before ``open()`` returns; the flush
    threw it away (on a loaded host, a selftest's whole report).
    """

    _opening = False

    def open(self) -> None:
        self._opening = True
        try:
            super().open()
        finally:
            self._opening = False

    def reset_input_buffer(self) -> None:
        if not self._opening:
            super().reset_input_buffer()

    def close(self) -> None:
        """Close without pyserial's 0.3 s pause "for quick reconnects": a QEMU session's
        serial server takes one connection, so nothing reconnects (the pause cost every
        emulated run, profile and test 0.3 s)."""
        if self.is_open:
            if self._socket is not None:
                try:
                    self._socket.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # QEMU already closed its end
                self._socket.close()
                self._socket = None
            self.is_open = False


class QemuSession:
    """A running QEMU whose serial 0 waits for one client on ``url``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, board: Board) -> None:
        self.process = process
        self.port = port
        self.board = board

    @property
    def url(self) -> str:
        """The pyserial URL of the guest's serial port."""
        return f"socket://127.0.0.1:{self.port}"

    def open_serial(self, timeout: float = 10.0, read_timeout: float = 1.0) -> serial.SerialBase:
        """Connect pyserial to the guest, retrying until QEMU listens (up to ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                port = _GuestSerial(self.url, timeout=read_timeout)
                no_delay(port)
                return port
            except serial.SerialException as exc:
                if self.process.poll() is not None:
                    raise ToolError(f"QEMU exited before accepting the serial connection: {self._stderr()}") from exc
                if time.monotonic() > deadline:
                    raise ToolError(f"QEMU did not open its serial port {self.url} within {timeout:g} s") from exc
                time.sleep(0.05)

    def wait(self, timeout: float) -> int:
        """QEMU's exit status (the firmware's), or ToolError after ``timeout`` s."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise ToolError(
                f"firmware on {self.board.name} did not exit within {timeout:g} s (hung or waiting for input)"
            ) from None

    def close(self) -> None:
        """Stop QEMU if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def _stderr(self) -> str:
        if self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode("utf-8", "replace").strip().replace("\n", " | ")

    def __enter__(self) -> QemuSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def start_qemu(board: Board, elf: Path, *, port: int | None = None) -> QemuSession:
    """Start QEMU with ``elf`` on ``board``; the guest runs once a client connects to ``session.url``."""
    if not Path(elf).is_file():
        raise ToolError(f"firmware {elf} does not exist; build the project first (`tinycompress build`)")
    _require_qemu(board)
    port = port or free_port()
    command = qemu_command(board, Path(elf), serial_server(port))
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True, preexec_fn=_die_with_parent())
    return QemuSession(process, port, board)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel SIGKILL QEMU when the thread that started it dies (Linux).

    Without it a SIGKILLed ``tinycompress profile`` leaves QEMU spinning at
    100 % CPU (``-icount sleep=off``): its serial server just waits for the
    next client. The new session (``start_new_session``) keeps a terminal's
    Ctrl-C away from QEMU, so the host can still write its partial report.
    ``prctl`` is looked up before the fork, so the child only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, _SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return die_with_parent


def run_firmware(board: Board, elf: Path, *, timeout: float = 60.0) -> QemuRun:
    """Run firmware that ends by itself; return its exit status and everything it printed."""
    with start_qemu(board, elf) as session:
        link = session.open_serial(read_timeout=0.1)
        chunks: list[bytes] = []
        deadline = time.monotonic() + timeout
        closed = False
        try:
            # One byte per read: pyserial drops a partial read when the
            # socket closes, and QEMU closes it right after the last byte.
            while time.monotonic() < deadline:
                chunks.append(link.read(1))
        except serial.SerialException:
            closed = True  # QEMU closed the socket on exit: everything it printed was read
        finally:
            link.close()
        if not closed:
            # Still running at the deadline: what was read may lack the end of
            # the output even if QEMU exits an instant later, so never return it.
            session.close()
            raise ToolError(f"firmware on {board.name} did not finish within {timeout:g} s "
                            "(hung, or the machine is overloaded: retry with a longer timeout)")
        exit_code = session.wait(10.0)
    return QemuRun(exit_code, b"".join(chunks).decode("utf-8", "replace"))
