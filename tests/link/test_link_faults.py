"""The host link over loop:// against a fake device, with injected faults.

Each fault must end in either the exact right answer (after a bounded
number of retries) or a LinkError naming the port and the command; never a
wrong value.
"""

from __future__ import annotations

import re
import struct
import time

import numpy as np
import pytest

from fake_device import (
    FakeDevice,
    FaultyLoopPort,
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
from tinycompress.link.frame import Frame, encode_frame

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
    assert link.stats.retries >= 1


def test_garbage_before_answer_is_skipped() -> None:
    link, port = make_link()
    port.to_host = [prepend(b"\r\nboot banner v2\r\n\x00\x07\xff")]
    link.set_input(SAMPLE)
    assert link.invoke().output == SAMPLE[:4]


@pytest.mark.parametrize("fault", [flip_bit(3, 1), drop_byte(2), duplicate_byte(3), prepend(b"\x05\x05")])
def test_corrupted_request_is_nacked_and_repeated(fault) -> None:
    link, port = make_link()
    port.to_device = [fault]
    link.set_input(SAMPLE)
    assert bytes(port.device.input) == SAMPLE
    assert link.stats.nacks + link.stats.retries >= 1


def test_stale_answer_with_old_sequence_number_is_ignored() -> None:
    link, port = make_link()
    link.set_input(SAMPLE)
    stale = encode_frame(Frame(1, 0x84, (link._seq + 200) & 0xFF, 0, b"\x01\x00\x00\x00" + b"BAD!"))
    port.to_host = [prepend(stale)]
    result = link.invoke()
    assert result.output == SAMPLE[:4]
    assert link.stats.stale_frames >= 1


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
    for _ in range(2):  # later INVOKEs wait twice the slowest one seen: no more repeats
        assert link.invoke().output == bytes(4)
    assert link.stats.retries == first


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
