"""Protocol constants and payload layouts, as ``docs/protocol.md`` defines them.

``tests/link/test_spec.py`` checks these values against the tables in the
spec and against ``firmware/protocol/tc_proto.h``.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1
ANSWER_BIT = 0x80
NACK_COMMAND = 0xFF
HELLO_MAGIC = b"TCMP"
SET_INPUT_HEADER_BYTES = 4


class Command(enum.IntEnum):
    HELLO = 0x01
    INFO = 0x02
    SET_INPUT = 0x03
    INVOKE = 0x04
    LAYER_PROFILE = 0x05
    LOAD_INPUT = 0x06


class Status(enum.IntEnum):
    OK = 0x00
    BAD_FRAME = 0x01
    BAD_VERSION = 0x02
    UNKNOWN_COMMAND = 0x03
    BAD_LENGTH = 0x04
    BAD_OFFSET = 0x05
    INVOKE_FAILED = 0x06
    NO_PROFILE = 0x07
    NOT_INVOKED = 0x08
    INPUT_STALE = 0x09
    NO_INPUT_FILE = 0x0A


class InfoTag(enum.IntEnum):
    VERSION = 0x01
    RX_MAX = 0x02
    BOARD = 0x03
    TIMER_UNIT = 0x04
    MODEL_HASH = 0x05
    INPUT_BYTES = 0x06
    OUTPUT_BYTES = 0x07
    ARENA_BYTES = 0x08
    LAYERS = 0x09
    PROFILE_LAYERS = 0x0A
    FLASH_BYTES = 0x0B
    RAM_BYTES = 0x0C
    INPUT_SHAPE = 0x0D
    INPUT_QUANT = 0x0E
    OUTPUT_SHAPE = 0x0F
    OUTPUT_QUANT = 0x10
    CORE_CLOCK_HZ = 0x11


def status_name(code: int) -> str:
    """The spec's name for a status code, or ``STATUS_0x..`` if unknown."""
    try:
        return Status(code).name
    except ValueError:
        return f"STATUS_0x{code:02X}"


def command_name(code: int) -> str:
    try:
        return Command(code).name
    except ValueError:
        return f"COMMAND_0x{code:02X}"


class PayloadError(ValueError):
    """An answer's payload (with a valid CRC) does not have the spec's layout."""


@dataclass(frozen=True)
class Hello:
    version: int
    rx_max: int


@dataclass(frozen=True)
class Quant:
    scale: float
    zero_point: int


@dataclass(frozen=True)
class DeviceInfo:
    """What the firmware says about itself; ``None`` for records it left out."""

    version: int | None = None
    rx_max: int | None = None
    board: str | None = None
    timer_unit: str | None = None
    model_hash: str | None = None
    input_bytes: int | None = None
    output_bytes: int | None = None
    arena_bytes: int | None = None
    layers: int | None = None
    profile_layers: bool = False
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    input_shape: tuple[int, ...] | None = None
    input_quant: Quant | None = None
    output_shape: tuple[int, ...] | None = None
    output_quant: Quant | None = None
    core_clock_hz: int | None = None  # 0 = the device does not know; None = firmware older than the record
    unknown_tags: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class InvokeResult:
    latency: int
    output: bytes


def parse_hello(payload: bytes) -> Hello:
    if len(payload) != 7 or payload[3:] != HELLO_MAGIC:
        raise PayloadError(f"HELLO answer of {len(payload)} bytes is not a tinycompress device's")
    version, rx_max = struct.unpack("<BH", payload[:3])
    return Hello(version, rx_max)


def _u32(value: bytes) -> int:
    if len(value) != 4:
        raise PayloadError(f"expected a 4-byte integer, got {len(value)} bytes")
    return struct.unpack("<I", value)[0]


def _shape(value: bytes) -> tuple[int, ...]:
    if len(value) % 4:
        raise PayloadError(f"shape record of {len(value)} bytes is not a list of u32")
    return struct.unpack(f"<{len(value) // 4}I", value)


def _quant(value: bytes) -> Quant:
    if len(value) != 8:
        raise PayloadError(f"quantization record of {len(value)} bytes, expected 8")
    scale, zero_point = struct.unpack("<fi", value)
    return Quant(scale, zero_point)


def _text(value: bytes) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        raise PayloadError("text record is not ASCII") from None


def _u8(value: bytes) -> int:
    if len(value) != 1:
        raise PayloadError(f"expected a 1-byte integer, got {len(value)} bytes")
    return value[0]


def _u16(value: bytes) -> int:
    if len(value) != 2:
        raise PayloadError(f"expected a 2-byte integer, got {len(value)} bytes")
    return struct.unpack("<H", value)[0]


_INFO_FIELDS = {
    InfoTag.VERSION: ("version", _u8),
    InfoTag.RX_MAX: ("rx_max", _u16),
    InfoTag.BOARD: ("board", _text),
    InfoTag.TIMER_UNIT: ("timer_unit", _text),
    InfoTag.MODEL_HASH: ("model_hash", _text),
    InfoTag.INPUT_BYTES: ("input_bytes", _u32),
    InfoTag.OUTPUT_BYTES: ("output_bytes", _u32),
    InfoTag.ARENA_BYTES: ("arena_bytes", _u32),
    InfoTag.LAYERS: ("layers", _u16),
    InfoTag.PROFILE_LAYERS: ("profile_layers", lambda v: bool(_u8(v))),
    InfoTag.FLASH_BYTES: ("flash_bytes", _u32),
    InfoTag.RAM_BYTES: ("ram_bytes", _u32),
    InfoTag.INPUT_SHAPE: ("input_shape", _shape),
    InfoTag.INPUT_QUANT: ("input_quant", _quant),
    InfoTag.OUTPUT_SHAPE: ("output_shape", _shape),
    InfoTag.OUTPUT_QUANT: ("output_quant", _quant),
    InfoTag.CORE_CLOCK_HZ: ("core_clock_hz", _u32),
}


def parse_info(payload: bytes) -> DeviceInfo:
    """Decode INFO records; unknown tags are kept by number, not rejected."""
    values: dict[str, object] = {}
    unknown: list[int] = []
    i = 0
    while i < len(payload):
        if i + 2 > len(payload):
            raise PayloadError("INFO record header cut short")
        tag, length = payload[i], payload[i + 1]
        value = payload[i + 2 : i + 2 + length]
        if len(value) != length:
            raise PayloadError(f"INFO record 0x{tag:02X} cut short")
        i += 2 + length
        try:
            name, parse = _INFO_FIELDS[InfoTag(tag)]
        except ValueError:
            unknown.append(tag)
            continue
        values[name] = parse(value)
    info = DeviceInfo(**values, unknown_tags=tuple(unknown))
    _check_info(info)
    return info


def _check_info(info: DeviceInfo) -> None:
    """Records that contradict the protocol or each other: the answer cannot be trusted."""
    if info.version is not None and info.version != PROTOCOL_VERSION:
        raise PayloadError(f"INFO says protocol v{info.version} in a v{PROTOCOL_VERSION} frame")
    if info.rx_max is not None and info.rx_max <= SET_INPUT_HEADER_BYTES:
        raise PayloadError(f"INFO gives a {info.rx_max}-byte receive buffer, too small for any SET_INPUT")
    for what, size, shape in (("input", info.input_bytes, info.input_shape),
                              ("output", info.output_bytes, info.output_shape)):
        if size == 0:
            raise PayloadError(f"INFO gives a 0-byte {what}")
        if size is not None and shape is not None and math.prod(shape) != size:
            raise PayloadError(f"INFO gives a {size}-byte {what} of shape {list(shape)}")
    if info.layers == 0:
        raise PayloadError("INFO gives a model of 0 layers")


def encode_set_input(offset: int, data: bytes) -> bytes:
    return struct.pack("<I", offset) + data


def parse_set_input(payload: bytes, expected_end: int) -> int:
    """The end offset the device acknowledged: the chunk's end, or the answer is malformed."""
    end = _u32(payload)
    if end != expected_end:
        raise PayloadError(f"SET_INPUT acknowledged up to byte {end}, the chunk ends at byte {expected_end}")
    return end


def parse_load_input(payload: bytes, expected_bytes: int, expected_crc: int) -> int:
    """LOAD_INPUT's answer: the device loaded exactly the host's bytes, or the answer is malformed."""
    if len(payload) != 8:
        raise PayloadError(f"LOAD_INPUT answer of {len(payload)} bytes, expected 8")
    size, crc = struct.unpack("<II", payload)
    if (size, crc) != (expected_bytes, expected_crc):
        raise PayloadError(f"LOAD_INPUT loaded {size} bytes of CRC-32 {crc:08x}, the input is {expected_bytes} "
                           f"bytes of CRC-32 {expected_crc:08x}")
    return size


def parse_invoke(payload: bytes, output_bytes: int | None) -> InvokeResult:
    if len(payload) < 4:
        raise PayloadError(f"INVOKE answer of {len(payload)} bytes has no latency field")
    output = payload[4:]
    if output_bytes is not None and len(output) != output_bytes:
        raise PayloadError(f"INVOKE answer holds {len(output)} output bytes, the model has {output_bytes}")
    return InvokeResult(_u32(payload[:4]), bytes(output))


def parse_layer_profile(payload: bytes, layers: int | None) -> tuple[int, ...]:
    """Per-layer counts; ``layers`` is the model's layer count when known (INFO or the model)."""
    if len(payload) < 2:
        raise PayloadError("LAYER_PROFILE answer has no layer count")
    count = _u16(payload[:2])
    if len(payload) != 2 + 4 * count:
        raise PayloadError(f"LAYER_PROFILE answer announces {count} layers but holds {len(payload) - 2} bytes")
    if count == 0 or (layers is not None and count != layers):
        raise PayloadError(f"LAYER_PROFILE answer has {count} layers, the model {layers or 'at least 1'}")
    return struct.unpack(f"<{count}I", payload[2:])
