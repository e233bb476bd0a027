"""``tinycompress profile`` from the command line, against the host protocol server.

The project is a real export for qemu-netduinoplus2; ``--port`` points the
profiler at the host-built server of the same model, so this runs without QEMU.
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
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        export_project(model_sources_from_tflite(digits_tflite_path), get_board("qemu-netduinoplus2"), out)
    return out


def profile(project: Path, url: str, report: Path, *extra: str):
    args = ["profile", str(project), "--data", "digits", "--port", url, "-o", str(report), "--timeout", "1", *extra]
    return CliRunner().invoke(main, args)


def test_cli_report_has_the_documented_keys(project: Path, served, tmp_path: Path) -> None:
    report_path = tmp_path / "out" / "report.json"
    with run_host_server(served[0]) as url:
        result = profile(project, url, report_path, "--limit", "25")
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert report["board"] == "qemu-netduinoplus2" and report["device_board"] == "host"
    assert report["samples"] == 25 and report["complete"] is True
    assert set(report["accuracy"]) == {"device", "host_int8"}
    assert report["accuracy"]["device"] == report["accuracy"]["host_int8"]
    assert report["outputs_bit_exact"] is True
    assert {"unit", "median", "p90", "min", "max"} <= set(report["latency"])
    latency = report["latency"]
    assert latency["min"] <= latency["median"] <= latency["p90"] <= latency["max"]
    assert len(report["layers"]) == 5
    assert all({"name", "op", "macs", "median"} <= set(layer) for layer in report["layers"])
    assert {"flash_bytes", "ram_bytes"} <= set(report)
    assert "every output byte equal to the host" in result.output and "yes" in result.output


def test_cli_device_lost_mid_run_writes_partial_report(project: Path, served, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with run_host_server(served[0], die_after_bytes=2000) as url:
        result = profile(project, url, report_path, "--limit", "100")
    assert result.exit_code == 6, result.output
    assert "device lost after" in result.output and "marked incomplete" in result.output
    assert url.removeprefix("socket://") in result.output
    report = json.loads(report_path.read_text())
    assert report["complete"] is False and 0 < report["samples"] < 100 and report["samples_requested"] == 100
    assert report["outputs_bit_exact"] is True
    assert report["stopped"]


def test_cli_silent_port_names_port_and_command(project: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"socket://127.0.0.1:{listener.getsockname()[1]}"
        result = CliRunner().invoke(main, ["profile", str(project), "--data", "digits", "--port", url,
                                           "--timeout", "0.2", "--boot-timeout", "1", "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 6
    assert f"no answer from {url} to HELLO within 1 s" in result.output
    assert not (tmp_path / "r.json").exists()


def test_cli_rejects_a_folder_that_is_no_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["profile", str(tmp_path), "--data", "digits"])
    assert result.exit_code == 2 and "is not a tinycompress project" in result.output


def test_cli_refuses_firmware_of_another_model(project: Path, served, tmp_path: Path) -> None:
    from keras_int8 import convert_int8, tf_keras

    layers = tf_keras.layers
    other = tmp_path / "other.tflite"  # same input shape as the project's model, other weights
    other.write_bytes(convert_int8(tf_keras.Sequential([layers.Input((8, 8, 1)), layers.Flatten(), layers.Dense(10)]),
                                   samples=4))
    with run_host_server(served[0]) as url:
        result = profile(project, url, tmp_path / "r.json", "--model", str(other), "--limit", "2")
    assert result.exit_code == 7
    assert "runs model" in result.output and "rebuild and flash the project" in result.output
