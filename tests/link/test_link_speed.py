"""The link at the speed of the device (issue 12): Nagle off, large frames, exact under faults.

A 27,648-byte input (MobileNet VWW at 96x96x3) goes in 1,020-byte chunks;
a fault in the middle of that transfer must cost a repeat of one frame,
never a wrong byte in the device's input.
"""

from __future__ import annotations

import socket

import pytest

from fake_device import FakeDevice, FaultyLoopPort, drop_byte, duplicate_byte, flip_bit
from tinycompress.link import Command, DeviceLink
from tinycompress.link.client import open_link
from tinycompress.profile.session import invoke_on

pytestmark = pytest.mark.host

INPUT = bytes((31 * i + 7) % 256 for i in range(96 * 96 * 3))
RX_MAX = 1024
CHUNKS = -(-len(INPUT) // (RX_MAX - 4))


def make_link() -> tuple[DeviceLink, FaultyLoopPort]:
    port = FaultyLoopPort(FakeDevice(input_bytes=len(INPUT), rx_max=RX_MAX))
    link = DeviceLink(port, "loop://", timeout=0.3, retries=3)
    link.connect(boot_timeout=2)
    link.info()
    return link, port


def test_large_input_goes_in_few_full_frames() -> None:
    link, port = make_link()
    result = invoke_on(link, INPUT)
    chunks = [r for r in port.device.requests if r.command == Command.SET_INPUT]
    assert len(chunks) == CHUNKS == 28
    assert all(len(c.payload) - 4 == RX_MAX - 4 for c in chunks[:-1])
    assert bytes(port.device.input) == INPUT and result.output == INPUT[:4]
    assert link.stats.retries == 0


def _lose(data: bytes) -> bytes:
    return b""


MIDDLE = CHUNKS // 2
FAULTS = {
    "bit flip in a request": ("to_device", flip_bit(500, 2)),
    "byte dropped from a request": ("to_device", drop_byte(700)),
    "byte repeated in a request": ("to_device", duplicate_byte(300)),
    "answer corrupted": ("to_host", flip_bit(6, 1)),
    "answer lost": ("to_host", _lose),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_in_the_middle_of_a_large_input_costs_one_repeat(fault: str) -> None:
    link, port = make_link()
    direction, damage = FAULTS[fault]
    setattr(port, direction, [None] * MIDDLE + [damage])
    result = invoke_on(link, INPUT)
    assert bytes(port.device.input) == INPUT
    assert result.output == INPUT[:4] and result.latency == 1000 + sum(INPUT)
    assert link.stats.retries == 1
    offsets = [int.from_bytes(r.payload[:4], "little") for r in port.device.requests
               if r.command == Command.SET_INPUT]
    assert sorted(set(offsets)) == [i * (RX_MAX - 4) for i in range(CHUNKS)]


def test_socket_port_sends_without_nagle() -> None:
    """pyserial leaves Nagle on: the host's frames would wait for the device's ACKs."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        with open_link(url, timeout=0.5) as link:
            sock = link._port._socket
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_qemu_serial_server_sends_without_nagle() -> None:
    """QEMU writes the guest's UART a byte at a time: with Nagle each answer waited ~40 ms for an ACK."""
    from tinycompress.project.boards import get_board
    from tinycompress.project.qemu import qemu_command, serial_server

    command = qemu_command(get_board("qemu-netduinoplus2"), "fw.elf", serial_server(4321))
    chardev = command[command.index("-serial") + 1]
    assert chardev.startswith("tcp:127.0.0.1:4321,") and "nodelay=on" in chardev.split(",")


def _file_link(tmp_path, load_file) -> tuple[DeviceLink, FaultyLoopPort]:
    port = FaultyLoopPort(FakeDevice(input_bytes=len(INPUT), rx_max=RX_MAX, load_file=load_file))
    link = DeviceLink(port, "loop://", timeout=0.3, retries=3, input_file=tmp_path / "input.bin")
    link.connect(boot_timeout=2)
    link.info()
    return link, port


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


LOAD_FAULTS = {  # the LOAD_INPUT request is a path: damage it near its start
    "bit flip in a request": ("to_device", flip_bit(20, 2)),
    "byte dropped from a request": ("to_device", drop_byte(20)),
    "byte repeated in a request": ("to_device", duplicate_byte(20)),
    "answer corrupted": ("to_host", flip_bit(6, 1)),
    "answer lost": ("to_host", _lose),
}


@pytest.mark.parametrize("fault", [None, *LOAD_FAULTS])
def test_load_input_is_one_request_and_exact_under_faults(tmp_path, fault: str | None) -> None:
    link, port = _file_link(tmp_path, _read)
    if fault:
        direction, damage = LOAD_FAULTS[fault]
        setattr(port, direction, [damage])
    result = invoke_on(link, INPUT)
    assert bytes(port.device.input) == INPUT and result.output == INPUT[:4]
    commands = [r.command for r in port.device.requests[2:]]
    assert Command.SET_INPUT not in commands and Command.LOAD_INPUT in commands
    assert link.stats.retries == (1 if fault else 0)


def test_load_input_of_another_file_is_refused_never_used(tmp_path) -> None:
    """The device read something else (a stale or foreign file): its CRC says so, the input is never run."""
    from tinycompress.errors import LinkError

    link, port = _file_link(tmp_path, lambda path: bytes(len(INPUT)))
    with pytest.raises(LinkError, match="LOAD_INPUT with a malformed payload 4 times"):
        link.set_input(INPUT)
    assert link.stats.malformed_answers == 4 and port.device.invokes == 0


@pytest.mark.parametrize("load_file", [None, lambda path: b"short"], ids=["older firmware", "unreadable file"])
def test_without_a_file_channel_the_input_goes_by_set_input(tmp_path, load_file) -> None:
    link, port = _file_link(tmp_path, load_file)
    for _ in range(2):
        result = invoke_on(link, INPUT)
        assert bytes(port.device.input) == INPUT and result.output == INPUT[:4]
    loads = [r for r in port.device.requests if r.command == Command.LOAD_INPUT]
    assert len(loads) == 1 and link.input_file is None  # asked once, then SET_INPUT for the session
    assert sum(r.command == Command.SET_INPUT for r in port.device.requests) == 2 * CHUNKS
