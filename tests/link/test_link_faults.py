"""The host link over loop:// against a fake device, with injected faults.

Each fault must end in either the exact right answer (after a bounded
number of retries) or a LinkError naming the port and the command; never a
wrong value.
"""

from __future__ import annotations

import dataclasses
import re
import struct
import time

import numpy as np
import pytest

from fake_device import (
    FakeDevice,
    FaultyLoopPort,
    append,
    cut_and_die,
    drop_byte,
    duplicate_byte,
    flip_bit,
    prepend,
    quant_record,
    shape_record,
)
from tinycompress.errors import LinkError
from tinycompress.link import Command, DeviceLink, DeviceStatusError, Status
from tinycompress.link.protocol import InfoTag
from tinycompress.link.frame import Frame, decode_frame, encode_frame
from tinycompress.profile.session import connect, stream

pytestmark = pytest.mark.host

URL = "loop://"
SAMPLE = bytes((7 * i + 3) % 256 for i in range(300))


def make_link(**device_options) -> tuple[DeviceLink, FaultyLoopPort]:
    port = FaultyLoopPort(FakeDevice(**device_options))
    link = DeviceLink(port, URL, timeout=0.3, retries=3)
    link.connect(boot_timeout=2)
    link.info()
    return link, port


def test_clean_session_round_trip() -> None:
    link, port = make_link(rx_max=16)
    link.set_input(SAMPLE)
    assert bytes(port.device.input) == SAMPLE
    result = link.invoke()
    assert result.output == SAMPLE[:4] and result.latency == 1000 + sum(SAMPLE)
    assert link.layer_profile() is None  # NO_PROFILE
    chunks = [r for r in port.device.requests if r.command == 0x03]
    assert len(chunks) == 300 // 12 and all(len(c.payload) - 4 <= 12 for c in chunks)
    assert link.stats.retries == 0


FAULTS = {
    "bit flip in answer": lambda port: flip_bit(6, 3),
    "bit flip in CRC": lambda port: flip_bit(-3, 7),
    "dropped byte": lambda port: drop_byte(5),
    "duplicated byte": lambda port: duplicate_byte(4),
    "truncated answer": lambda port: lambda data: data[:-4],
}


@pytest.mark.parametrize("fault", FAULTS)
def test_corrupted_answer_is_retried_never_used(fault: str) -> None:
    link, port = make_link()
    link.set_input(SAMPLE)
    port.to_host = [FAULTS[fault](port)]
    result = link.invoke()
    assert result.output == SAMPLE[:4] and result.latency == 1000 + sum(SAMPLE)
    assert link.stats.retries == 1  # one damaged answer, one repeat


def test_garbage_before_answer_is_skipped() -> None:
    """The banner and the answer arrive in one read: the frames after the damaged one are still used."""
    link, port = make_link()
    port.to_host = [prepend(b"\r\nboot banner v2\r\n\x00\x07\xff")]
    link.set_input(SAMPLE)
    assert link.invoke().output == SAMPLE[:4]
    assert link.stats.retries == 0 and port.device.invokes == 1
    assert link.stats.corrupted_frames == 1 and link.stats.noise == 1  # the banner; "07 ff" is too short for a frame


class ByteByBytePort(FaultyLoopPort):
    """Hands the host one byte per read, as a slow UART may: no frame arrives in one piece."""

    @property
    def in_waiting(self) -> int:
        return min(1, self.loop.in_waiting)


@pytest.mark.parametrize("port_type", [FaultyLoopPort, ByteByBytePort])
def test_noise_byte_after_every_answer_costs_no_retry(port_type: type[FaultyLoopPort]) -> None:
    port = port_type(FakeDevice(input_bytes=16, output_bytes=4))
    port.to_host = [append(b"\x42")] * 100
    link = DeviceLink(port, URL, timeout=0.3)
    info = connect(link, boot_timeout=2)
    inputs = np.arange(5 * 16).reshape(5, 16).astype(np.int8)
    measured = stream(link, info, inputs)
    assert measured.complete and [r.output for r in measured.results] == [x[:4].tobytes() for x in inputs]
    assert link.stats.retries == 0 and link.stats.corrupted_frames == 0
    assert link.stats.noise == link.stats.requests - 1  # each noise byte ends at the next answer's delimiter


@pytest.mark.parametrize("fault", [flip_bit(3, 1), drop_byte(2), duplicate_byte(3)])
def test_corrupted_request_is_nacked_and_repeated(fault) -> None:
    link, port = make_link()
    port.to_device = [fault]
    link.set_input(SAMPLE)
    assert bytes(port.device.input) == SAMPLE
    assert link.stats.retries == 1


def test_nack_naming_the_request_repeats_it_at_once() -> None:
    link, port = make_link()
    link.set_input(SAMPLE)
    port.to_device = [flip_bit(-3)]  # in the CRC: the device still reads the seq and names it in its NACK
    assert link.invoke().output == SAMPLE[:4]
    assert link.stats.nacks == 1 and link.stats.retries == 1 and link.stats.stale_frames == 0


@pytest.mark.parametrize("nack_seq", [0, "previous"])
def test_nack_of_noise_or_an_older_request_is_ignored(nack_seq: int | str) -> None:
    """Only a NACK with the request's seq means the request was lost: any other is stale, never a reason to repeat."""
    link, port = make_link()
    link.set_input(SAMPLE)
    seq = link._seq if nack_seq == "previous" else nack_seq  # invoke() will use link._seq + 1
    port.to_host = [prepend(encode_frame(Frame(1, 0xFF, seq, Status.BAD_FRAME)))]
    assert link.invoke().output == SAMPLE[:4]
    assert link.stats.retries == 0 and link.stats.nacks == 0 and link.stats.stale_frames == 1
    assert port.device.invokes == 1


def test_noise_before_a_request_is_nacked_but_not_repeated() -> None:
    """The device NACKs the noise (seq 0) and answers the request behind it: one SET_INPUT per chunk."""
    link, port = make_link()
    port.to_device = [prepend(b"\x05\x05")]
    link.set_input(SAMPLE)
    assert bytes(port.device.input) == SAMPLE
    assert link.stats.retries == 0 and link.stats.stale_frames == 1
    assert sum(r.command == Command.SET_INPUT for r in port.device.requests) == 3


def test_set_input_acknowledged_to_the_wrong_offset_is_retried_then_refused() -> None:
    def wrong_end(data: bytes) -> bytes:
        return encode_frame(dataclasses.replace(decode_frame(data[1:-1]), payload=b"\x05\x00\x00\x00"))

    link, port = make_link()
    port.to_host = [wrong_end] * 4
    with pytest.raises(LinkError, match=r"answered SET_INPUT with a malformed payload 4 times \(SET_INPUT "
                                        r"acknowledged up to byte 5, the chunk ends at byte 124\); host and firmware"):
        link.set_input(SAMPLE)
    assert link.stats.retries == 3 and link.stats.malformed_answers == 4


def test_answer_in_another_protocol_version_is_refused() -> None:
    """An OK answer with a sound CRC, but version 2 in its header: not trusted, like a v2 HELLO."""
    link, port = make_link()
    link.set_input(SAMPLE)
    port.to_host = [lambda data: encode_frame(dataclasses.replace(decode_frame(data[1:-1]), version=2))]
    with pytest.raises(LinkError, match=r"loop:// answered INVOKE in protocol v2, this host speaks v1; rebuild"):
        link.invoke()
    assert link.stats.retries == 0


def test_stale_answer_with_old_sequence_number_is_ignored() -> None:
    link, port = make_link()
    link.set_input(SAMPLE)
    stale = encode_frame(Frame(1, 0x84, (link._seq + 200) & 0xFF, 0, b"\x01\x00\x00\x00" + b"BAD!"))
    port.to_host = [prepend(stale)]
    result = link.invoke()
    assert result.output == SAMPLE[:4]
    assert link.stats.stale_frames == 1 and link.stats.retries == 0


def test_device_stopping_mid_frame_times_out_naming_port_and_command() -> None:
    link, port = make_link()
    link.set_input(SAMPLE)
    port.to_host = [cut_and_die(port, 7)]
    start = time.monotonic()
    with pytest.raises(LinkError, match=r"loop://.*INVOKE.*4 tries"):
        link.invoke()
    assert time.monotonic() - start < 4 * 0.3 + 1.0


def test_persistent_corruption_fails_after_bounded_retries() -> None:
    link, port = make_link()
    port.to_host = [flip_bit(5)] * 10
    with pytest.raises(LinkError, match=r"no valid answer from loop:// to INVOKE after 4 tries.*corrupted"):
        link.invoke()
    assert link.stats.retries == 3


def test_silent_device_at_connect_names_the_port() -> None:
    port = FaultyLoopPort(FakeDevice())
    port.go_silent()
    link = DeviceLink(port, URL, timeout=0.2)
    with pytest.raises(LinkError, match=r"no answer from loop:// to HELLO within 0.5 s"):
        link.connect(boot_timeout=0.5)


def test_device_answering_hello_later_than_the_first_wait_is_reached() -> None:
    """Every answer comes 0.7 s after its HELLO, past the first 0.5 s wait (QEMU starting on a loaded host).

    With a fixed 0.5 s per try, each answer arrived while the next HELLO (a
    new sequence number) was waited for, was dropped as stale, and connect
    failed after the whole boot timeout; the longer second wait gets it.
    """
    port = FaultyLoopPort(FakeDevice())
    port.answer_delay_s = 0.7
    link = DeviceLink(port, URL, timeout=5)
    assert link.connect(boot_timeout=10).rx_max == 128
    assert link.stats.requests == 2 and link.stats.stale_frames <= 1


def test_device_error_code_has_its_name() -> None:
    link, port = make_link()
    with pytest.raises(DeviceStatusError, match="SET_INPUT with BAD_OFFSET") as info:
        link._parsed(Command.SET_INPUT, b"\x2c\x01\x00\x00xyz", lambda p: p)
    assert info.value.status == Status.BAD_OFFSET


def test_protocol_version_mismatch_is_explained() -> None:
    port = FaultyLoopPort(FakeDevice(version=2))
    link = DeviceLink(port, URL, timeout=0.2)
    with pytest.raises(DeviceStatusError, match=r"BAD_VERSION \(device speaks v2, host v1"):
        link.connect(boot_timeout=1)


def test_unknown_info_records_are_kept_not_fatal() -> None:
    link, _ = make_link()
    info = link.info()
    assert info.board == "fake" and info.input_bytes == 300 and info.unknown_tags == (0x7E,)



def test_slow_invoke_stretches_the_invoke_timeout() -> None:
    link, port = make_link()
    link.timeout = 0.2
    port.answer_delay_s = 0.35  # slower than the timeout: the first INVOKE is repeated once
    assert link.invoke().output == bytes(4)
    first = link.stats.retries
    assert first >= 1
    assert link.invoke_timeout >= 0.7  # none answered at its first try yet: twice the whole INVOKE
    for _ in range(2):  # then twice the slowest first-try INVOKE: no more repeats
        assert link.invoke().output == bytes(4)
    assert link.stats.retries == first
    assert 0.7 <= link.invoke_timeout < 2.0


def lose(data: bytes) -> bytes:
    return b""


def test_lost_invoke_answers_leave_the_invoke_timeout_alone() -> None:
    """10 % of INVOKE answers lost (twice in a row once): each costs one wait of the base timeout, no more.

    Waiting for a lost answer once counted as INVOKE time, so every loss
    doubled the next wait (5, 10, 20, 40 s...).
    """
    port = FaultyLoopPort(FakeDevice(input_bytes=16, output_bytes=4))
    link = DeviceLink(port, URL, timeout=0.3)
    link.connect(boot_timeout=2)
    link.info()
    lost = {3, 9, 10, 22, 35, 47}
    for i in range(60):  # one SET_INPUT answer, then the INVOKE answer(s) of each sample
        port.to_host += [None, lose, None] if i in lost else [None, None]
    waits = []
    for i in range(60):
        sample = bytes((i + k) % 256 for k in range(16))
        link.set_input(sample)
        waits.append(link.invoke_timeout)
        assert link.invoke().output == sample[:4]
    assert link.stats.retries == len(lost) and not port.to_host
    assert waits == [0.3] * 60  # the fake answers at once: twice its INVOKE time is below the base timeout


def _digits_device(oracle, **override) -> FakeDevice:
    """A fake device that describes the digits model's tensors, with ``override`` records replacing some."""
    records = {
        InfoTag.INPUT_SHAPE: shape_record(oracle.input.shape),
        InfoTag.INPUT_QUANT: quant_record(oracle.input.scale, oracle.input.zero_point),
        InfoTag.OUTPUT_SHAPE: shape_record(oracle.output.shape),
        InfoTag.OUTPUT_QUANT: quant_record(oracle.output.scale, oracle.output.zero_point),
        InfoTag.FLASH_BYTES: struct.pack("<I", 40_000),
        InfoTag.RAM_BYTES: struct.pack("<I", 12_000),
    } | {InfoTag[name.upper()]: value for name, value in override.items()}
    return FakeDevice(input_bytes=int(np.prod(oracle.input.shape)), output_bytes=int(np.prod(oracle.output.shape)),
                      extra_info=records)


def test_device_describing_the_model_is_profiled_and_reported(digits_tflite: bytes, digits) -> None:
    from tinycompress.oracle import TflmOracle
    from tinycompress.profile.device import profile_link
    from tinycompress.profile.report import Target

    oracle = TflmOracle(digits_tflite)
    link = DeviceLink(FaultyLoopPort(_digits_device(oracle)), URL, timeout=0.3)
    report = profile_link(link, digits_tflite, digits.x_test, None, Target("fake", flash_bytes=39_990),
                          limit=2, boot_timeout=2)
    assert report["complete"] and report["samples"] == 2
    assert report["quantization"]["input"] == {"shape": list(oracle.input.shape), "scale": oracle.input.scale,
                                               "zero_point": oracle.input.zero_point}
    assert report["quantization"]["output"]["zero_point"] == oracle.output.zero_point
    assert report["memory"] == {"elf": {"flash_bytes": 39_990, "ram_bytes": None},
                                "device": {"flash_bytes": 40_000, "ram_bytes": 12_000}}
    assert report["memory_source"] == "elf" and report["flash_bytes"] == 39_990


@pytest.mark.parametrize("record, expected", [
    ("input_shape", r"input shape \[1, 64\], the model's is \[1, 8, 8, 1\]"),
    ("input_quant", r"input scale {dev}, the model's is {host}"),
    ("output_quant", r"output zero point {zp}, the model's is {host_zp}"),
])
def test_device_with_other_shape_or_quantization_is_refused(digits_tflite: bytes, digits, record: str,
                                                            expected: str) -> None:
    """A one-ulp scale difference, a zero point off by one or a reshaped input all stop the session."""
    from tinycompress.errors import DeviceError
    from tinycompress.oracle import TflmOracle
    from tinycompress.profile.device import profile_link
    from tinycompress.profile.report import Target

    oracle = TflmOracle(digits_tflite)
    near = float(np.nextafter(np.float32(oracle.input.scale), np.float32(1)))
    wrong = {
        "input_shape": shape_record((1, 64)),
        "input_quant": quant_record(near, oracle.input.zero_point),
        "output_quant": quant_record(oracle.output.scale, oracle.output.zero_point + 1),
    }[record]
    pattern = expected.format(dev=re.escape(f"{near:.9g}"), host=re.escape(f"{oracle.input.scale:.9g}"),
                              zp=oracle.output.zero_point + 1, host_zp=oracle.output.zero_point)
    device = _digits_device(oracle, **{record: wrong})
    link = DeviceLink(FaultyLoopPort(device), URL, timeout=0.3)
    with pytest.raises(DeviceError, match=f"firmware on loop:// has {pattern}; rebuild and flash the project"):
        profile_link(link, digits_tflite, digits.x_test, None, Target("fake"), limit=2, boot_timeout=2)
    assert not any(r.command == Command.SET_INPUT for r in device.requests)  # refused before streaming
