"""A Python device side of the protocol, for fault-injection tests only.

The real device is firmware/protocol/tc_proto.c (tested in
test_host_native.py). This stand-in exists because only in Python can a test
flip a chosen bit, drop or repeat a byte, or go silent in the middle of an
answer at an exact point. It sits behind a ``loop://`` port: what the host
writes goes to the device, what the device answers is written into the loop
for the host to read.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable

import serial

from tinycompress.link.frame import Frame, FrameDecoder, FrameError, encode_frame
from tinycompress.link.protocol import ANSWER_BIT, HELLO_MAGIC, NACK_COMMAND, PROTOCOL_VERSION, Command, InfoTag, Status

Fault = Callable[[bytes], bytes]


class FakeDevice:
    """Answers like tc_proto.c for a model whose output is the first input bytes."""

    def __init__(self, *, input_bytes: int = 300, output_bytes: int = 4, rx_max: int = 128,
                 version: int = PROTOCOL_VERSION, extra_info: dict[int, bytes] | None = None) -> None:
        """``extra_info``: more INFO records (tag -> value), e.g. shapes, quantization, memory."""
        self.extra_info = dict(extra_info or {})
        self.input = bytearray(input_bytes)
        self.output_bytes = output_bytes
        self.rx_max = rx_max
        self.version = version
        self.invokes = 0
        self.requests: list[Frame] = []
        self._decoder = FrameDecoder()

    def receive(self, data: bytes) -> bytes:
        """Wire bytes from the host in, wire bytes of the answers out."""
        out = b""
        for item in self._decoder.feed(data):
            if isinstance(item, FrameError) or len(item.payload) > self.rx_max:
                out += encode_frame(Frame(self.version, NACK_COMMAND, 0, Status.BAD_FRAME))
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
        if req.command == Command.INVOKE:
            self.invokes += 1
            return Status.OK, struct.pack("<I", 1000 + sum(self.input)) + bytes(self.input[: self.output_bytes])
        if req.command == Command.LAYER_PROFILE:
            return Status.NO_PROFILE, b""
        return Status.UNKNOWN_COMMAND, b""

    def _info(self) -> bytes:
        def rec(tag: InfoTag, value: bytes) -> bytes:
            return bytes([tag, len(value)]) + value

        return (rec(InfoTag.VERSION, bytes([self.version])) + rec(InfoTag.BOARD, b"fake")
                + rec(InfoTag.TIMER_UNIT, b"cycles") + rec(InfoTag.INPUT_BYTES, struct.pack("<I", len(self.input)))
                + rec(InfoTag.OUTPUT_BYTES, struct.pack("<I", self.output_bytes)) + rec(0x7E, b"future")
                + b"".join(rec(tag, value) for tag, value in self.extra_info.items()))


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


def cut_and_die(port: FaultyLoopPort, keep: int) -> Fault:
    """Deliver only the first ``keep`` bytes, then the device stops answering."""

    def fault(data: bytes) -> bytes:
        port.go_silent()
        return data[:keep]

    return fault
