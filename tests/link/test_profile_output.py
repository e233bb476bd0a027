"""``profile -o``: an unwritable report path fails before the device is touched; a failed final write keeps the report.

Against the host protocol server of a real export, as test_cli_profile.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinycompress.cli import main
from tinycompress.profile.host import run_host_server

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def project(digits_tflite_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tinycompress.project.boards import get_board
    from tinycompress.project.export import export_project
    from tinycompress.project.model import model_sources_from_tflite

    out = tmp_path_factory.mktemp("proj") / "digits"
    export_project(model_sources_from_tflite(digits_tflite_path), get_board("qemu-netduinoplus2"), out)
    return out


def _profile(project: Path, url: str, *extra: str):
    return CliRunner().invoke(main, ["profile", str(project), "--data", "digits", "--port", url,
                                     "--timeout", "1", "--limit", "5", "--quiet", *extra])


def test_an_unwritable_report_path_is_refused_before_streaming(project: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    # Nothing listens on port 1: reaching the device would end with exit 6, not 2.
    result = _profile(project, "socket://127.0.0.1:1", "-o", str(blocked / "report.json"))
    assert result.exit_code == 2, result.output
    assert "is not writable" in result.output and "choose another output path" in result.output
    result = _profile(project, "socket://127.0.0.1:1", "-o", str(tmp_path / ("r" * 256)))
    assert result.exit_code == 2 and "256 bytes long" in result.output, result.output


def test_a_failed_final_write_saves_the_measurements_elsewhere(project: Path, served, tmp_path: Path) -> None:
    """The report path turns out unusable only at the end (here: a folder sits where the report goes)."""
    (project / "report.json").mkdir()
    try:
        with run_host_server(served[0]) as url:
            result = _profile(project, url)
    finally:
        (project / "report.json").rmdir()
    assert result.exit_code == 2, result.output
    line = " ".join(result.output.split())
    assert f"cannot write {project / 'report.json'}" in line and "saved to " in line, result.output
    kept = Path(line.split("saved to ", 1)[1].split(" instead")[0])
    try:
        report = json.loads(kept.read_text())
    finally:
        kept.unlink()
    assert report["samples"] == 5 and report["complete"] is True
