"""Framing: COBS, CRC, delimiters, and that no corruption yields a frame."""

from __future__ import annotations

import random

import pytest

from tinycompress.link.frame import (
    Frame,
    FrameDecoder,
    FrameError,
    cobs_decode,
    cobs_encode,
    decode_frame,
    encode_frame,
)

pytestmark = pytest.mark.host


@pytest.mark.parametrize("size", [0, 1, 253, 254, 255, 508, 1000])
@pytest.mark.parametrize("fill", ["zeros", "ones", "random"])
def test_cobs_round_trip_has_no_zero(size: int, fill: str) -> None:
    rng = random.Random(size)
    data = {"zeros": bytes(size), "ones": b"\x01" * size,
            "random": bytes(rng.randrange(256) for _ in range(size))}[fill]
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert cobs_decode(encoded) == data


def test_frame_round_trip() -> None:
    frame = Frame(1, 0x84, 200, 0, bytes(range(256)) * 3)
    wire = encode_frame(frame)
    assert wire[0] == 0 and wire[-1] == 0 and 0 not in wire[1:-1]
    assert decode_frame(wire[1:-1]) == frame


def test_every_single_bit_flip_is_rejected() -> None:
    frame = Frame(1, 0x84, 7, 0, bytes([0, 1, 2, 0, 0, 255, 128]) * 5)
    wire = encode_frame(frame)
    for index in range(len(wire)):
        for bit in range(8):
            corrupted = bytearray(wire)
            corrupted[index] ^= 1 << bit
            frames = [item for item in FrameDecoder().feed(bytes(corrupted)) if isinstance(item, Frame)]
            assert frames == [], f"bit {bit} of byte {index} flipped yet a frame was accepted"


def test_every_dropped_or_duplicated_byte_is_rejected() -> None:
    wire = encode_frame(Frame(1, 0x82, 9, 0, b"hello\x00world" * 4))
    for index in range(1, len(wire) - 1):
        for corrupted in (wire[:index] + wire[index + 1 :], wire[: index + 1] + wire[index:]):
            assert not any(isinstance(i, Frame) for i in FrameDecoder().feed(corrupted)), index


def test_decoder_resyncs_after_boot_banner_and_noise() -> None:
    a = Frame(1, 0x81, 1, 0, b"abc")
    b = Frame(1, 0x82, 2, 0, b"")
    stream = b"Booting v1.0\r\n\xff\xfe" + encode_frame(a) + b"\x13\x37noise" + encode_frame(b)
    decoder = FrameDecoder()
    items = decoder.feed(stream[:5]) + decoder.feed(stream[5:])
    assert [i for i in items if isinstance(i, Frame)] == [a, b]
    assert sum(isinstance(i, FrameError) for i in items) == 2


def test_decoder_bounds_an_endless_frame() -> None:
    decoder = FrameDecoder(max_frame=64)
    items = decoder.feed(b"\x00" + b"\x41" * 1000 + b"\x00")
    assert len(items) == 1 and isinstance(items[0], FrameError)
    frame = Frame(1, 0x81, 3, 0, b"x")
    assert decoder.feed(encode_frame(frame)) == [frame]


def test_short_frame_is_rejected() -> None:
    with pytest.raises(FrameError, match="shorter"):
        decode_frame(cobs_encode(b"\x01\x02\x03"))


def test_decoder_tells_noise_from_a_damaged_frame() -> None:
    """Too few bytes for any frame is noise; a frame-sized run that fails its CRC may be a lost answer."""
    damaged = bytearray(encode_frame(Frame(1, 0x84, 7, 0, b"\x01\x02\x03\x04")))
    damaged[5] ^= 0x10
    decoder = FrameDecoder()
    items = decoder.feed(b"\x42\x00\x13\x37\x00" + bytes(damaged) + b"partial")
    assert [(i.size, i.noise) for i in items] == [(1, True), (2, True), (len(damaged) - 2, False)]
    assert decoder.partial
    assert decoder.feed(b"\x00") and not decoder.partial
