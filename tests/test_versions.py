"""Reports record the versions behind their figures, and name each figure once."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from tinycompress import __version__
from tinycompress.profile.project import ProfiledProject
from tinycompress.project.boards import get_board
from tinycompress.run import combined_report
from tinycompress.versions import collect, project_compiler

pytestmark = pytest.mark.host

ROOT = Path(__file__).resolve().parents[1]


def test_tflite_micro_is_pinned_to_the_installed_oracle() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [dep for dep in dependencies if re.match(r"tflite[-_]micro\b", dep)]
    assert pins == [f"tflite-micro=={importlib.metadata.version('tflite-micro')}"]


def test_tensorflow_is_recorded_only_when_imported() -> None:
    code = "import json; from tinycompress.versions import collect; print(json.dumps(collect()))"
    fresh = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True).stdout)
    assert fresh == {"tinycompress": __version__, "tensorflow": None,
                     "tflite_micro": importlib.metadata.version("tflite-micro"), "compiler": None, "qemu": None}


@pytest.mark.needs_tools("arm-none-eabi-gcc", "qemu-system-arm")
def test_profile_report_names_the_compiler_and_qemu(tmp_path: Path) -> None:
    """An emulated project: the compiler its toolchain links to, and the QEMU that ran it."""
    import shutil

    bin_dir = tmp_path / "tools" / "toolchain-tcarm" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "arm-none-eabi-gcc").symlink_to(shutil.which("arm-none-eabi-gcc"))
    firmware = tmp_path / "firmware.elf"
    firmware.write_bytes(b"\x7fELF")
    assert project_compiler(tmp_path) == bin_dir / "arm-none-eabi-gcc"

    info = SimpleNamespace(board=get_board("qemu-netduinoplus2"), firmware=firmware, path=tmp_path)
    versions = ProfiledProject(info, b"").versions(used_qemu=True)
    assert versions["compiler"].startswith("arm-none-eabi-gcc ")
    assert versions["qemu"].startswith("QEMU emulator version ")
    through_port = ProfiledProject(info, b"").versions(used_qemu=False)
    assert through_port["qemu"] is None and through_port["compiler"] == versions["compiler"]
    firmware.unlink()
    assert ProfiledProject(info, b"").versions(used_qemu=True)["compiler"] is None  # nothing was built


def test_esp_idf_project_names_the_main_compiler_not_the_ulp_one(tmp_path: Path) -> None:
    packages = tmp_path / ".pio-core" / "packages"
    for package, program in (("toolchain-esp32ulp", "esp32ulp-elf-gcc"), ("toolchain-xtensa-esp32", "xtensa-esp32-elf-gcc")):
        (packages / package / "bin").mkdir(parents=True)
        (packages / package / "bin" / program).touch()
    assert project_compiler(tmp_path) == packages / "toolchain-xtensa-esp32" / "bin" / "xtensa-esp32-elf-gcc"


def test_a_missing_tool_is_none_not_an_error() -> None:
    assert collect(compiler="no-such-gcc-here", qemu="no-such-qemu")["compiler"] is None
    assert collect(qemu="no-such-qemu")["qemu"] is None


def test_run_report_names_host_accuracy_like_profile_and_carries_versions() -> None:
    versions = collect(compiler="gcc")
    assert versions["compiler"] and "gcc" in versions["compiler"]
    device = {"complete": True, "samples": 3, "accuracy": {"device": 0.5, "host_int8": 0.75},
              "outputs_bit_exact": True, "latency": {"unit": "cycles"}, "versions": versions}
    compress = {"model": "m.keras", "data": "digits", "accuracy": {"float": 0.9, "pruned": None, "clustered": None},
                "size_bytes": {"float32": 10, "int8": 5, "weights": 4}, "arena_bytes": 8}
    sources = SimpleNamespace(weights_bytes=4, arena_bytes=6, weights_storage=())
    memory = SimpleNamespace(flash_used=1, flash_total=2, ram_used=1, ram_total=2)
    report = combined_report(compress, sources, memory, device, "qemu-netduinoplus2", {})
    assert report["accuracy"]["host_int8"] == 0.75 and "int8_host" not in json.dumps(report)
    assert report["versions"] == versions
