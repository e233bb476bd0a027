"""Framing: COBS between 0x00 delimiters, a 4-byte header and a CRC-32.

Kept apart from the transport (like pyserial's ``Packetizer``) so it can be
tested byte by byte. ``docs/protocol.md`` is the specification.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

DELIMITER = 0x00
HEADER_BYTES = 4
CRC_BYTES = 4
MAX_FRAME_BYTES = 65536
MIN_WIRE_BYTES = HEADER_BYTES + CRC_BYTES + 1  # the shortest frame, COBS-encoded, between its delimiters


class FrameError(ValueError):
    """A received frame is malformed (COBS, size or CRC); it is dropped whole.

    ``size`` is how many bytes lay between its delimiters. Fewer than
    ``MIN_WIRE_BYTES`` cannot be a damaged frame, only noise (a stray byte
    between two frames), so the link skips those without repeating a request.
    """

    def __init__(self, message: str, size: int = 0) -> None:
        super().__init__(message)
        self.size = size

    @property
    def noise(self) -> bool:
        return self.size < MIN_WIRE_BYTES


@dataclass(frozen=True)
class Frame:
    version: int
    command: int
    seq: int
    status: int
    payload: bytes = b""


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data``: the result holds no zero byte."""
    out = bytearray()
    block = bytearray()
    for byte in data:
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254:
            out.append(255)
            out += block
            block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Invert :func:`cobs_encode`; raise ``FrameError`` on a bad encoding."""
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            raise FrameError("zero byte inside a COBS frame")
        end = i + code
        if end > len(data):
            raise FrameError("COBS block runs past the end of the frame")
        block = data[i + 1 : end]
        if 0 in block:
            raise FrameError("zero byte inside a COBS block")
        out += block
        i = end
        if code != 255 and i < len(data):
            out.append(0)
    return bytes(out)


def encode_frame(frame: Frame) -> bytes:
    """The bytes to put on the wire for ``frame``, delimiters included."""
    body = struct.pack("<BBBB", frame.version, frame.command, frame.seq, frame.status) + frame.payload
    body += struct.pack("<I", zlib.crc32(body))
    return bytes([DELIMITER]) + cobs_encode(body) + bytes([DELIMITER])


def decode_frame(encoded: bytes) -> Frame:
    """Decode one frame's bytes between two delimiters; ``FrameError`` if corrupt."""
    body = cobs_decode(encoded)
    if len(body) < HEADER_BYTES + CRC_BYTES:
        raise FrameError(f"frame of {len(body)} bytes is shorter than the {HEADER_BYTES + CRC_BYTES}-byte minimum")
    (crc,) = struct.unpack("<I", body[-CRC_BYTES:])
    if zlib.crc32(body[:-CRC_BYTES]) != crc:
        raise FrameError("CRC mismatch")
    version, command, seq, status = body[:HEADER_BYTES]
    return Frame(version, command, seq, status, bytes(body[HEADER_BYTES:-CRC_BYTES]))


class FrameDecoder:
    """Splits a byte stream at delimiters into frames or ``FrameError`` values.

    Bytes before the first delimiter (a boot banner, noise) come out as one
    error, never as a frame: a frame counts only if it decodes and its CRC
    holds. Over-long runs without a delimiter are cut off and reported.
    """

    def __init__(self, max_frame: int = MAX_FRAME_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_frame
        self._overflow = False

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        items: list[Frame | FrameError] = []
        for byte in data:
            if byte != DELIMITER:
                if len(self._buf) < self._max + 2:
                    self._buf.append(byte)
                else:
                    self._overflow = True
                continue
            if self._overflow:
                items.append(FrameError(f"more than {self._max} bytes without a delimiter", self._max + 2))
            elif self._buf:
                try:
                    items.append(decode_frame(bytes(self._buf)))
                except FrameError as exc:
                    exc.size = len(self._buf)
                    items.append(exc)
            self._buf.clear()
            self._overflow = False
        return items

    @property
    def partial(self) -> bool:
        """Bytes of an unfinished frame are buffered (its closing delimiter has not come yet)."""
        return bool(self._buf) or self._overflow
