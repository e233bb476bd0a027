"""The export, build and flash commands end to end on an emulated board."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial
from click.testing import CliRunner
from project_helpers import report_fields

from tinycompress.cli import main
from tinycompress.project.qemu import free_port

pytestmark = pytest.mark.emulator

CLI = [sys.executable, "-c", "from tinycompress.cli import main; main()"]
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built_project(small_tflite: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("cli") / "proj"
    runner = CliRunner()
    args = ["export", str(small_tflite), "--board", "qemu-riscv32", "-o", str(project), "--app", "selftest", "--json"]
    exported = runner.invoke(main, args)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["fit"]["fits"] is True
    built = runner.invoke(main, ["build", str(project), "--json"])
    assert built.exit_code == 0, built.output
    usage = json.loads(built.output)
    assert usage["flash_used"] + usage["flash_free"] == usage["flash_total"]
    return project


def test_flash_runs_firmware_in_qemu(built_project: Path) -> None:
    result = subprocess.run([*CLI, "flash", str(built_project)], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert report_fields(result.stdout)["status"] == "0"


def test_flash_with_port_serves_a_client(built_project: Path) -> None:
    port = free_port()
    flash = subprocess.Popen([*CLI, "flash", str(built_project), "--port", str(port)], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                link = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=5)
                break
            except serial.SerialException:
                assert flash.poll() is None and time.monotonic() < deadline, flash.stdout.read()
                time.sleep(0.1)
        first = link.read_until(b"\n")
        link.close()
        assert first.startswith(b"tc: output=")
        assert flash.wait(timeout=60) == 0
    finally:
        if flash.poll() is None:
            flash.kill()
        flash.communicate()


def test_build_of_a_non_project_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a tinycompress project" in result.output
