"""INVOKE is idempotent for real, and a wrong output is never accepted.

The digits CNN's arena plan reuses the input's bytes for later layers, so
running it twice on one SET_INPUT computes on garbage. These tests drive the
real C protocol server (built for the host) through lost answers and stale
inputs, and check that `profile` and `run` exit non-zero on a mismatch.
"""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fault_proxy import INVOKE_ANSWER, AnswerFaultProxy, drop_invoke_answers
from test_host_native import PLACEHOLDER, placeholder_reference

from tinycompress.cli import main
from tinycompress.errors import VerificationError
from tinycompress.link import Command, DeviceLink, DeviceStatusError, Status, open_link
from tinycompress.link.frame import Frame, FrameDecoder, decode_frame, encode_frame
from tinycompress.profile.host import build_host_server, run_host_server
from tinycompress.profile.session import stream

pytestmark = pytest.mark.host


@pytest.fixture(scope="module")
def digits_case(digits, digits_tflite: bytes):
    """The digits CNN's int8 test inputs and the TFLM interpreter's outputs for them."""
    from tinycompress.codegen import generate
    from tinycompress.oracle import TflmOracle
    from tinycompress.profile.device import quantize_inputs
    from tinycompress.tflite import read_model

    assert "#define TC_MODEL_INPUT_PRESERVED 0" in generate(read_model(digits_tflite)).files["model.h"]
    oracle = TflmOracle(digits_tflite)
    inputs = quantize_inputs(digits.x_test[:6], oracle)
    expected = [out.astype(np.int8).tobytes() for out in oracle.run_batch(inputs)]
    return [x.astype(np.int8).tobytes() for x in inputs], expected


def test_repeated_invoke_after_lost_answers_gives_the_right_output(served, digits_case) -> None:
    """The regression of issue 8: each INVOKE's first answer is lost, the host repeats it."""
    inputs, expected = digits_case
    with run_host_server(served[0]) as url:
        port = int(url.rsplit(":", 1)[1])
        with AnswerFaultProxy(port, drop_invoke_answers(4)) as proxy, open_link(proxy.url, timeout=0.5) as link:
            link.connect()
            link.info()
            outputs = []
            for data in inputs[:4]:
                link.set_input(data)
                outputs.append(link.invoke().output)
    assert proxy.counts[("drop", INVOKE_ANSWER)] == 4 and link.stats.retries == 4
    assert outputs == expected[:4]


def test_repeat_is_answered_from_the_held_result(served, digits_case) -> None:
    """Same seq twice: the very same frame (latency included), not a second run."""
    inputs, expected = digits_case
    requests = [encode_frame(Frame(1, Command.SET_INPUT, 1, 0, struct.pack("<I", 0) + inputs[0])),
                encode_frame(Frame(1, Command.INVOKE, 2, 0)), encode_frame(Frame(1, Command.INVOKE, 2, 0))]
    with run_host_server(served[0]) as url:
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as conn:
            answers = []
            decoder = FrameDecoder()
            for sent, request in enumerate(requests, start=1):
                conn.sendall(request)
                while len(answers) < sent:
                    answers += [f for f in decoder.feed(conn.recv(4096)) if isinstance(f, Frame)]
    set_input, first, again = answers
    assert set_input.status == first.status == Status.OK and first.payload[4:] == expected[0]
    assert again == first


def test_new_invoke_on_a_consumed_input_is_refused(served, digits_case) -> None:
    inputs, expected = digits_case
    with run_host_server(served[0]) as url, open_link(url, timeout=1) as link:
        link.connect()
        link.info()
        link.set_input(inputs[1])
        assert link.invoke().output == expected[1]
        with pytest.raises(DeviceStatusError, match="INPUT_STALE") as stale:
            link.invoke()
        assert stale.value.status == Status.INPUT_STALE
        link.set_input(inputs[1])
        assert link.invoke().output == expected[1]


def test_invoke_needs_a_whole_input_since_boot(tmp_path: Path) -> None:
    """The placeholder keeps its input (TC_MODEL_INPUT_PRESERVED 1): only a missing input is refused."""
    server = build_host_server(PLACEHOLDER, tmp_path / "server", rx_max=40)
    sample = bytes((5 * i + 1) % 128 for i in range(300))
    with run_host_server(server) as url, open_link(url, timeout=1) as link:
        link.connect()
        link.info()
        with pytest.raises(DeviceStatusError, match="INPUT_STALE"):
            link.invoke()
        for offset in (0, 72, 108):  # bytes 36..72 never written
            link._parsed(Command.SET_INPUT, struct.pack("<I", offset) + sample[offset : offset + 36], lambda p: p)
        with pytest.raises(DeviceStatusError, match="INPUT_STALE"):
            link.invoke()
        link.set_input(sample)
        assert link.invoke().output == link.invoke().output == placeholder_reference(sample)


class ForeignInvoke:
    """A port that slips one INVOKE of its own (seq 0xEE) in before the host's first INVOKE.

    It stands for anything that runs the model between the host's SET_INPUT
    and INVOKE (another client on the same line, say): the input is then
    consumed, and only sending it again gives the right answer.
    """

    def __init__(self, url: str) -> None:
        import serial

        self._port = serial.serial_for_url(url, timeout=0.02)
        self.injected = False

    @property
    def timeout(self) -> float | None:
        return self._port.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._port.timeout = value

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def read(self, size: int = 1) -> bytes:
        return self._port.read(size)

    def write(self, data: bytes) -> int | None:
        if not self.injected and data[1:-1] and decode_frame(data[1:-1]).command == Command.INVOKE:
            self._port.write(encode_frame(Frame(1, Command.INVOKE, 0xEE, 0)))
            self.injected = True
        return self._port.write(data)

    def close(self) -> None:
        self._port.close()


def test_stream_sends_the_input_again_when_it_is_stale(served, digits_case) -> None:
    inputs, expected = digits_case
    with run_host_server(served[0]) as url:
        port = ForeignInvoke(url)
        with DeviceLink(port, url, timeout=1) as link:
            link.connect()
            info = link.info()
            samples = np.stack([np.frombuffer(x, np.int8) for x in inputs])
            measured = stream(link, info, samples)
    assert port.injected and measured.complete, measured.stopped
    assert [r.output for r in measured.results] == expected
    assert link.stats.stale_frames >= 1  # the foreign INVOKE's answer, ignored


def miscomputing_server(digits_tflite: bytes, folder: Path) -> Path:
    """The digits CNN's firmware with its first output byte flipped: right hash, wrong outputs."""
    from tinycompress.codegen import generate, runtime_sources
    from tinycompress.tflite import read_model

    files = dict(generate(read_model(digits_tflite)).files)
    head, tail = files["model.c"].rsplit("    return TC_OK;\n}", 1)
    files["model.c"] = head + "    ((int8_t *)tc_model_output())[0] ^= 1;\n    return TC_OK;\n}" + tail
    (folder / "model").mkdir(parents=True)
    for name, text in files.items():
        (folder / "model" / name).write_text(text)
    return build_host_server(folder / "model", folder / "server", runtime_sources=runtime_sources())


def test_profile_exits_8_on_outputs_that_differ_and_keeps_the_report(
        digits_tflite: bytes, digits_tflite_path: Path, tmp_path: Path) -> None:
    from tinycompress.project.boards import get_board
    from tinycompress.project.export import export_project
    from tinycompress.project.model import model_sources_from_tflite

    project = tmp_path / "project"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path / "home"))
        export_project(model_sources_from_tflite(digits_tflite_path), get_board("qemu-netduinoplus2"), project)
    report_path = tmp_path / "report.json"
    with run_host_server(miscomputing_server(digits_tflite, tmp_path / "bad")) as url:
        result = CliRunner().invoke(main, ["profile", str(project), "--data", "digits", "--port", url,
                                           "--limit", "5", "--timeout", "1", "-o", str(report_path)])
    assert result.exit_code == 8, result.output
    assert "5 of 5 device outputs differ from the TFLM interpreter" in result.output
    report = json.loads(report_path.read_text())
    assert report["complete"] is True and report["outputs_bit_exact"] is False
    assert report["mismatched_samples"] == [0, 1, 2, 3, 4]


def test_run_and_demo_exit_8_on_outputs_that_differ(tmp_path: Path) -> None:
    from tinycompress.cli.run import finish
    from tinycompress.run import RunResult

    device = {"samples": 3, "samples_requested": 3, "complete": True, "stopped": None, "mismatched_samples": [2]}
    with pytest.raises(VerificationError, match=r"1 of 3 device outputs differ .*sample 2") as failed:
        finish(RunResult(tmp_path, {"complete": True, "device": device}), quiet=True, as_json=False)
    assert failed.value.exit_code == 8 and str(tmp_path / "report.json") in str(failed.value)
