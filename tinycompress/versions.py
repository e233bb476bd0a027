"""The versions behind a report's figures, recorded so a result can be reproduced or a change explained.

Every report (compress, profile, run, demo) carries ``versions``: this
package, TensorFlow when this process imported it, the ``tflite-micro``
oracle, the C compiler that built the firmware and the QEMU that ran it
(``None`` for what took no part).
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
import sys
from pathlib import Path

from tinycompress import __version__

# Where a project's compiler lives: the local toolchain of emulated boards, PlatformIO's packages for real ones.
_PROJECT_COMPILERS = ("tools/toolchain-*/bin/*-gcc", ".pio-core/packages/toolchain-*/bin/*-gcc")


def collect(*, compiler: str | Path | None = None, qemu: str | None = None) -> dict[str, str | None]:
    """The versions of everything that produced a report; ``compiler``/``qemu`` only when they were used."""
    tensorflow = sys.modules.get("tensorflow")
    return {
        "tinycompress": __version__,
        "tensorflow": getattr(tensorflow, "__version__", None),
        "tflite_micro": _distribution("tflite-micro"),
        "compiler": tool_version(str(compiler)) if compiler else None,
        "qemu": tool_version(qemu) if qemu else None,
    }


def project_compiler(project: Path) -> Path | None:
    """The C compiler a built project's firmware came from (None: not built, or no toolchain found)."""
    for pattern in _PROJECT_COMPILERS:
        # ESP-IDF also installs the ULP coprocessor's compiler, which builds none of our code
        found = sorted(path for path in Path(project).glob(pattern) if "ulp" not in path.name)
        if found:
            return found[0]
    return None


@functools.lru_cache(maxsize=None)
def tool_version(program: str) -> str | None:
    """First line of ``program --version`` (``arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 ...``), None if it cannot run."""
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


def _distribution(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
