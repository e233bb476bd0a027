"""Emulator tier: a 27 KB input profiles bit-exact on every emulated board through the fast link.

MobileNet VWW at 96x96x3 (random weights) is the large-input model of
issue 12. Through the UART its input goes in 28 frames of 1,020 bytes, the
guest waits for each byte in WFI, and QEMU's serial server runs with Nagle
off; ``tinycompress profile`` sends it with one LOAD_INPUT through a file
QEMU reads for the guest (Arm or RISC-V semihosting, per board). Speed is measured by
benchmarks/link_throughput.py, not asserted here; these check that both
paths stay exact.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from protocol_project import export_and_build

pytestmark = pytest.mark.emulator

SAMPLES = 3
EMULATED = ("qemu-netduinoplus2", "qemu-mps3-an547", "qemu-riscv32")
# Boards whose guest sleeps while it waits (the M55's SysTick wrap wakes it
# at once under -icount sleep=off). A polling guest burns about half a core.
SLEEPING = ("qemu-netduinoplus2", "qemu-riscv32")
IDLE_S = 3.0
IDLE_CPU_S = 0.3


@pytest.fixture(scope="module")
def vww_tflite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import keras_int8

    tflite = tmp_path_factory.mktemp("vww") / "mobilenet_vww.tflite"
    tflite.write_bytes(keras_int8.convert_int8(keras_int8.mobilenet_vww(0, size=96), samples=8))
    return tflite


@pytest.fixture(scope="module", params=EMULATED)
def vww(request: pytest.FixtureRequest, vww_tflite: Path,
        tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The VWW model and its firmware built for one emulated board (the model is converted once)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        return vww_tflite, export_and_build(vww_tflite, request.param, tmp_path_factory.mktemp(request.param))


def test_large_input_profiles_bit_exact_over_the_fast_link(vww) -> None:
    from tinycompress.link import DeviceLink
    from tinycompress.profile.device import profile_link
    from tinycompress.profile.project import load_project
    from tinycompress.project.qemu import start_qemu

    tflite, built = vww
    profiled = load_project(built.project.path, tflite)
    x = np.random.default_rng(1).normal(0.0, 1.0, (SAMPLES, 96, 96, 3)).astype(np.float32)
    with start_qemu(built.project.board, built.firmware) as session, \
            DeviceLink(session.open_serial(), session.url, timeout=30) as link:
        chardev = session.process.args[session.process.args.index("-serial") + 1]
        report = profile_link(link, profiled.tflite, x, None, profiled.target())
        requests = link.stats.requests
    assert "nodelay=on" in chardev.split(",")
    assert report["complete"] and report["samples"] == SAMPLES
    assert report["outputs_bit_exact"] is True and report["mismatched_samples"] == []
    assert report["link"]["retries"] == 0
    # HELLO (repeated while the guest boots on a loaded machine), INFO, then per sample
    # 28 SET_INPUT frames (27,648 bytes in 1,020-byte chunks), INVOKE, LAYER_PROFILE
    boot_hellos = requests - 1 - SAMPLES * (28 + 2)
    assert 1 <= boot_hellos < 28


def test_cli_profile_loads_each_large_input_in_one_request(vww, tmp_path: Path) -> None:
    from tinycompress.cli import main

    tflite, built = vww
    data = tmp_path / "test.npz"
    x = np.random.default_rng(2).normal(0.0, 1.0, (SAMPLES, 96, 96, 3)).astype(np.float32)
    y = np.zeros(SAMPLES, dtype=np.int64)
    np.savez(data, x_train=x, y_train=y, x_test=x, y_test=y)
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["profile", str(built.project.path), "--data", str(data), "--model", str(tflite),
                                       "-o", str(report_path), "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["complete"] and report["samples"] == SAMPLES and report["outputs_bit_exact"] is True
    # HELLO (repeated while the guest boots on a loaded machine), INFO, then per sample LOAD_INPUT,
    # INVOKE, LAYER_PROFILE: no SET_INPUT frame at all (one input through the UART adds 28 requests)
    boot_hellos = report["link"]["requests"] - 1 - SAMPLES * 3
    assert 1 <= boot_hellos < 28 and report["link"]["retries"] == 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("vww", SLEEPING, indirect=True)
def test_guest_waiting_for_a_request_leaves_the_cpu_idle(vww) -> None:
    """The guest waits for the next byte in WFI: QEMU uses next to no CPU (an unclaimed PLIC source made it spin)."""
    from tinycompress.link import DeviceLink
    from tinycompress.project.qemu import start_qemu

    _, built = vww
    with start_qemu(built.project.board, built.firmware) as session, \
            DeviceLink(session.open_serial(), session.url, timeout=30) as link:
        link.connect(boot_timeout=30)
        before = _cpu_seconds(session.process.pid)
        time.sleep(IDLE_S)
        used = _cpu_seconds(session.process.pid) - before
        link.connect()  # and it still answers
    assert used < IDLE_CPU_S, f"QEMU used {used:.2f} s of CPU in {IDLE_S:g} s while the guest waited"
