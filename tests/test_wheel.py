"""The installed package: sdist → wheel → fresh venv → export, build, flash, profile outside the checkout.

Emulator tier (runs QEMU). The wheel is built from the sdist, so both must
carry boards/, templates/ and firmware/. The venv reuses the dependencies of
the interpreter running the tests through a .pth file (no download, no second
TensorFlow); the checkout is not importable from it, so every path the CLI
reads must come from the wheel's own package data.
"""

from __future__ import annotations

import json
import os
import signal
import site
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tinycompress.project.qemu import free_port

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[1]
BOARD = "qemu-netduinoplus2"
SAMPLES = 3


@dataclass(frozen=True)
class Installed:
    """A venv holding only the built wheel, and a scratch folder outside the checkout to run it in."""

    dist: Path
    venv: Path
    work: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``tinycompress ARGS`` through the venv's console script, from the scratch folder."""
        return subprocess.run([str(self.venv / "bin" / "tinycompress"), *args], cwd=self.work, env=self.env,
                              capture_output=True, text=True, timeout=timeout)


def _checked(command: list[str], cwd: Path) -> None:
    """Run a build or install step; a failure shows its whole output."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}\n{result.stderr}"


def _build_wheel_from_sdist(dist: Path) -> Path:
    """The sdist of the checkout, then the wheel pip builds from that sdist, with the installed setuptools."""
    _checked([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})"], REPO)
    (sdist,) = dist.glob("tinycompress-*.tar.gz")
    _checked([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
              "--no-cache-dir", "-w", str(dist), str(sdist)], dist)
    (wheel,) = dist.glob("tinycompress-*.whl")
    return wheel


def _venv_with(wheel: Path, venv: Path) -> None:
    """A venv with the wheel installed; the running interpreter's dependencies added afterwards by a .pth.

    The .pth comes last so that pip sees an empty environment: it then
    neither skips the wheel nor touches the tinycompress of the outer venv.
    """
    _checked([sys.executable, "-m", "venv", "--without-pip", str(venv)], venv.parent)
    _checked([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
              "--no-index", "--no-cache-dir", "--quiet", str(wheel)], venv.parent)
    (own,) = (venv / "lib").glob("python3.*/site-packages")
    (own / "_tinycompress_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    with tempfile.TemporaryDirectory(prefix="tc-wheel-") as scratch:
        root = Path(scratch)
        dist, work, home = root / "dist", root / "work", root / "home"
        for folder in (dist, work, home):
            folder.mkdir()
        _venv_with(_build_wheel_from_sdist(dist), root / "venv")
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["HOME"] = str(home)
        yield Installed(dist, root / "venv", work, env)


def test_sdist_and_wheel_carry_the_data_folders(installed: Installed) -> None:
    (sdist,) = installed.dist.glob("*.tar.gz")
    (wheel,) = installed.dist.glob("*.whl")
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    for path in ("firmware/runtime/include/tc_runtime.h", "templates/platformio.ini.j2",
                 f"boards/{BOARD}.toml", "boards/platform/platform.json", "LICENSE"):
        assert path in in_sdist, path
    for path in ("firmware/runtime/include/tc_runtime.h", "firmware/ports/include/tc_port.h",
                 "firmware/protocol/tc_proto.c", "templates/src/main.c.j2", f"boards/{BOARD}.toml",
                 "boards/platform/builder/main.py"):
        assert f"tinycompress/_data/{path}" in in_wheel, path
    assert "tinycompress-0.1.0.dist-info/licenses/LICENSE" in in_wheel
    assert "tinycompress/codegen/cost_model.json" in in_sdist  # the cost model's coefficients (package data)
    assert "tinycompress/codegen/cost_model.json" in in_wheel
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in in_wheel)


def test_installed_package_reads_its_own_data(installed: Installed) -> None:
    probe = ("import json, tinycompress, tinycompress.resources as r; "
             "print(json.dumps([tinycompress.__file__, str(r.firmware_dir()), str(r.templates_dir()), "
             "str(r.boards_dir())]))")
    result = subprocess.run([str(installed.venv / "bin" / "python"), "-c", probe], cwd=installed.work,
                            env=installed.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    package, *folders = (Path(p) for p in json.loads(result.stdout))
    data = installed.venv.resolve()
    assert data in package.resolve().parents, f"imported {package}, not the wheel in {installed.venv}"
    for folder in folders:
        assert data in folder.parents and folder.parent.name == "_data", folder
    boards = installed.run("boards")
    assert boards.returncode == 0 and BOARD in boards.stdout, boards.stdout + boards.stderr


def test_export_build_flash_profile_from_the_wheel(installed: Installed) -> None:
    from keras_int8 import convert_int8, tf_keras

    layers = tf_keras.layers
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                                 layers.Flatten(), layers.Dense(10), layers.Softmax()])
    (installed.work / "model.tflite").write_bytes(convert_int8(model, samples=8))

    exported = installed.run("export", "model.tflite", "--board", BOARD, "-o", "proj", "--json")
    assert exported.returncode == 0, exported.stdout + exported.stderr
    built = installed.run("build", "proj", "--json")
    assert built.returncode == 0, built.stdout + built.stderr
    assert json.loads(built.stdout)["flash_used"] > 0

    profiled = installed.run("profile", "proj", "--data", "digits", "--limit", str(SAMPLES), "-o", "report.json")
    assert profiled.returncode == 0, profiled.stdout + profiled.stderr
    _assert_bit_exact(installed.work / "report.json")

    port = free_port()
    flash = subprocess.Popen([str(installed.venv / "bin" / "tinycompress"), "flash", "proj", "--port", str(port)],
                             cwd=installed.work, env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)
    try:
        over_link = installed.run("profile", "proj", "--data", "digits", "--limit", str(SAMPLES), "--port",
                                  f"socket://127.0.0.1:{port}", "--boot-timeout", "60", "-o", "flashed.json")
        assert over_link.returncode == 0, over_link.stdout + over_link.stderr
        _assert_bit_exact(installed.work / "flashed.json")
    finally:
        _stop_group(flash)


def _assert_bit_exact(path: Path) -> None:
    report = json.loads(path.read_text())
    assert report["board"] == report["device_board"] == BOARD
    assert report["samples"] == SAMPLES and report["complete"] is True
    assert report["outputs_bit_exact"] is True and report["mismatched_samples"] == []


def _stop_group(process: subprocess.Popen[str]) -> None:
    """End ``flash`` with PlatformIO, SCons and the QEMU they started (one process group), and check it is gone."""
    group = process.pid
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"processes of `tinycompress flash` (group {group}) still running after SIGKILL")
