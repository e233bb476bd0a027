"""The host side of the link: requests with bounded retries over pyserial.

Any pyserial URL works: ``/dev/ttyACM0`` for a board, ``socket://host:port``
for QEMU's TCP serial or the host-native build, ``loop://`` in tests. A
result is used only when its frame decodes, its CRC holds and its sequence
number and command match the request, so a corrupted answer can cause a
retry or an error, never a wrong figure.
"""

from __future__ import annotations

import os
import re
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from tinycompress.errors import DeviceError, InputError, LinkError
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
    parse_load_input,
    parse_set_input,
    status_name,
)

DEFAULT_BAUDRATE = 115200
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RETRIES = 3
INVOKE_TIMEOUT_FACTOR = 2.0  # an INVOKE waits this many times the slowest clean INVOKE
MAX_INVOKE_TIMEOUT_S = 60.0  # ... but never longer than this (or --timeout, if larger)
HELLO_FIRST_WAIT_S = 0.5  # the first HELLO of connect() waits this long (at most --timeout), later ones longer
_POLL_S = 0.02
_SILENCE = "silence"


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
    noise: int = 0
    malformed_answers: int = 0


class _Answer(NamedTuple):
    """A parsed answer and how it was obtained (for the INVOKE timeout)."""

    value: Any
    tries: int
    seconds: float  # from the last write of the request to its answer
    total_seconds: float  # from the first write


class DeviceLink:
    """Framed request/answer exchange with one device."""

    def __init__(self, port: SerialLike, url: str, *, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES, input_file: Path | None = None) -> None:
        """``input_file``: a path the device can read too (QEMU on this machine), for LOAD_INPUT."""
        self._port = port
        self.input_file = input_file
        self._port.timeout = _POLL_S
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.stats = LinkStats()
        self._decoder = FrameDecoder()
        self._received: deque[Frame | FrameError] = deque()
        self._seq = 0
        self.rx_max: int | None = None
        self.output_bytes: int | None = None
        self.layers: int | None = None
        self._invoke_clean_s: float | None = None  # slowest INVOKE answered at its first try
        self._invoke_guess_s = 0.0  # until then: the longest INVOKE, repeats included

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
        """Repeat HELLO until the device answers (it may still be booting).

        Each HELLO goes unanswered for twice as long as the one before (up to
        ``timeout``): each repeat has a new sequence number, so with a fixed
        wait, a device that always answered a little later than that wait (QEMU
        still starting on a loaded host) had every answer taken for a stale one.
        """
        deadline = time.monotonic() + boot_timeout
        attempt_timeout = min(self.timeout, HELLO_FIRST_WAIT_S)
        while True:
            try:
                hello = parse_hello(self._exchange(Command.HELLO, b"", attempt_timeout, 0).value)
                break
            except _NoAnswer:
                left = deadline - time.monotonic()
                attempt_timeout = min(2 * attempt_timeout, self.timeout, max(left, _POLL_S))
                if left <= 0:
                    raise LinkError(
                        f"no answer from {self.url} to HELLO within {boot_timeout:g} s; "
                        "check that the firmware is flashed and running, the port is right "
                        "and the baud rate matches the firmware's (its board file's baud, "
                        f"{DEFAULT_BAUDRATE} by default; --baud)"
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
        """INFO; its sizes become what later answers are checked against (see :meth:`expect`)."""
        info = self._parsed(Command.INFO, b"", parse_info)
        self.expect(output_bytes=info.output_bytes, layers=info.layers)
        if info.rx_max:
            self.rx_max = info.rx_max
        return info

    def expect(self, *, output_bytes: int | None, layers: int | None) -> None:
        """Sizes every INVOKE and LAYER_PROFILE answer must have (from INFO, or the model when INFO lacks them).

        An answer that disagrees is malformed: it is requested again, then
        the link fails, so a wrong-sized figure never reaches the report.
        """
        self.output_bytes = output_bytes
        self.layers = layers

    def set_input(self, data: bytes) -> None:
        """Write the whole input tensor: LOAD_INPUT through ``input_file``, else SET_INPUT chunks."""
        if self.input_file is not None and self._load_input(data, self.input_file):
            return
        if not self.rx_max or self.rx_max <= SET_INPUT_HEADER_BYTES:
            raise LinkError(f"device on {self.url} reports no usable receive buffer; connect() first")
        chunk = self.rx_max - SET_INPUT_HEADER_BYTES
        for offset in range(0, len(data), chunk):
            part = data[offset : offset + chunk]
            acknowledged = partial(parse_set_input, expected_end=offset + len(part))
            self._parsed(Command.SET_INPUT, encode_set_input(offset, part), acknowledged)

    def _load_input(self, data: bytes, file: Path) -> bool:
        """LOAD_INPUT of ``data`` written to ``file``; False, and SET_INPUT from then on, if the device cannot.

        The device answers the CRC-32 of what it loaded, so a wrong or stale
        file is a malformed answer (repeated, then an error), never a wrong
        input. Firmware without a file channel (real boards), or older
        firmware, answers NO_INPUT_FILE or UNKNOWN_COMMAND.
        """
        path = os.fsencode(file)
        try:
            if not self.rx_max or len(path) > self.rx_max:
                raise OSError("the path does not fit in a request")
            file.write_bytes(data)
        except OSError:
            self.input_file = None
            return False
        loaded = partial(parse_load_input, expected_bytes=len(data), expected_crc=zlib.crc32(data))
        try:
            self._parsed(Command.LOAD_INPUT, path, loaded)
        except DeviceStatusError as exc:
            if exc.status not in (Status.NO_INPUT_FILE, Status.UNKNOWN_COMMAND):
                raise
            self.input_file = None
            return False
        return True

    @property
    def invoke_timeout(self) -> float:
        """Seconds each INVOKE try waits for its answer.

        ``timeout``, stretched to twice the slowest INVOKE answered at its
        first try, at most ``MAX_INVOKE_TIMEOUT_S``. Only first-try answers
        are timed, so waiting on a lost answer never lengthens the next
        wait. Until one INVOKE has been answered at its first try (a device
        slower than ``timeout``), twice the longest INVOKE stands in,
        repeats included.
        """
        measured = self._invoke_guess_s if self._invoke_clean_s is None else self._invoke_clean_s
        return min(max(self.timeout, INVOKE_TIMEOUT_FACTOR * measured), max(self.timeout, MAX_INVOKE_TIMEOUT_S))

    def invoke(self) -> InvokeResult:
        """Run the model once (see :attr:`invoke_timeout` for how long it waits)."""
        timeout = self.invoke_timeout
        answer = self._request(Command.INVOKE, b"", lambda p: parse_invoke(p, self.output_bytes), timeout)
        if answer.tries == 1:
            self._invoke_clean_s = max(self._invoke_clean_s or 0.0, answer.seconds)
        else:
            self._invoke_guess_s = max(self._invoke_guess_s, answer.total_seconds)
        return answer.value

    def layer_profile(self) -> tuple[int, ...] | None:
        """Per-layer counts of the last INVOKE; ``None`` if not built with TC_PROFILE_LAYERS."""
        try:
            return self._parsed(Command.LAYER_PROFILE, b"", lambda p: parse_layer_profile(p, self.layers))
        except DeviceStatusError as exc:
            if exc.status == Status.NO_PROFILE:
                return None
            raise

    # -- machinery ----------------------------------------------------------

    def _parsed(self, command: Command, payload: bytes, parse: Callable[[bytes], Any],
                timeout: float | None = None) -> Any:
        return self._request(command, payload, parse, timeout).value

    def _request(self, command: Command, payload: bytes, parse: Callable[[bytes], Any],
                 timeout: float | None = None) -> _Answer:
        timeout = timeout or self.timeout
        try:
            return self._exchange(command, payload, timeout, self.retries, parse)
        except _NoAnswer as exc:
            if exc.malformed:
                raise LinkError(
                    f"device on {self.url} answered {command.name} with a malformed payload {exc.tries} "
                    f"time{'' if exc.tries == 1 else 's'} ({exc.reason}); "
                    "host and firmware disagree: rebuild the firmware with this tinycompress"
                ) from None
            raise LinkError(
                f"no valid answer from {self.url} to {command.name} after {exc.tries} "
                f"tr{'y' if exc.tries == 1 else 'ies'} of {timeout:.3g} s ({exc.reason}); "
                "the device stopped responding: check that it is still running and connected"
            ) from None

    def _exchange(self, command: Command, payload: bytes, timeout: float, retries: int,
                  parse: Callable[[bytes], Any] = bytes) -> _Answer:
        """Send one request, repeating it on NACK/corruption/timeout/malformed payload."""
        self._seq = self._seq % 255 + 1  # 1..255: a NACK that cannot name its request carries seq 0
        request = encode_frame(Frame(PROTOCOL_VERSION, command, self._seq, 0, payload))
        self.stats.requests += 1
        reason, malformed = _SILENCE, False
        first = time.monotonic()
        for attempt in range(retries + 1):
            if attempt:
                self.stats.retries += 1
            self._write(request, command)
            sent = time.monotonic()
            outcome = self._await_answer(command, timeout)
            if isinstance(outcome, Frame):
                now = time.monotonic()
                answer = self._checked(command, outcome)
                try:
                    return _Answer(parse(answer), attempt + 1, now - sent, now - first)
                except PayloadError as exc:
                    self.stats.malformed_answers += 1
                    reason, malformed = str(exc), True
                    continue
            reason, malformed = outcome, False
        raise _NoAnswer(retries + 1, reason, malformed)

    def _await_answer(self, command: Command, timeout: float) -> Frame | str:
        """The answer to the outstanding request, or why to repeat it.

        Every frame already received is looked at before repeating: noise,
        a damaged frame or a stale NACK just ahead of the answer costs
        nothing. A damaged frame or a NACK for this request ends the wait
        early, once no partial frame is left to complete.
        """
        deadline = time.monotonic() + timeout
        repeat: str | None = None
        while True:
            while self._received:
                item = self._received.popleft()
                if isinstance(item, FrameError):
                    if item.noise:
                        self.stats.noise += 1
                    else:
                        self.stats.corrupted_frames += 1
                        repeat = f"corrupted answer: {item}"
                elif item.version != PROTOCOL_VERSION:
                    return item  # another protocol: _checked says so
                elif item.seq != self._seq:
                    self.stats.stale_frames += 1
                elif item.command == NACK_COMMAND:
                    self.stats.nacks += 1
                    repeat = "the device rejected the request as corrupted"
                elif item.command == (command | ANSWER_BIT):
                    return item
                else:
                    self.stats.stale_frames += 1
            if repeat and not self._decoder.partial:
                return repeat
            if time.monotonic() >= deadline:
                return repeat or _SILENCE
            self._received.extend(self._decoder.feed(self._read(command)))

    def _checked(self, command: Command, frame: Frame) -> bytes:
        """The payload of an OK answer in our protocol version; the device's error otherwise."""
        name = status_name(frame.status)
        if frame.status == Status.BAD_VERSION and frame.payload:
            raise DeviceStatusError(
                f"device on {self.url} answered {command.name} with {name} (device speaks v{frame.payload[0]}, "
                f"host v{PROTOCOL_VERSION}; rebuild the firmware)", frame.status)
        if frame.version != PROTOCOL_VERSION:
            raise LinkError(
                f"device on {self.url} answered {command.name} in protocol v{frame.version}, this host speaks "
                f"v{PROTOCOL_VERSION}; rebuild and flash the firmware with this tinycompress"
            )
        if frame.status == Status.OK:
            return frame.payload
        detail = ""
        if frame.status == Status.INVOKE_FAILED and len(frame.payload) == 4:
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
    def __init__(self, tries: int, reason: str, malformed: bool) -> None:
        super().__init__(reason)
        self.tries = tries
        self.reason = reason
        self.malformed = malformed


def open_link(url: str, *, baudrate: int = DEFAULT_BAUDRATE, timeout: float = DEFAULT_TIMEOUT_S,
              retries: int = DEFAULT_RETRIES) -> DeviceLink:
    """Open ``url`` with pyserial (any URL it knows) and wrap it in a ``DeviceLink``."""
    import serial

    check_port(url, baudrate)
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=_POLL_S)
    except ValueError as exc:  # pyserial's word for a setting it cannot apply (baud rate, URL option)
        raise InputError(f"cannot use serial port {url!r} at {baudrate} baud: {exc}; {_PORT_FORMS}") from None
    except (serial.SerialException, OSError) as exc:
        raise LinkError(f"cannot open serial port {url!r}: {exc}; {port_hint()}") from None
    no_delay(port)
    return DeviceLink(port, url, timeout=timeout, retries=retries)


def no_delay(port: object) -> None:
    """Turn Nagle's algorithm off on a ``socket://`` port (pyserial leaves it on).

    The host writes several SET_INPUT frames before reading their answers;
    with Nagle, every frame after the first waits for the device's ACK.
    Other ports are left alone.
    """
    import socket

    sock = getattr(port, "_socket", None)  # pyserial's socket:// handler keeps its socket there
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


_PORT_FORMS = "give a device (/dev/ttyACM0, COM3) or a pyserial URL (socket://HOST:PORT) and a positive baud rate"
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)")


def check_port(url: str, baudrate: int) -> None:
    """Refuse a malformed port or baud rate before any work: bad input (exit 2), not a lost link.

    Only the form is checked here; whether the device exists is for
    opening it to tell.
    """
    if isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate <= 0:
        raise InputError(f"baud rate {baudrate!r} is not a positive integer; {_PORT_FORMS}")
    if not url.strip():
        raise InputError(f"the serial port is empty; {_PORT_FORMS}")
    match = _URL.fullmatch(url)
    if match is None:
        return
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in _url_schemes():
        raise InputError(
            f"serial port {url!r} has the unknown URL scheme {scheme}:// (known: "
            f"{', '.join(s + '://' for s in sorted(_url_schemes()))}); {_PORT_FORMS}"
        )
    target = rest.split("?", 1)[0]
    if not target and scheme != "loop":
        raise InputError(f"serial port {url!r} names nothing after {scheme}://; {_PORT_FORMS}")
    if scheme in ("socket", "rfc2217"):
        host, _, number = target.rpartition(":")
        if not host or not number.isdigit() or not 0 < int(number) < 65536:
            raise InputError(f"serial port {url!r} is not {scheme}://HOST:PORT with a PORT from 1 to 65535")


def _url_schemes() -> set[str]:
    """The URL schemes pyserial has a handler for (``serial.urlhandler.protocol_*``)."""
    import pkgutil

    import serial.urlhandler

    return {m.name.removeprefix("protocol_") for m in pkgutil.iter_modules(serial.urlhandler.__path__)
            if m.name.startswith("protocol_")}


def port_hint() -> str:
    from serial.tools import list_ports

    ports = sorted(p.device for p in list_ports.comports())
    if ports:
        return f"serial ports on this machine: {', '.join(ports)}; pass one with --port"
    return "no serial port found on this machine; plug the board in, or use socket://HOST:PORT for QEMU"
