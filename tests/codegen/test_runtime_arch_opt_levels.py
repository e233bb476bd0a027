"""The DSP kernels build at every optimisation level a firmware is built at.

Debug builds are -O0 or -Og (PlatformIO's debug build uses -Og), release
builds -O1 to -O3 or -Os. Inline assembly that builds at -O2 can run out of
registers at -O0, where r7 stays the frame pointer ("impossible
constraints"), so every arch file of the Cortex-M4 (cortex-m-dsp) and
Cortex-M55 (helium, whose MVE kernels keep their loops in naked assembly
functions, free of the frame pointer) chains is compiled at each level
with the warnings as errors. A kernel that swaps its assembly for C
when __OPTIMIZE__ is undefined is proved bit-exact by the on-target checker
of test_runtime_arch built at -O0.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_runtime_arch import INCLUDES, LINE, TARGETS, WARNINGS, arch_sources, build_checker, run_checker

from tinycompress.codegen import runtime_sources

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("arm-none-eabi-gcc")]

LEVELS = ("-O0", "-Og", "-O1", "-O2", "-O3", "-Os")
CHAINS = ("cortex-m4-dsp", "cortex-m55-helium")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", CHAINS)
def test_arch_kernels_compile_at_every_optimisation_level(name: str, level: str, tmp_path: Path) -> None:
    target = TARGETS[name]
    sources = arch_sources(runtime_sources(target.arch)).values()
    assert any(source.parent.name == target.arch for source in sources)
    failures = []
    for source in sorted(sources):
        result = subprocess.run([target.cc, *target.cpu, level, "-std=c99", *WARNINGS, *INCLUDES, "-c", str(source),
                                 "-o", str(tmp_path / f"{source.stem}.o")], capture_output=True, text=True)
        if result.returncode != 0:
            failures.append(f"{source.relative_to(source.parents[2])}:\n{result.stderr}")
    assert not failures, "\n".join(failures)


@pytest.mark.emulator
@pytest.mark.parametrize("name", CHAINS)
def test_unoptimised_dsp_kernels_match_reference_on_qemu(name: str, tmp_path: Path) -> None:
    """At -O0 the C fallbacks of the assembly loops give every output byte of the reference kernels."""
    target = TARGETS[name]
    run = run_checker(target, build_checker(target, tmp_path, "-O0"))
    lines = [m for m in map(LINE.match, run.stdout.splitlines()) if m]
    assert "TC_ARCH_CHECK PASS" in run.stdout, run.stdout
    assert run.returncode == 0 and lines
    assert all(int(m.group(5)) == 0 and int(m.group(4)) > 0 for m in lines)
