"""The host side of the link: requests with bounded retries over pyserial.

Any pyserial URL works: ``/dev/ttyACM0`` for a board, ``socket://host:port``
for QEMU's TCP serial or the host-native build, ``loop://`` in tests. A
result is used only when its frame decodes, its CRC holds and its sequence
number and command match the request, so a corrupted answer can cause a
retry or an error, never a wrong figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from tinycompress.errors import DeviceError, LinkError
from tinycompress.link.frame import Frame, FrameDecoder, FrameError, encode_frame
from tinycompress.link.protocol import (
    ANSWER_BIT,
    NACK_COMMAND,
    PROTOCOL_VERSION,
    SET_INPUT_HEADER_BYTES,
    Command,
    DeviceInfo,
    Hello,
    InvokeResult,
    PayloadError,
    Status,
    encode_set_input,
    parse_hello,
    parse_info,
    parse_invoke,
    parse_layer_profile,
    parse_set_input,
    status_name,
)

DEFAULT_BAUDRATE = 115200
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 3
_POLL_S = 0.02


class SerialLike(Protocol):
    """The part of ``serial.Serial`` the link uses (fault-injection tests wrap it)."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


class DeviceStatusError(DeviceError):
    """The device answered a command with a non-OK status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class LinkDisconnected(LinkError):
    """The port went away (USB unplugged, QEMU exited, socket closed)."""


@dataclass
class LinkStats:
    """What the link had to repair; goes into the report."""

    requests: int = 0
    retries: int = 0
    corrupted_frames: int = 0
    stale_frames: int = 0
    nacks: int = 0


class DeviceLink:
    """Framed request/answer exchange with one device."""

    def __init__(self, port: SerialLike, url: str, *, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES) -> None:
        self._port = port
        self._port.timeout = _POLL_S
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.stats = LinkStats()
        self._decoder = FrameDecoder()
        self._seq = 0
        self.rx_max: int | None = None
        self.output_bytes: int | None = None
        self._invoke_s = 0.0  # wall time of the slowest INVOKE so far

    def close(self) -> None:
        try:
            self._port.close()
        except Exception:  # closing a vanished port must not hide the original error
            pass

    def __enter__(self) -> DeviceLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands -----------------------------------------------------------

    def connect(self, boot_timeout: float = 10.0) -> Hello:
        """Repeat HELLO until the device answers (it may still be booting)."""
        deadline = time.monotonic() + boot_timeout
        attempt_timeout = min(self.timeout, 0.5)
        while True:
            try:
                hello = parse_hello(self._exchange(Command.HELLO, b"", attempt_timeout, 0))
                break
            except _NoAnswer:
                if time.monotonic() >= deadline:
                    raise LinkError(
                        f"no answer from {self.url} to HELLO within {boot_timeout:g} s; "
                        "check that the firmware is flashed and running, the port is right "
                        f"and the baud rate matches the firmware's ({DEFAULT_BAUDRATE} by default)"
                    ) from None
            except PayloadError as exc:
                raise LinkError(f"{self.url} answered HELLO but is not a tinycompress device ({exc})") from None
            except LinkDisconnected as exc:
                raise LinkDisconnected(
                    f"{exc}; the firmware ended or crashed before answering: does its application run "
                    "the protocol server (tc_proto_serve)? Export and build the project with this tinycompress"
                ) from None
        if hello.version != PROTOCOL_VERSION:
            raise LinkError(
                f"device on {self.url} speaks protocol v{hello.version}, this host v{PROTOCOL_VERSION}; "
                "rebuild and flash the firmware with this tinycompress"
            )
        self.rx_max = hello.rx_max
        return hello

    def info(self) -> DeviceInfo:
        info = self._parsed(Command.INFO, b"", parse_info)
        self.output_bytes = info.output_bytes
        if info.rx_max:
            self.rx_max = info.rx_max
        return info

    def set_input(self, data: bytes) -> None:
        """Write the whole input tensor in chunks that fit the device's buffer."""
        if not self.rx_max or self.rx_max <= SET_INPUT_HEADER_BYTES:
            raise LinkError(f"device on {self.url} reports no usable receive buffer; connect() first")
        chunk = self.rx_max - SET_INPUT_HEADER_BYTES
        for offset in range(0, len(data), chunk):
            part = data[offset : offset + chunk]
            end = self._parsed(Command.SET_INPUT, encode_set_input(offset, part), parse_set_input)
            if end != offset + len(part):
                raise LinkError(
                    f"device on {self.url} acknowledged SET_INPUT up to byte {end}, expected {offset + len(part)}"
                )

    def invoke(self) -> InvokeResult:
        """Run the model once; waits at least twice as long as the slowest INVOKE so far."""
        start = time.monotonic()
        timeout = max(self.timeout, 2.0 * self._invoke_s)
        result = self._parsed(Command.INVOKE, b"", lambda p: parse_invoke(p, self.output_bytes), timeout)
        self._invoke_s = max(self._invoke_s, time.monotonic() - start)
        return result

    def layer_profile(self) -> tuple[int, ...] | None:
        """Per-layer counts of the last INVOKE; ``None`` if not built with TC_PROFILE_LAYERS."""
        try:
            return self._parsed(Command.LAYER_PROFILE, b"", parse_layer_profile)
        except DeviceStatusError as exc:
            if exc.status == Status.NO_PROFILE:
                return None
            raise

    # -- machinery ----------------------------------------------------------

    def _parsed(self, command: Command, payload: bytes, parse, timeout: float | None = None):
        timeout = timeout or self.timeout
        try:
            answer = self._exchange(command, payload, timeout, self.retries)
        except _NoAnswer as exc:
            raise LinkError(
                f"no valid answer from {self.url} to {command.name} after {exc.tries} "
                f"tr{'y' if exc.tries == 1 else 'ies'} of {timeout:.3g} s ({exc.reason}); "
                "the device stopped responding: check that it is still running and connected"
            ) from None
        try:
            return parse(answer)
        except PayloadError as exc:
            raise LinkError(
                f"device on {self.url} answered {command.name} with a malformed payload ({exc}); "
                "host and firmware disagree: rebuild the firmware with this tinycompress"
            ) from None

    def _exchange(self, command: Command, payload: bytes, timeout: float, retries: int) -> bytes:
        """Send one request, repeating it on NACK/corruption/timeout; return the answer payload."""
        self._seq = (self._seq + 1) & 0xFF
        request = encode_frame(Frame(PROTOCOL_VERSION, command, self._seq, 0, payload))
        self.stats.requests += 1
        reason = "silence"
        for attempt in range(retries + 1):
            if attempt:
                self.stats.retries += 1
            self._write(request, command)
            outcome = self._await_answer(command, timeout)
            if isinstance(outcome, Frame):
                return self._checked(command, outcome)
            reason = outcome
        raise _NoAnswer(retries + 1, reason)

    def _await_answer(self, command: Command, timeout: float) -> Frame | str:
        """The matching answer, or why the attempt should be repeated."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in self._decoder.feed(self._read(command)):
                if isinstance(item, FrameError):
                    self.stats.corrupted_frames += 1
                    return f"corrupted answer: {item}"
                if item.command == NACK_COMMAND:
                    self.stats.nacks += 1
                    return "the device rejected the request as corrupted"
                if item.seq != self._seq or item.command != (command | ANSWER_BIT):
                    self.stats.stale_frames += 1
                    continue
                return item
        return "silence"

    def _checked(self, command: Command, frame: Frame) -> bytes:
        if frame.status == Status.OK:
            return frame.payload
        name = status_name(frame.status)
        detail = ""
        if frame.status == Status.BAD_VERSION and frame.payload:
            detail = f" (device speaks v{frame.payload[0]}, host v{PROTOCOL_VERSION}; rebuild the firmware)"
        elif frame.status == Status.INVOKE_FAILED and len(frame.payload) == 4:
            detail = f" (model status {int.from_bytes(frame.payload, 'little', signed=True)})"
        raise DeviceStatusError(f"device on {self.url} answered {command.name} with {name}{detail}", frame.status)

    def _read(self, command: Command) -> bytes:
        try:
            return self._port.read(max(1, self._port.in_waiting))
        except Exception as exc:  # pyserial raises SerialException, OSError, or socket errors
            raise LinkDisconnected(f"lost {self.url} while waiting for the answer to {command.name}: {exc}") from None

    def _write(self, data: bytes, command: Command) -> None:
        try:
            self._port.write(data)
        except Exception as exc:
            raise LinkDisconnected(f"lost {self.url} while sending {command.name}: {exc}") from None


class _NoAnswer(Exception):
    def __init__(self, tries: int, reason: str) -> None:
        super().__init__(reason)
        self.tries = tries
        self.reason = reason


def open_link(url: str, *, baudrate: int = DEFAULT_BAUDRATE, timeout: float = DEFAULT_TIMEOUT_S,
              retries: int = DEFAULT_RETRIES) -> DeviceLink:
    """Open ``url`` with pyserial (any URL it knows) and wrap it in a ``DeviceLink``."""
    import serial

    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=_POLL_S)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise LinkError(f"cannot open serial port {url!r}: {exc}; {port_hint()}") from None
    return DeviceLink(port, url, timeout=timeout, retries=retries)


def port_hint() -> str:
    from serial.tools import list_ports

    ports = sorted(p.device for p in list_ports.comports())
    if ports:
        return f"serial ports on this machine: {', '.join(ports)}; pass one with --port"
    return "no serial port found on this machine; plug the board in, or use socket://HOST:PORT for QEMU"
