"""Emulator tier: QEMU never outlives `tinycompress profile`, and SIGTERM keeps the measurements.

`profile` runs in a subprocess on a real emulated project and starts QEMU
itself. SIGKILL gives it no chance to clean up: the kernel must end QEMU
(parent-death signal). SIGTERM must end the run like Ctrl-C: partial report,
non-zero exit, QEMU stopped. Whatever happens, the test stops the QEMU it
caused to start.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from protocol_project import export_and_build

from tinycompress.project.boards import get_board

pytestmark = pytest.mark.emulator

BOARD = "qemu-netduinoplus2"
SAMPLES = 20_000  # far more than the test lets run


@pytest.fixture(scope="module")
def built(digits_tflite_path: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("proj") / BOARD
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        return export_and_build(digits_tflite_path, BOARD, out, runtime_arch=get_board(BOARD).runtime_arch)


@pytest.fixture(scope="module")
def long_data(digits, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits test set repeated: a run that would take minutes."""
    path = tmp_path_factory.mktemp("data") / "long.npz"
    repeats = -(-SAMPLES // len(digits.x_test))
    np.savez(path, x_train=digits.x_train, y_train=digits.y_train,
             x_test=np.concatenate([digits.x_test] * repeats)[:SAMPLES],
             y_test=np.concatenate([digits.y_test] * repeats)[:SAMPLES])
    return path


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of the live children of ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append((int(entry.name), name))
    return found


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for its (possibly gone) parent to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@contextlib.contextmanager
def profiling(project: Path, data: Path, report: Path) -> Iterator[tuple[subprocess.Popen, int, int]]:
    """`tinycompress profile` on a pseudo-terminal (so it draws its progress bar); yields it, the
    terminal's reading end and QEMU's pid. Both processes are gone when the block ends."""
    reader, writer = pty.openpty()
    env = dict(os.environ, TERM="xterm", COLUMNS="120")
    process = subprocess.Popen([sys.executable, "-c", "from tinycompress.cli import main; main()", "profile",
                                str(project), "--data", str(data), "-o", str(report), "--timeout", "2"],
                               stdin=subprocess.DEVNULL, stdout=writer, stderr=writer, env=env)
    os.close(writer)
    qemu = None
    try:
        deadline = time.monotonic() + 120
        while qemu is None:
            assert process.poll() is None, f"profile ended (exit {process.returncode}) before starting QEMU"
            assert time.monotonic() < deadline, "profile did not start QEMU within 120 s"
            qemu = next((pid for pid, name in _children(process.pid) if name.startswith("qemu-system")), None)
            time.sleep(0.1)
        yield process, reader, qemu
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if qemu is not None and _alive(qemu):
            os.kill(qemu, signal.SIGKILL)
        os.close(reader)


def _read(reader: int, wait: float) -> str:
    """What the terminal shows within ``wait`` s (reading it also keeps the writer from blocking)."""
    if not select.select([reader], [], [], wait)[0]:
        return ""
    try:
        return os.read(reader, 65536).decode("utf-8", "replace")
    except OSError:  # the terminal's last writer is gone
        return ""


def _wait_for_samples(process: subprocess.Popen, reader: int, count: int, timeout: float = 120) -> None:
    """Read the progress bar until it shows at least ``count`` samples profiled."""
    text, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        text += _read(reader, 0.2)
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
        done = [int(n) for n in re.findall(rf"profiling on {BOARD}[^\d\n]*?(\d+)/{SAMPLES}", plain)]
        if done and max(done) >= count:
            return
    pytest.fail(f"profile did not reach {count} samples: {text[-500:]!r}")


def _exit_status(process: subprocess.Popen, reader: int, timeout: float) -> int:
    """Wait for ``process`` to end, draining its terminal meanwhile."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        _read(reader, 0.1)
    return process.wait(timeout=1)


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_sigkill_of_profile_takes_qemu_down(built, long_data: Path, tmp_path: Path) -> None:
    with profiling(built.project.path, long_data, tmp_path / "report.json") as (process, reader, qemu):
        _wait_for_samples(process, reader, 5)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _gone_within(qemu, 5), "QEMU still runs 5 s after profile was killed"
    assert not (tmp_path / "report.json").exists()


def test_sigterm_of_profile_writes_the_partial_report_and_stops_qemu(built, long_data: Path,
                                                                    tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with profiling(built.project.path, long_data, report_path) as (process, reader, qemu):
        _wait_for_samples(process, reader, 5)
        process.send_signal(signal.SIGTERM)
        assert _exit_status(process, reader, 60) == 6
        assert _gone_within(qemu, 5), "QEMU still runs after profile ended on SIGTERM"
    report = json.loads(report_path.read_text())
    assert report["complete"] is False and report["stopped"] == "terminated by SIGTERM"
    assert 5 <= report["samples"] < SAMPLES and report["samples_requested"] == SAMPLES
    assert report["outputs_bit_exact"] is True
