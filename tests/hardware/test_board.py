"""Hardware tier: the whole chain on the board named by ``--board``, and the link on its cable.

    .venv/bin/python -m pytest tests/hardware --board nucleo_l4r5zi --port /dev/ttyACM0
    .venv/bin/python -m pytest tests/hardware --board qemu-netduinoplus2

Skipped unless ``--board`` is given (tests/conftest.py). A real board is built
and flashed by PlatformIO (``tinycompress build`` / ``flash --port``) and
reached on ``--port``. An emulated board is built offline and "flashed" by
starting QEMU, which stands in for the upload only: from there on the tests
talk to the TCP serial URL QEMU gives through the same ``--port`` code path a
real port takes.
"""

from __future__ import annotations

import contextlib
import json
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import serial
from click.testing import CliRunner

from shared_checks import digits_cnn_int8
from tinycompress.cli import main
from tinycompress.compress.data import Dataset, load_dataset
from tinycompress.link import Command, DeviceLink, Status
from tinycompress.link.client import DEFAULT_BAUDRATE
from tinycompress.link.frame import DELIMITER, Frame, FrameDecoder, cobs_encode
from tinycompress.link.protocol import NACK_COMMAND, PROTOCOL_VERSION
from tinycompress.oracle import TflmOracle
from tinycompress.profile.device import quantize_inputs
from tinycompress.project.boards import Board, get_board

pytestmark = pytest.mark.hardware

SAMPLES = 20
BAD_SEQ = 0x5A  # the seq of the corrupted request, so its NACK can be told from the noise's


@pytest.fixture(scope="module")
def board(pytestconfig: pytest.Config) -> Board:
    return get_board(pytestconfig.getoption("--board"))


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits")


@pytest.fixture(scope="module")
def digits_tflite(digits: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CNN trained 3 epochs on digits, full int8: a real model, so accuracy means something."""
    path = tmp_path_factory.mktemp("model") / "digits_cnn.tflite"
    path.write_bytes(digits_cnn_int8(digits))
    return path


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, f"tinycompress {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result.output


@pytest.fixture(scope="module")
def project(board: Board, digits_tflite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tinycompress export`` + ``build``, as a user runs them."""
    path = tmp_path_factory.mktemp("hardware") / board.name
    _cli("export", str(digits_tflite), "--board", board.name, "-o", str(path), "--quiet")
    built = json.loads(_cli("build", str(path), "--json", "--quiet"))
    assert 0 < built["flash_used"] < board.flash_bytes and 0 < built["ram_used"] < board.ram_bytes, built
    return path


@pytest.fixture(scope="module")
def device(board: Board, project: Path,
           pytestconfig: pytest.Config) -> Callable[[], contextlib.AbstractContextManager[str]]:
    """Flash the firmware; returns what opens a session with it and yields its serial URL.

    A real board is flashed once (``tinycompress flash --port``). An emulated
    board starts a fresh QEMU per session, stopped whatever happens.
    """
    port = pytestconfig.getoption("--port")
    if port:
        _cli("flash", str(project), "--port", port)
        return lambda: contextlib.nullcontext(port)
    from tinycompress.project.project import load_project
    from tinycompress.project.qemu import start_qemu

    firmware = load_project(project).firmware

    @contextlib.contextmanager
    def emulated() -> Iterator[str]:
        with start_qemu(board, firmware) as session:
            yield session.url

    return emulated


def test_profile_on_the_board_is_bit_exact(board: Board, project: Path, device, tmp_path: Path) -> None:
    """export → build → flash → profile: every output byte equals TFLM's, accuracy equals the host's."""
    report_path = tmp_path / "report.json"
    with device() as url:
        _cli("profile", str(project), "--data", "digits", "--port", url, "--limit", str(SAMPLES),
             "-o", str(report_path), "--quiet")
    report = json.loads(report_path.read_text())
    assert report["device_board"] == board.name
    assert report["complete"] and report["samples"] == SAMPLES
    assert report["outputs_bit_exact"] is True and report["mismatched_samples"] == []
    assert report["accuracy"]["device"] == report["accuracy"]["host_int8"] > 0.5
    assert report["latency"]["unit"] == board.timer_unit and report["latency"]["min"] > 0
    assert report["link"]["retries"] == 0


def _await_frame(port: serial.SerialBase, wanted: Callable[[Frame], bool], timeout: float) -> Frame:
    """The first frame from the device that is ``wanted`` (AssertionError after ``timeout`` s)."""
    decoder, seen = FrameDecoder(), []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in decoder.feed(port.read(port.in_waiting or 1)):
            if isinstance(frame, Frame) and wanted(frame):
                return frame
            seen.append(frame)
    raise AssertionError(f"no awaited frame within {timeout} s; got {seen}")


def _open_serial(url: str, timeout: float = 10.0) -> serial.SerialBase:
    """Open ``url``, retrying while it is not there yet (a board re-enumerating after flashing, QEMU starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return serial.serial_for_url(url, baudrate=DEFAULT_BAUDRATE, timeout=0.05)
        except serial.SerialException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_link_survives_a_corrupted_request_and_a_garbage_burst(device, digits_tflite: Path,
                                                               digits: Dataset) -> None:
    """On the real cable: a request with a bad CRC is NACKed by the device; after a burst of noise
    (random bytes, and a run without delimiter longer than any request) a clean session still
    returns TFLM's exact output."""
    rng = np.random.default_rng(7)
    header = bytes([PROTOCOL_VERSION, Command.HELLO, BAD_SEQ, 0])
    bad_crc = (zlib.crc32(header) ^ 0xFFFF).to_bytes(4, "little")
    corrupted = bytes([DELIMITER]) + cobs_encode(header + bad_crc) + bytes([DELIMITER])
    noise = rng.integers(0, 256, 600, dtype=np.uint8).tobytes() + rng.integers(1, 256, 4096, dtype=np.uint8).tobytes()
    oracle = TflmOracle(digits_tflite.read_bytes())
    sample = quantize_inputs(digits.x_test[:1], oracle)[0]
    with device() as url:
        port = _open_serial(url)
        with DeviceLink(port, url, timeout=2) as link:
            link.connect(boot_timeout=10)
            port.write(corrupted)
            nack = _await_frame(port, lambda f: f.command == NACK_COMMAND and f.seq == BAD_SEQ, timeout=5)
            assert nack.status == Status.BAD_FRAME and nack.payload == b""
            port.write(noise + bytes([DELIMITER]))
            link.connect(boot_timeout=10)
            assert link.stats.stale_frames + link.stats.nacks >= 1, "the device answered none of the noise"
            info = link.info()
            assert info.input_bytes == sample.nbytes
            link.set_input(sample.tobytes())
            result = link.invoke()
    assert result.output == oracle.run_batch(sample[None]).tobytes()
