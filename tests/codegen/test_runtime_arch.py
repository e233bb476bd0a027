"""Architecture-optimised kernels are bit-exact with the reference ones, on the core.

firmware/runtime/arch/cortex-m-dsp/ replaces some reference kernels (same
file and symbol names) on cores with the DSP extension. This test builds the
on-target checker firmware/runtime/tests/tc_arch_check.c for QEMU's
netduinoplus2 (Cortex-M4F) with the reference kernels renamed tc_ref_<op>,
runs every layer through both and compares every output byte on the device.
The per-layer instruction counts (QEMU -icount) are recorded as test
properties, not asserted.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
RUNTIME = FIRMWARE / "runtime"
PORTS = FIRMWARE / "ports"
ARCH = RUNTIME / "arch" / "cortex-m-dsp"
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2"]
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
INCLUDES = [f"-I{d}" for d in (RUNTIME / "include", PORTS / "include", PORTS / "cortexm", PORTS / "common")]
PORT_SOURCES = [PORTS / "cortexm" / "tc_cortexm_startup.c", PORTS / "cortexm" / "tc_cortexm_exit.c",
                PORTS / "common" / "tc_port_fault.c", PORTS / "netduinoplus2" / "tc_port_netduinoplus2.c"]
MEMORY_LD = """MEMORY
{
    FLASH (rx)  : ORIGIN = 0x08000000, LENGTH = 1048576
    RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 131072
}
TC_STACK_BYTES = 8192;
"""
LINE = re.compile(r"^(\w+) ref=(\d+) arch=(\d+) bytes=(\d+) mismatches=(\d+)")


def _compile(source: Path, obj: Path, std: str, defines: list[str]) -> None:
    result = subprocess.run(["arm-none-eabi-gcc", *CPU, f"-std={std}", *WARNINGS, *defines, *INCLUDES,
                             "-c", str(source), "-o", str(obj)], capture_output=True, text=True)
    assert result.returncode == 0, f"{source.name}:\n{result.stderr}"


def build_checker(workdir: Path) -> Path:
    """ELF with reference kernels as tc_ref_<op> and the DSP variants as tc_<op>."""
    replaced = {p.stem for p in ARCH.glob("*.c")}
    objects = []
    for source in sorted((RUNTIME / "src").glob("*.c")):
        rename = [f"-D{source.stem}=tc_ref_{source.stem[3:]}"] if source.stem in replaced else []
        objects.append(workdir / f"ref_{source.stem}.o")
        _compile(source, objects[-1], "c99", rename)
    for source in [*sorted(ARCH.glob("*.c")), RUNTIME / "tests" / "tc_arch_check.c"]:
        objects.append(workdir / f"arch_{source.stem}.o")
        _compile(source, objects[-1], "c99", [])
    for source in PORT_SOURCES:
        objects.append(workdir / f"port_{source.stem}.o")
        _compile(source, objects[-1], "gnu99", [])
    (workdir / "memory.ld").write_text(MEMORY_LD)
    elf = workdir / "arch_check.elf"
    subprocess.run(["arm-none-eabi-gcc", *CPU, "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
                    "-T", str(PORTS / "cortexm" / "tc_cortexm.ld"), f"-L{workdir}", *map(str, objects),
                    "-o", str(elf)], check=True, capture_output=True, text=True)
    return elf


@pytest.mark.emulator
def test_cortex_m_dsp_kernels_match_reference_on_qemu(tmp_path: Path, record_property) -> None:
    assert sorted(p.stem for p in ARCH.glob("*.c")) == ["tc_conv_s8", "tc_fully_connected_s8"]
    elf = build_checker(tmp_path)
    run = subprocess.run(["qemu-system-arm", "-M", "netduinoplus2", "-nographic", "-monitor", "none",
                          "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
                          "-icount", "shift=0,sleep=off", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=120)
    lines = [m for m in map(LINE.match, run.stdout.splitlines()) if m]
    assert "TC_ARCH_CHECK PASS" in run.stdout, run.stdout
    assert run.returncode == 0
    assert len(lines) == 7
    for m in lines:
        name, ref, arch, size, mismatches = m.groups()
        assert int(mismatches) == 0 and int(size) > 0
        record_property(f"{name}_instructions", {"reference": int(ref), "cortex_m_dsp": int(arch)})
