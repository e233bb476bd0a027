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


def test_cli_prints_progress_lines_when_not_on_a_terminal(project: Path, served, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Off a terminal (CliRunner, a log, CI) the rich bar draws nothing: a long run looked hung."""
    import re

    import tinycompress.cli._common as common

    monkeypatch.setattr(common, "PROGRESS_LINE_INTERVAL_S", 0.0)  # every sample; 5 s in real use
    with run_host_server(served[0]) as url:
        result = profile(project, url, tmp_path / "report.json", "--limit", "4")
    assert result.exit_code == 0, result.output
    lines = re.findall(r"^profiling on qemu-netduinoplus2: (\d)/4 \((\d+) %\), \d+ s elapsed, ETA \d+ s$",
                       result.output, re.MULTILINE)
    assert lines == [("1", "25"), ("2", "50"), ("3", "75"), ("4", "100")]


def test_cli_is_quiet_when_asked_even_off_a_terminal(project: Path, served, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import tinycompress.cli._common as common

    monkeypatch.setattr(common, "PROGRESS_LINE_INTERVAL_S", 0.0)
    with run_host_server(served[0]) as url:
        result = profile(project, url, tmp_path / "report.json", "--limit", "2", "--quiet")
    assert result.exit_code == 0, result.output
    assert "profiling on" not in result.output


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


@pytest.mark.parametrize("ending", ["close", "silent"])
def test_cli_device_lost_before_the_first_sample_writes_an_empty_report(project: Path, tmp_path: Path,
                                                                         ending: str) -> None:
    """HELLO and INFO answered, then nothing: a report of 0 samples, exit 6 (it was an internal error)."""
    from fake_device import FakeDevice, FakeDeviceServer

    report_path = tmp_path / "report.json"
    with FakeDeviceServer(FakeDevice(input_bytes=64, output_bytes=10), answers=2, ending=ending) as server:
        result = profile(project, server.url, report_path, "--limit", "5", "--timeout", "0.2")
    assert result.exit_code == 6, result.output
    assert "device lost after 0 of 5 samples" in result.output and "internal error" not in result.output
    report = json.loads(report_path.read_text())
    assert report["complete"] is False and report["samples"] == 0 and report["samples_requested"] == 5
    assert "SET_INPUT" in report["stopped"] and report["layers"] == []


@pytest.mark.parametrize("option, value, message", [
    ("--port", "foo://board", "unknown URL scheme foo://"),
    ("--port", "socket://127.0.0.1:http", "is not socket://HOST:PORT"),
    ("--port", "socket://127.0.0.1:70000", "is not socket://HOST:PORT"),
    ("--baud", "0", "0 is not in the range x>=1"),
    ("--baud", "fast", "'fast' is not a valid integer"),
])
def test_cli_malformed_port_or_baud_is_bad_input(project: Path, tmp_path: Path, option: str, value: str,
                                                 message: str) -> None:
    """Exit 2 (bad input) in one line, before any work; 6 is for a device that is lost."""
    args = {"--port": "socket://127.0.0.1:9", "--baud": "115200"} | {option: value}
    result = CliRunner().invoke(main, ["profile", str(project), "--data", "digits", "--port", args["--port"],
                                       "--baud", args["--baud"], "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("url, baud", [("loop://", 0), ("loop://", -9600), ("spy://", 9600), ("", 9600)])
def test_open_link_refuses_a_malformed_port_as_bad_input(url: str, baud: int) -> None:
    from tinycompress.errors import InputError
    from tinycompress.link import open_link

    with pytest.raises(InputError) as refused:
        open_link(url, baudrate=baud)
    assert refused.value.exit_code == 2 and "\n" not in str(refused.value)


def test_run_refuses_a_malformed_port_before_any_work(tmp_path: Path) -> None:
    """`run` checks --port with its other cheap checks, not after minutes of compression."""
    from tinycompress.errors import InputError
    from tinycompress.run import run

    with pytest.raises(InputError, match=r"'foo://board' has the unknown URL scheme foo://"):
        run(tmp_path / "model.keras", "digits", "nucleo_l4r5zi", tmp_path / "out", port="foo://board")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("extra, expected", [((), 921600), (("--baud", "115200"), 115200)])
def test_cli_opens_a_real_board_at_its_board_files_baud(digits_tflite_path: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...],
                                                        expected: int) -> None:
    """esp32dev's firmware runs its UART at the board file's 921600 baud: the host must open the port at it."""
    import serial

    from tinycompress.project.boards import get_board
    from tinycompress.project.export import export_project
    from tinycompress.project.model import model_sources_from_tflite

    project = export_project(model_sources_from_tflite(digits_tflite_path), get_board("esp32dev"),
                             tmp_path / "p").project
    assert "#define TC_BOARD_UART_BAUD 921600u" in (project / "src" / "port" / "tc_board.h").read_text()
    assert "monitor_speed = 921600" in (project / "platformio.ini").read_text()
    opened: list[int] = []
    real_open = serial.serial_for_url

    def spy(url: str, *args, **kwargs):
        opened.append(kwargs["baudrate"])
        return real_open(url, *args, **kwargs)

    monkeypatch.setattr(serial, "serial_for_url", spy)
    result = CliRunner().invoke(main, ["profile", str(project), "--data", "digits", "--port", "loop://",
                                       "--timeout", "0.1", "--boot-timeout", "0.2", "-o", str(tmp_path / "r.json"),
                                       *extra])
    assert result.exit_code == 6 and "no answer from loop:// to HELLO" in result.output  # nothing behind loop://
    assert opened == [expected]
