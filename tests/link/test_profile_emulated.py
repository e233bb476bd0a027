"""Emulator tier: profile the demo model on every emulated board through QEMU.

Export + offline PlatformIO build (the firmware-project stage), then
``tinycompress profile PROJECT`` starts QEMU itself and streams the test set
over the TCP serial port. The device's accuracy must equal the host int8
accuracy and every output byte must match the TFLM interpreter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from protocol_project import export_and_build

from tinycompress.cli import main
from tinycompress.oracle import TflmOracle
from tinycompress.project.boards import get_board

pytestmark = pytest.mark.emulator

EMULATED = ("qemu-netduinoplus2", "qemu-mps3-an547", "qemu-riscv32")
SAMPLES = 60


@pytest.fixture(scope="module", params=EMULATED)
def built(request: pytest.FixtureRequest, demo_tflite_path: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("proj") / request.param
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        return export_and_build(demo_tflite_path, request.param, out,
                                runtime_arch=get_board(request.param).runtime_arch)


def test_profile_on_emulated_board_is_bit_exact(built, demo_tflite_path: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["profile", str(built.project.path), "--data", "digits",
                                       "--limit", str(SAMPLES), "-o", str(report_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["board"] == report["device_board"] == built.project.board_name
    assert report["complete"] and report["samples"] == SAMPLES
    assert report["outputs_bit_exact"] is True
    assert report["accuracy"]["device"] == report["accuracy"]["host_int8"] > 0.8
    assert report["latency"]["unit"] == "instructions" and report["latency"]["min"] > 0
    assert len(report["layers"]) >= 5 and all(layer["median"] > 0 for layer in report["layers"])
    assert (report["flash_bytes"], report["ram_bytes"]) == (built.memory.flash_used, built.memory.ram_used)
    assert report["memory_source"] == "elf"
    # what the firmware measured from its linker symbols: the ELF's figures plus at most the alignment padding
    device, slack = report["memory"]["device"], _alignment_slack(built.firmware)
    for key, elf in (("flash_bytes", built.memory.flash_used), ("ram_bytes", built.memory.ram_used)):
        assert 0 <= device[key] - elf <= slack, (key, device[key], elf, slack)
    oracle = TflmOracle(demo_tflite_path.read_bytes())
    for role, tensor in (("input", oracle.input), ("output", oracle.output)):
        assert report["quantization"][role] == {"shape": list(tensor.shape), "scale": tensor.scale,
                                                "zero_point": tensor.zero_point}
    assert report["link"]["retries"] == 0
    versions = report["versions"]  # the compiler that built this firmware, the QEMU that ran it
    assert versions["compiler"].split()[0] in ("arm-none-eabi-gcc", "riscv64-unknown-elf-gcc"), versions
    assert versions["qemu"].startswith("QEMU emulator version "), versions


def _alignment_slack(elf_path: Path) -> int:
    """Most padding the linker can put between the allocated sections: one alignment less a byte each."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    with open(elf_path, "rb") as handle:
        return sum(max(s["sh_addralign"], 1) - 1 for s in ELFFile(handle).iter_sections()
                   if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"])


@pytest.mark.parametrize("built", [EMULATED[0]], indirect=True)
def test_qemu_killed_mid_run_keeps_measured_samples(built, demo_tflite_path: Path, digits) -> None:
    from tinycompress.link import DeviceLink
    from tinycompress.profile.device import profile_link
    from tinycompress.profile.report import Target
    from tinycompress.project.qemu import start_qemu

    session = start_qemu(built.project.board, built.firmware)

    class KillAfterThree:
        def task(self, description: str, total: int | None):
            return self

        def advance(self, steps: int = 1) -> None:
            self.done = getattr(self, "done", 0) + steps
            if self.done == 3:
                session.close()

        def close(self) -> None:
            pass

    with session, DeviceLink(session.open_serial(), session.url, timeout=1, retries=1) as link:
        report = profile_link(link, demo_tflite_path.read_bytes(), digits.x_test, digits.y_test,
                              Target(built.project.board_name), limit=20, progress=KillAfterThree())
    assert report["complete"] is False and report["samples"] == 3 and report["samples_requested"] == 20
    assert session.url in report["stopped"]
    assert report["outputs_bit_exact"] is True
