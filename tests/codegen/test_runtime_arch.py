"""Architecture-optimised kernels are bit-exact with the reference ones, on the core.

firmware/runtime/arch/<arch>/ replaces reference kernels (same file and symbol
names); a build takes each kernel from the first folder that has it:
helium, cortex-m-dsp, portable, src (Cortex-M55); cortex-m-dsp, portable, src
(Cortex-M4/M7/M33); portable, src (RISC-V, Xtensa, Cortex-M0, host). The chains
are RUNTIME_ARCH_CHAINS, the table codegen's runtime_sources() reads, so this
test checks the very files a firmware build compiles. It builds the
on-target checker firmware/runtime/tests/tc_arch_check.c for the emulated core
with the reference kernels renamed tc_ref_<op>, runs every layer through both
and compares every output byte on the device. Per-layer instruction counts
(QEMU -icount) are recorded as test properties, not asserted.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tinycompress.codegen import runtime_sources
from tinycompress.codegen.build import host_runtime_sources

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
RUNTIME = FIRMWARE / "runtime"
PORTS = FIRMWARE / "ports"
WARNINGS = ["-Wall", "-Wextra", "-Werror"]
INCLUDES = [f"-I{d}" for d in (RUNTIME / "include", PORTS / "include", PORTS / "cortexm", PORTS / "common")]
LINE = re.compile(r"^(\w+) ref=(\d+) arch=(\d+) bytes=(\d+) mismatches=(\d+)")
# Kernels the checker compares; every arch file must be one of them.
CHECKED = {"tc_conv_s8", "tc_conv_1x1_s8", "tc_depthwise_conv_s8", "tc_fully_connected_s8", "tc_add_s8",
           "tc_avgpool_s8", "tc_mean_s8"}
CHECKER = RUNTIME / "tests" / "tc_arch_check.c"
# A case whose weights are packed and decoded once into a scratch; without the suffix, its dense twin.
PACKED = re.compile(r"_(palette4|sparse8)_scratch$")
# A FULLY_CONNECTED case with one shared palette or block-pruned weights, int8 or 4-bit indices (block8, block4:
# the packed FC loops; blocks of 16
# unless _b<size>, at 50 % kept unless _<n>pct or _all); without the suffix, its dense twin.
PACKED_FC = re.compile(r"_palette4_shared$|_block[84](?:_b\d+)?(?:_\d+pct|_all)?$")
# Helium's dense FC takes 0.29 instructions per MAC; blocks of 4 give its block path 4 MACs per 4-instruction
# vector step plus a bitmap dispatch per 4 blocks, so there they are bounded at 3x (measured 2.1-2.6x). Block4
# (4-bit indices) decodes each run in registers, 1 to 5 instructions more than block8's load: 1.14x at 50 % of
# blocks of 16 kept, but 1.6-1.8x with every block kept or blocks of 8 (bound 2x) and 2.4-3.6x with blocks of 4
# (bound 4x). Pattern -> bound, first match.
SLOW_BLOCKS = {"cortex-m55-helium": ((re.compile(r"_block8_b4"), 3.0), (re.compile(r"_block4_b4"), 4.0),
                                     (re.compile(r"_block4(?:_b8|_all)"), 2.0))}
# One report line per layer the checker's main() runs: each call naming its layer and each row
# ({"name", ...) of a case table that a loop runs.
LAYERS = (len(re.findall(r'failures \+= check_\w+\(\s*"', CHECKER.read_text()))
          + len(re.findall(r'^\s+\{"\w+",', CHECKER.read_text(), re.M)))


@dataclass(frozen=True)
class Target:
    cc: str
    cpu: tuple[str, ...]
    ports: tuple[str, ...]  # under firmware/ports/
    linker_script: str  # under firmware/ports/
    libc: tuple[str, ...]
    flash: tuple[int, int]
    ram: tuple[int, int]
    arch: str  # a board runtime_arch: a key of RUNTIME_ARCH_CHAINS
    qemu: tuple[str, ...]


ARM_PORTS = ("cortexm/tc_cortexm_startup.c", "cortexm/tc_cortexm_exit.c", "cortexm/tc_cortexm_semihost.c",
             "common/tc_port_fault.c", "common/tc_semihost.c")
ARM_LIBC = ("-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs")
TARGETS = {
    "cortex-m4-dsp": Target(
        "arm-none-eabi-gcc", ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
        (*ARM_PORTS, "netduinoplus2/tc_port_netduinoplus2.c"), "cortexm/tc_cortexm.ld", ARM_LIBC,
        (0x08000000, 1 << 20), (0x20000000, 128 << 10), "cortex-m-dsp",
        ("qemu-system-arm", "-M", "netduinoplus2", "-semihosting-config", "enable=on,target=native")),
    "cortex-m55-helium": Target(
        "arm-none-eabi-gcc", ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
        (*ARM_PORTS, "mps3_an547/tc_port_mps3_an547.c"), "cortexm/tc_cortexm.ld", ARM_LIBC,
        (0x00000000, 512 << 10), (0x20000000, 512 << 10), "helium",
        ("qemu-system-arm", "-M", "mps3-an547", "-semihosting-config", "enable=on,target=native")),
    "rv32imc-portable": Target(
        "riscv64-unknown-elf-gcc", ("-misa-spec=2.2", "-march=rv32imc", "-mabi=ilp32", "--specs=picolibc.specs"),
        ("riscv32_virt/tc_riscv_start.S", "common/tc_port_fault.c", "common/tc_semihost.c",
         "riscv32_virt/tc_port_riscv32_virt.c"),
        "riscv32_virt/tc_riscv.ld", ("-nostartfiles",),
        (0x80000000, 4 << 20), (0x80400000, 400 << 10), "portable",
        ("qemu-system-riscv32", "-M", "virt", "-bios", "none", "-cpu", "rv32,a=off,f=off,d=off", "-m", "16M")),
}


def arch_sources(sources: list[Path]) -> dict[str, Path]:
    """Kernel name -> the arch file a build with `sources` compiles instead of src/<name>.c."""
    return {source.stem: source for source in sources if source.parent.parent.name == "arch"}


def _compile(target: Target, source: Path, obj: Path, std: str, defines: list[str], opt: str = "-O2") -> None:
    result = subprocess.run([target.cc, *target.cpu, opt, f"-std={std}", *WARNINGS, *defines,
                             *INCLUDES, "-c", str(source), "-o", str(obj)], capture_output=True, text=True)
    assert result.returncode == 0, f"{source.name}:\n{result.stderr}"


def build_checker(target: Target, workdir: Path, opt: str = "-O2") -> Path:
    """ELF with reference kernels as tc_ref_<op> and the arch variants as tc_<op>, all built at `opt`."""
    replaced = arch_sources(runtime_sources(target.arch))
    objects = []
    for source in sorted((RUNTIME / "src").glob("*.c")):
        rename = [f"-D{source.stem}=tc_ref_{source.stem[3:]}"] if source.stem in replaced else []
        objects.append(workdir / f"ref_{source.stem}.o")
        _compile(target, source, objects[-1], "c99", rename, opt)
        if source.stem in CHECKED and source.stem not in replaced:
            # No variant on this core: the checker compares the reference with itself.
            objects.append(workdir / f"self_{source.stem}.o")
            _compile(target, source, objects[-1], "c99", [f"-D{source.stem}=tc_ref_{source.stem[3:]}"], opt)
    for source in [*replaced.values(), RUNTIME / "tests" / "tc_arch_check.c"]:
        objects.append(workdir / f"arch_{source.stem}.o")
        _compile(target, source, objects[-1], "c99", [], opt)
    return _link(target, workdir, objects, workdir / "arch_check.elf")


def _link(target: Target, workdir: Path, objects: list[Path], elf: Path) -> Path:
    """`elf` from `objects` and the target's port, with the board's memory map in workdir/memory.ld."""
    objects = list(objects)
    for port in target.ports:
        objects.append(workdir / f"port_{Path(port).stem}.o")
        _compile(target, PORTS / port, objects[-1], "gnu99", [])
    (workdir / "memory.ld").write_text(
        "MEMORY\n{\n"
        f"    FLASH (rx)  : ORIGIN = {target.flash[0]:#010x}, LENGTH = {target.flash[1]}\n"
        f"    RAM   (rwx) : ORIGIN = {target.ram[0]:#010x}, LENGTH = {target.ram[1]}\n"
        "}\nTC_STACK_BYTES = 8192;\n")
    link = subprocess.run([target.cc, *target.cpu, *target.libc, "-T", str(PORTS / target.linker_script),
                           f"-L{workdir}", *map(str, objects), "-o", str(elf)], capture_output=True, text=True)
    assert link.returncode == 0, link.stderr
    return elf


def run_checker(target: Target, elf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*target.qemu, "-nographic", "-monitor", "none", "-serial", "stdio",
                           "-icount", "shift=0,sleep=off", "-kernel", str(elf)],
                          capture_output=True, text=True, timeout=120)


def test_checker_covers_every_emulated_board_kernel_chain() -> None:
    from tinycompress.project.boards import load_boards

    emulated = {board.runtime_arch for board in load_boards().values() if board.emulated}
    assert emulated == {target.arch for target in TARGETS.values()}


@pytest.mark.emulator
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_arch_kernels_match_reference_on_qemu(name: str, tmp_path: Path, record_property) -> None:
    target = TARGETS[name]
    assert set(arch_sources(runtime_sources(target.arch))) <= CHECKED
    run = run_checker(target, build_checker(target, tmp_path))
    lines = [m for m in map(LINE.match, run.stdout.splitlines()) if m]
    assert "TC_ARCH_CHECK PASS" in run.stdout, run.stdout
    assert run.returncode == 0
    assert len(lines) == LAYERS
    for m in lines:
        layer, ref, arch, size, mismatches = m.groups()
        assert int(mismatches) == 0 and int(size) > 0
        record_property(f"{layer}_instructions", {"reference": int(ref), name: int(arch)})
    arch_counts = {m.group(1): int(m.group(3)) for m in lines}
    twins = {layer: PACKED.sub("", layer) for layer in arch_counts if PACKED.search(layer)}
    assert sum(twin in arch_counts for twin in twins.values()) >= 3
    for layer, twin in twins.items():
        if twin in arch_counts:  # issue 9: a packed conv costs at most 1.15x its dense twin
            assert arch_counts[layer] <= 1.15 * arch_counts[twin], (layer, arch_counts[layer], arch_counts[twin])
    fc_twins = {layer: PACKED_FC.sub("", layer) for layer in arch_counts if PACKED_FC.search(layer)}
    assert sum(twin in arch_counts for twin in fc_twins.values()) >= 8
    for layer, twin in fc_twins.items():
        if twin in arch_counts:  # issue 9: a packed fully connected layer at most 1.5x
            bound = next((slow for pattern, slow in SLOW_BLOCKS.get(name, ()) if pattern.search(layer)), 1.5)
            assert arch_counts[layer] <= bound * arch_counts[twin], (layer, arch_counts[layer], arch_counts[twin])


def test_portable_kernels_match_reference_on_host(tmp_path: Path) -> None:
    """The host build's kernels (arch/portable/, plain C99) are checked on the host too (default test tier)."""
    replaced = arch_sources(host_runtime_sources())
    assert replaced and set(replaced) <= CHECKED
    objects = []
    for source in sorted((RUNTIME / "src").glob("*.c")):
        renames = [[f"-D{source.stem}=tc_ref_{source.stem[3:]}"]] if source.stem in replaced else [[]]
        if source.stem in CHECKED and source.stem not in replaced:
            renames.append([f"-D{source.stem}=tc_ref_{source.stem[3:]}"])  # compared with itself
        for i, rename in enumerate(renames):
            objects.append(tmp_path / f"ref{i}_{source.stem}.o")
            subprocess.run(["gcc", "-std=c99", "-O2", *WARNINGS, "-pedantic", *rename, *INCLUDES, "-c", str(source),
                            "-o", str(objects[-1])], check=True)
    for source in [*replaced.values(), RUNTIME / "tests" / "tc_arch_check.c", PORTS / "host" / "tc_port_host.c"]:
        objects.append(tmp_path / f"arch_{source.stem}.o")
        subprocess.run(["gcc", "-std=c99", "-O2", *WARNINGS, *INCLUDES, "-c", str(source),
                        "-o", str(objects[-1])], check=True)
    exe = tmp_path / "arch_check"
    subprocess.run(["gcc", *map(str, objects), "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    lines = [m for m in map(LINE.match, run.stdout.splitlines()) if m]
    assert "TC_ARCH_CHECK PASS" in run.stdout, run.stdout
    assert run.returncode == 0 and len(lines) == LAYERS
    assert all(int(m.group(5)) == 0 for m in lines)


def test_portable_output_stage_matches_tflm_rounding(tmp_path: Path) -> None:
    """arch/portable/tc_out_c.h's short requantisation equals tc_mbqm (TFLM's) on its whole domain and ties."""
    exe = tmp_path / "out_c_check"
    subprocess.run(["gcc", "-std=c99", "-O2", *WARNINGS, "-pedantic", *INCLUDES,
                    str(RUNTIME / "tests" / "tc_out_c_check.c"), "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "TC_OUT_C_CHECK PASS" in run.stdout, run.stdout
    assert int(re.search(r"cases=(\d+)", run.stdout).group(1)) > 1_000_000


@pytest.mark.emulator
def test_helium_requantisation_matches_tflm_rounding(tmp_path: Path) -> None:
    """arch/helium/tc_requant_mve.h (VQRDMULH + VRSHL with the negative-tie fix) equals tc_mbqm on the M55."""
    target = TARGETS["cortex-m55-helium"]
    check = tmp_path / "check.o"
    _compile(target, RUNTIME / "tests" / "tc_requant_mve_check.c", check, "c99", [])
    run = run_checker(target, _link(target, tmp_path, [check], tmp_path / "requant_check.elf"))
    assert "TC_REQUANT_MVE_CHECK PASS" in run.stdout and run.returncode == 0, run.stdout
    assert int(re.search(r"cases=(\d+)", run.stdout).group(1)) > 50_000
