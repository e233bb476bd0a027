"""Helpers the project-stage tests import by name (fixtures stay in conftest.py).

A uniquely named module, not ``conftest``: every test folder has a
``conftest.py``, and ``from conftest import ...`` gets whichever of them
pytest imported last, so ``pytest tests/project tests/link`` failed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from tinycompress.resources import ports_dir

EMULATED = ("qemu-netduinoplus2", "qemu-mps3-an547", "qemu-riscv32")


def xorshift_input(seed: int, count: int) -> np.ndarray:
    """The built-in input of the generated application (src/main.c), as int8."""
    state, values = seed, []
    for _ in range(count):
        state ^= (state << 13) & 0xFFFFFFFF
        state ^= state >> 17
        state ^= (state << 5) & 0xFFFFFFFF
        values.append(state >> 24)
    return np.array(values, dtype=np.uint8).view(np.int8)


def report_fields(output: str) -> dict[str, str]:
    """``tc: key=value`` lines the application prints."""
    return dict(re.findall(r"^tc: (\w+)=(.*?)\r?$", output, flags=re.M))


def run_on_host(project: Path, workdir: Path) -> str:
    """Compile the project's application and model with the reference runtime for the host; run it."""
    from tinycompress.codegen import runtime_sources

    sources = [project / "src" / "main.c", *sorted((project / "src" / "model").glob("*.c")),
               *runtime_sources(), ports_dir() / "host" / "tc_port_host.c"]
    exe = workdir / "host_app"
    includes = ["-I", str(ports_dir() / "include"), "-I", str(project / "src" / "runtime" / "include"),
                "-I", str(project / "src" / "model")]
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "no host C compiler"
    subprocess.run([cc, "-O2", "-std=c99", *includes, *map(str, sources), "-lm", "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=60).stdout
