"""The real C protocol server (tc_proto.c + host port) against the real link.

Built with gcc around a hand-written placeholder model (tests/link/
placeholder_model), run as a process, reached through pyserial socket://.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import numpy as np
import pytest

from tinycompress.link import Command, DeviceStatusError, LinkDisconnected, Status, open_link
from tinycompress.link.frame import Frame, FrameDecoder, cobs_encode, encode_frame
from tinycompress.link.protocol import NACK_COMMAND
from tinycompress.profile.host import build_host_server, run_host_server

pytestmark = pytest.mark.host

PLACEHOLDER = Path(__file__).parent / "placeholder_model"


def placeholder_reference(data: bytes) -> bytes:
    """What placeholder_model/model.c computes."""
    x = np.frombuffer(data, np.int8).astype(np.int32)
    sums = np.clip([x[k::4].sum() for k in range(4)], -128, 127).astype(np.int8)
    return bytes(b ^ 0x55 for b in sums.tobytes())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_server(PLACEHOLDER, tmp_path_factory.mktemp("host") / "server", rx_max=40)


@pytest.fixture(scope="module")
def server_no_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_host_server(PLACEHOLDER, tmp_path_factory.mktemp("host") / "server", profile_layers=False)


def test_session_against_real_c(server: Path) -> None:
    rng = np.random.default_rng(0)
    with run_host_server(server) as url, open_link(url, timeout=1) as link:
        hello = link.connect()
        assert hello.rx_max == 40
        info = link.info()
        assert (info.board, info.timer_unit, info.input_bytes, info.output_bytes) == ("host", "ns", 300, 4)
        assert info.layers == 2 and info.profile_layers and info.arena_bytes == 304
        assert info.input_shape == (1, 300) and info.input_quant.zero_point == -3
        assert info.input_quant.scale == 0.5 and info.output_shape == (1, 4)
        assert info.output_quant.scale == 0.25 and info.output_quant.zero_point == 7
        assert info.flash_bytes is None and info.ram_bytes is None  # the host port: unknown, left out
        assert info.core_clock_hz == 0  # tc_proto.c sends the record; a host process has no core clock
        for _ in range(5):
            sample = rng.integers(-128, 128, 300, dtype=np.int8).tobytes()
            link.set_input(sample)
            result = link.invoke()
            assert result.output == placeholder_reference(sample)
            ticks = link.layer_profile()
            assert ticks is not None and len(ticks) == 2
        # at most the boot banner (pyserial may flush it when it opens the socket)
        assert link.stats.corrupted_frames <= 1 and link.stats.nacks == 0


def test_device_errors_from_real_c(server: Path, server_no_profile: Path) -> None:
    with run_host_server(server) as url, open_link(url, timeout=1) as link:
        link.connect()
        with pytest.raises(DeviceStatusError, match="NOT_INVOKED"):
            link.layer_profile()
        with pytest.raises(DeviceStatusError, match="BAD_OFFSET"):
            link._parsed(Command.SET_INPUT, struct.pack("<I", 299) + b"ab", lambda p: p)
        link.set_input(b"\x7f" + bytes(299))
        with pytest.raises(DeviceStatusError, match=r"INVOKE_FAILED \(model status 1\)") as failed:
            link.invoke()
        assert failed.value.status == Status.INVOKE_FAILED
    with run_host_server(server_no_profile) as url, open_link(url, timeout=1) as link:
        link.connect()
        assert link.info().profile_layers is False
        link.set_input(bytes(300))
        link.invoke()
        assert link.layer_profile() is None


def raw_exchange(url: str, wire: bytes) -> list:
    host, port = url.removeprefix("socket://").split(":")
    with socket.create_connection((host, int(port)), timeout=2) as conn:
        conn.sendall(wire)
        decoder, items = FrameDecoder(), []
        while not any(isinstance(i, Frame) for i in items):
            items += decoder.feed(conn.recv(4096))
        return [i for i in items if isinstance(i, Frame)]


@pytest.mark.parametrize("case", ["bit flip", "dropped byte", "oversized", "noise"])
def test_real_c_nacks_corrupted_requests(server: Path, case: str) -> None:
    good = bytearray(encode_frame(Frame(1, 0x01, 5, 0)))
    wire = {
        "bit flip": bytes(good[:4]) + bytes([good[4] ^ 0x10]) + bytes(good[5:]),
        "dropped byte": bytes(good[:3] + good[4:]),
        "oversized": encode_frame(Frame(1, 0x03, 5, 0, b"\x01" * 200)),
        "noise": b"\x00\x13\x37\xff\x00",
    }[case]
    with run_host_server(server) as url:
        frames = raw_exchange(url, wire)
    assert frames[0].command == NACK_COMMAND and frames[0].status == Status.BAD_FRAME


@pytest.mark.parametrize("case, seq", [("bad CRC", 5), ("oversized", 5), ("noise", 0)])
def test_real_c_nack_names_the_rejected_frame(server: Path, case: str, seq: int) -> None:
    """The NACK carries the seq byte the rejected frame had (0 if it was too short): the host repeats only its own."""
    good = bytearray(encode_frame(Frame(1, 0x01, 5, 0)))
    good[-2] ^= 0x40 if good[-2] != 0x40 else 0x20  # last CRC byte, never turned into a delimiter
    wire = {
        "bad CRC": bytes(good),
        "oversized": encode_frame(Frame(1, 0x03, 5, 0, b"\x01" * 200)),
        "noise": b"\x00\x13\x37\xff\x00",
    }[case]
    with run_host_server(server) as url:
        frames = raw_exchange(url, wire)
    assert (frames[0].command, frames[0].seq, frames[0].status) == (NACK_COMMAND, seq, Status.BAD_FRAME)


def test_real_c_rejects_other_protocol_version(server: Path) -> None:
    with run_host_server(server) as url:
        frames = raw_exchange(url, encode_frame(Frame(9, 0x01, 4, 0)))
    answer = frames[0]
    assert (answer.command, answer.seq, answer.status, answer.payload) == (0x81, 4, Status.BAD_VERSION, b"\x01")


def test_real_c_resyncs_after_noise_without_delimiter(server: Path) -> None:
    wire = b"\x55\x66" + cobs_encode(b"junk") + encode_frame(Frame(1, 0x01, 6, 0))
    with run_host_server(server) as url:
        host, port = url.removeprefix("socket://").split(":")
        with socket.create_connection((host, int(port)), timeout=2) as conn:
            conn.sendall(wire)
            decoder, frames = FrameDecoder(), []
            while not any(isinstance(f, Frame) and f.seq == 6 for f in frames):
                frames += decoder.feed(conn.recv(4096))
    answer = [f for f in frames if isinstance(f, Frame) and f.seq == 6][0]
    assert answer.command == 0x81 and answer.status == Status.OK


def test_server_vanishing_mid_run_is_a_link_error(server: Path) -> None:
    with run_host_server(server) as url:
        link = open_link(url, timeout=0.5, retries=1)
        link.connect()
        link.info()
    lost = r"lost socket://127\.0\.0\.1:\d+ while (sending|waiting for the answer to) SET_INPUT"
    with pytest.raises(LinkDisconnected, match=lost):
        link.set_input(bytes(300))
    link.close()


def test_firmware_ending_before_hello_is_explained(server: Path) -> None:
    with run_host_server(server, die_after_bytes=0) as url, open_link(url, timeout=0.5) as link:
        with pytest.raises(LinkDisconnected, match=r"before answering: does its application run the protocol server"):
            link.connect(boot_timeout=3)


def test_real_c_survives_random_noise_then_answers(server: Path) -> None:
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, 20000, dtype=np.uint8)
    noise[rng.random(noise.size) < 0.01] = 0  # some delimiters, so noise frames end and get NACKed
    with run_host_server(server) as url, open_link(url, timeout=2) as link:
        link._port.write(noise.tobytes())
        hello = link.connect(boot_timeout=5)
        assert hello.version == 1
        link.set_input(bytes(300))
        assert link.invoke().output == placeholder_reference(bytes(300))


def test_default_receive_buffer_takes_a_whole_frame_of_1020_input_bytes(server_no_profile: Path) -> None:
    """rx_max is 1024 unless built otherwise (it was 128: 223 round trips for a 27 KB input)."""
    sample = bytes(range(256)) + bytes(44)
    with run_host_server(server_no_profile) as url, open_link(url, timeout=1) as link:
        assert link.connect().rx_max == 1024
        link.info()
        before = link.stats.requests
        link.set_input(sample)
        assert link.stats.requests - before == 1  # the 300-byte input in one SET_INPUT frame
        assert link.invoke().output == placeholder_reference(sample)


def test_load_input_reads_the_host_file_in_one_request(server_no_profile: Path, tmp_path: Path) -> None:
    """LOAD_INPUT (the emulated boards' fast path) through the real C server; its answer carries the CRC."""
    rng = np.random.default_rng(3)
    with run_host_server(server_no_profile) as url, open_link(url, timeout=1) as link:
        link.input_file = tmp_path / "input.bin"  # what profile does for a QEMU it started
        link.connect()
        link.info()
        for _ in range(3):
            sample = rng.integers(-128, 128, 300, dtype=np.int8).tobytes()
            before = link.stats.requests
            link.set_input(sample)
            assert link.stats.requests - before == 1 and link.input_file is not None
            assert (tmp_path / "input.bin").read_bytes() == sample
            assert link.invoke().output == placeholder_reference(sample)


def test_load_input_of_an_unreadable_file_leaves_no_input(server_no_profile: Path, tmp_path: Path) -> None:
    with run_host_server(server_no_profile) as url, open_link(url, timeout=1) as link:
        link.connect()
        link.info()
        link.set_input(bytes(300))
        missing = str(tmp_path / "missing.bin").encode()
        with pytest.raises(DeviceStatusError) as raised:
            link._parsed(Command.LOAD_INPUT, missing, bytes)
        assert raised.value.status == Status.NO_INPUT_FILE
        with pytest.raises(DeviceStatusError) as stale:  # the failed load may have written part of the input
            link.invoke()
        assert stale.value.status == Status.INPUT_STALE
