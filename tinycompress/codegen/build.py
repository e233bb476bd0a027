"""Host build of a generated model and a runner that feeds it samples.

The same C that goes onto a microcontroller is compiled here with
``gcc -std=c99 -Wall -Wextra -Werror`` and run as a filter process
(samples on stdin, outputs on stdout), so verification exercises exactly the
generated code and runtime kernels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycompress.codegen import runtime_include_dirs, runtime_sources
from tinycompress.codegen.emit import GeneratedModel
from tinycompress.errors import ToolError, VerificationError
from tinycompress.resources import DEFAULT_RUNTIME_ARCH

CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-O2")
_HARNESS = Path(__file__).with_name("host_harness.c")
_TIMEOUT = 300
_COMPILER_FIX = "install gcc (apt install gcc) or set CC to a working C compiler"


def host_runtime_sources() -> list[Path]:
    """The runtime files the host build compiles: the portable kernels (plain C99, as
    RISC-V, Xtensa and Cortex-M0 builds use them) over src/, so ``verify`` checks them against TFLM."""
    return runtime_sources(DEFAULT_RUNTIME_ARCH)


def compiler() -> str:
    cc = os.environ.get("CC", "gcc")
    if shutil.which(cc) is None:
        raise ToolError(f"C compiler {_named(cc)} not found; {_COMPILER_FIX}")
    return cc


def _named(cc: str) -> str:
    return f"{cc!r} (from CC)" if "CC" in os.environ else repr(cc)


def _compiler_works(cc: str) -> bool:
    """Whether ``cc`` builds a trivial C program: tells a broken compiler from bad generated C."""
    with temporary_dir() as tmp:
        probe = Path(tmp) / "probe.c"
        probe.write_text("int main(void) { return 0; }\n")
        try:
            proc = subprocess.run([cc, "-std=c99", str(probe), "-o", str(Path(tmp) / "probe")],
                                  capture_output=True, timeout=_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return proc.returncode == 0


@dataclass
class HostModel:
    """A compiled host executable of one generated model."""

    exe: Path
    generated: GeneratedModel
    trace: bool

    def run(self, samples: np.ndarray) -> np.ndarray:
        """Run samples of the model's input type (leading axis = samples); return each
        sample's output (or traces) as raw bytes, int8: a float32 output is viewed back by the caller."""
        dtype = np.float32 if self.generated.input_dtype == "float32" else np.int8
        data = np.ascontiguousarray(samples, dtype=dtype).reshape(len(samples), -1).view(np.int8)
        if data.shape[1] != self.generated.input_bytes:
            raise VerificationError(
                f"samples have {data.shape[1]} bytes, the model input has {self.generated.input_bytes}"
            )
        try:
            proc = subprocess.run([str(self.exe)], input=data.tobytes(), capture_output=True,
                                  timeout=_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise VerificationError(
                f"the generated code did not finish {len(data)} samples in {_TIMEOUT} s; "
                "use fewer --samples"
            ) from None
        if proc.returncode != 0:
            raise VerificationError(
                f"the generated code failed on the host (exit {proc.returncode}: "
                f"{proc.stderr.decode(errors='replace').strip() or 'no message'}); "
                "this is a tinycompress bug, please report it with the model"
            )
        per_sample = self.generated.output_bytes + (
            sum(layer.output_bytes for layer in self.generated.layers) if self.trace else 0)
        out = np.frombuffer(proc.stdout, dtype=np.int8)
        if out.size != per_sample * len(data):
            raise VerificationError(
                f"the generated code wrote {out.size} bytes for {len(data)} samples, "
                f"expected {per_sample * len(data)}; this is a tinycompress bug"
            )
        return out.reshape(len(data), per_sample)


def build_host(generated: GeneratedModel, workdir: Path, trace: bool = False,
               defines: tuple[str, ...] = ()) -> HostModel:
    """Write the generated files into ``workdir`` and compile them with the runtime."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name, text in generated.files.items():
        (workdir / name).write_text(text)
    P, p = generated.prefix.upper(), generated.prefix
    harness_defines = [
        f"-DTC_HARNESS_INPUT_BYTES={P}_INPUT_BYTES",
        f"-DTC_HARNESS_OUTPUT_BYTES={P}_OUTPUT_BYTES",
        f"-DTC_HARNESS_INPUT={p}_input",
        f"-DTC_HARNESS_OUTPUT={p}_output",
        f"-DTC_HARNESS_INVOKE={p}_invoke",
        f"-DTC_HARNESS_TRACE={p}_trace",
    ]
    if trace:
        harness_defines.append("-DTC_TRACE_LAYERS")
    exe = workdir / ("model_trace" if trace else "model")
    cc = compiler()
    cmd = [cc, *CFLAGS, *harness_defines, *defines,
           *(f"-I{d}" for d in (workdir, *runtime_include_dirs())),
           str(workdir / "model.c"), str(_HARNESS), *map(str, host_runtime_sources()), "-o", str(exe)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ToolError(f"the host build did not finish in {_TIMEOUT} s") from None
    except OSError as exc:
        raise ToolError(f"C compiler {_named(cc)} cannot be run ({exc.strerror or exc}); {_COMPILER_FIX}") from None
    if proc.returncode != 0:
        first = next((line for line in proc.stderr.splitlines() if "error" in line), proc.stderr[:300]).strip()
        if not _compiler_works(cc):
            raise ToolError(
                f"C compiler {_named(cc)} fails even on a trivial C program "
                f"(exit {proc.returncode}: {first or 'no message'}); {_COMPILER_FIX}"
            )
        raise ToolError(f"the host build of the generated C failed: {first}; "
                        "this is a tinycompress bug, please report it with the model")
    return HostModel(exe, generated, trace)


def temporary_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="tinycompress-")
