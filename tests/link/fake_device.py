"""A Python device side of the protocol, for fault-injection tests only.

The real device is firmware/protocol/tc_proto.c (tested in
test_host_native.py). This stand-in exists because only in Python can a test
flip a chosen bit, drop or repeat a byte, or go silent in the middle of an
answer at an exact point. It sits behind a ``loop://`` port: what the host
writes goes to the device, what the device answers is written into the loop
for the host to read. ``FakeDeviceServer`` puts it behind a TCP socket
instead, for tests that drive the whole CLI.
"""

from __future__ import annotations

import socket
import struct
import threading
import zlib
from collections.abc import Callable

import serial

from tinycompress.link.frame import Frame, FrameError, decode_frame, encode_frame
from tinycompress.link.protocol import ANSWER_BIT, HELLO_MAGIC, NACK_COMMAND, PROTOCOL_VERSION, Command, InfoTag, Status

Fault = Callable[[bytes], bytes]


class FakeDevice:
    """Answers like tc_proto.c for a model whose output is the first input bytes."""

    def __init__(self, *, input_bytes: int = 300, output_bytes: int = 4, rx_max: int = 128,
                 version: int = PROTOCOL_VERSION, extra_info: dict[int, bytes] | None = None,
                 layer_ticks: Callable[[int], tuple[int, ...]] | None = None,
                 load_file: Callable[[str], bytes] | None = None) -> None:
        """``extra_info``: more INFO records (tag -> value), e.g. shapes, quantization, memory.

        ``load_file(path)``: what LOAD_INPUT reads from the host file (an
        emulator's file channel); ``None`` answers UNKNOWN_COMMAND, as
        firmware older than LOAD_INPUT does.

        ``layer_ticks(n)``: the LAYER_PROFILE counts after the n-th INVOKE
        (``None``: built without TC_PROFILE_LAYERS); INFO then reports as many
        layers as it gives after the first.
        """
        self.extra_info = dict(extra_info or {})
        self.layer_ticks = layer_ticks
        self.load_file = load_file
        self.input = bytearray(input_bytes)
        self.output_bytes = output_bytes
        self.rx_max = rx_max
        self.version = version
        self.invokes = 0
        self.requests: list[Frame] = []
        self._raw = bytearray()

    def receive(self, data: bytes) -> bytes:
        """Wire bytes from the host in, wire bytes of the answers out."""
        out = b""
        for byte in data:
            if byte:
                self._raw.append(byte)
                continue
            raw, self._raw = bytes(self._raw), bytearray()
            if not raw:
                continue
            try:
                item = decode_frame(raw)
            except FrameError:
                item = None
            if item is None or len(item.payload) > self.rx_max:
                out += encode_frame(Frame(self.version, NACK_COMMAND, _nack_seq(raw), Status.BAD_FRAME))
                continue
            self.requests.append(item)
            status, payload = self._answer(item)
            out += encode_frame(Frame(self.version, item.command | ANSWER_BIT, item.seq, status, payload))
        return out

    def _answer(self, req: Frame) -> tuple[int, bytes]:
        if req.version != self.version:
            return Status.BAD_VERSION, bytes([self.version])
        if req.command == Command.HELLO:
            return Status.OK, struct.pack("<BH", self.version, self.rx_max) + HELLO_MAGIC
        if req.command == Command.INFO:
            return Status.OK, self._info()
        if req.command == Command.SET_INPUT:
            (offset,) = struct.unpack("<I", req.payload[:4])
            data = req.payload[4:]
            if offset + len(data) > len(self.input):
                return Status.BAD_OFFSET, b""
            self.input[offset : offset + len(data)] = data
            return Status.OK, struct.pack("<I", offset + len(data))
        if req.command == Command.LOAD_INPUT and self.load_file is not None:
            data = self.load_file(req.payload.decode())
            if len(data) != len(self.input):
                return Status.NO_INPUT_FILE, b""
            self.input[:] = data
            return Status.OK, struct.pack("<II", len(data), zlib.crc32(data))
        if req.command == Command.INVOKE:
            self.invokes += 1
            return Status.OK, struct.pack("<I", 1000 + sum(self.input)) + bytes(self.input[: self.output_bytes])
        if req.command == Command.LAYER_PROFILE:
            if self.layer_ticks is None:
                return Status.NO_PROFILE, b""
            ticks = self.layer_ticks(self.invokes)
            return Status.OK, struct.pack(f"<H{len(ticks)}I", len(ticks), *ticks)
        return Status.UNKNOWN_COMMAND, b""

    def _info(self) -> bytes:
        def rec(tag: InfoTag, value: bytes) -> bytes:
            return bytes([tag, len(value)]) + value

        return (rec(InfoTag.VERSION, bytes([self.version])) + rec(InfoTag.BOARD, b"fake")
                + rec(InfoTag.TIMER_UNIT, b"cycles") + rec(InfoTag.INPUT_BYTES, struct.pack("<I", len(self.input)))
                + rec(InfoTag.OUTPUT_BYTES, struct.pack("<I", self.output_bytes)) + rec(0x7E, b"future")
                + b"".join(rec(tag, value) for tag, value in self.extra_info.items())
                + (b"" if self.layer_ticks is None else rec(InfoTag.PROFILE_LAYERS, b"\x01")
                   + rec(InfoTag.LAYERS, struct.pack("<H", len(self.layer_ticks(1))))))


def _nack_seq(raw: bytes) -> int:
    """The seq byte tc_proto.c puts in a NACK: the third byte COBS-decoded as far as it goes, else 0."""
    decoded, i = bytearray(), 0
    while i < len(raw) and len(decoded) < 3:
        code = raw[i]
        decoded += raw[i + 1 : i + code]
        i += code
        if code != 255 and i < len(raw):
            decoded.append(0)
    return decoded[2] if len(decoded) > 2 else 0


def shape_record(shape: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(shape)}I", *shape)


def quant_record(scale: float, zero_point: int) -> bytes:
    return struct.pack("<fi", scale, zero_point)


class FaultyLoopPort:
    """A ``loop://`` port with a fake device behind it and faults in between.

    ``to_device`` and ``to_host`` are queues of faults applied to successive
    writes in that direction (``None`` = deliver intact). After ``go_silent()``
    the device answers nothing, like a board that hung or was unplugged.
    """

    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.loop = serial.serial_for_url("loop://", timeout=0.02)
        self.to_device: list[Fault | None] = []
        self.to_host: list[Fault | None] = []
        self.silent = False
        self.answer_delay_s = 0.0  # a slow device: answers arrive this much later

    @property
    def timeout(self) -> float | None:
        return self.loop.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self.loop.timeout = value

    @property
    def in_waiting(self) -> int:
        return self.loop.in_waiting

    def read(self, size: int = 1) -> bytes:
        return self.loop.read(size)

    def write(self, data: bytes) -> int:
        if self.to_device:
            fault = self.to_device.pop(0)
            data = fault(data) if fault else data
        if self.silent:
            return len(data)
        answer = self.device.receive(data)
        if answer and self.to_host:
            fault = self.to_host.pop(0)
            answer = fault(answer) if fault else answer
        if self.answer_delay_s:
            threading.Timer(self.answer_delay_s, self.loop.write, (answer,)).start()
        else:
            self.loop.write(answer)
        return len(data)

    def go_silent(self) -> None:
        self.silent = True

    def close(self) -> None:
        self.loop.close()


def flip_bit(index: int, bit: int = 0) -> Fault:
    def fault(data: bytes) -> bytes:
        out = bytearray(data)
        out[index % len(out)] ^= 1 << bit
        return bytes(out)

    return fault


def drop_byte(index: int) -> Fault:
    return lambda data: data[:index] + data[index + 1 :]


def duplicate_byte(index: int) -> Fault:
    return lambda data: data[: index + 1] + data[index:]


def prepend(garbage: bytes) -> Fault:
    return lambda data: garbage + data


def append(garbage: bytes) -> Fault:
    return lambda data: data + garbage


def cut_and_die(port: FaultyLoopPort, keep: int) -> Fault:
    """Deliver only the first ``keep`` bytes, then the device stops answering."""

    def fault(data: bytes) -> bytes:
        port.go_silent()
        return data[:keep]

    return fault


class FakeDeviceServer:
    """The fake device behind a TCP socket, so the whole CLI can reach it with ``--port socket://...``.

    After ``answers`` answers the device ends as ``ending`` says: ``"close"``
    closes the connection (a board unplugged or reset), ``"silent"`` keeps it
    open and answers nothing more (a hung board). Use as a context manager.
    """

    def __init__(self, device: FakeDevice, *, answers: int | None = None, ending: str = "close") -> None:
        self.device = device
        self._answers = answers
        self._ending = ending
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(10)
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeDeviceServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(0.05)
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                if not data:
                    return
                if self._answers is not None and len(self.device.requests) >= self._answers:
                    if self._ending == "close":
                        return
                    continue
                conn.sendall(self.device.receive(data))
