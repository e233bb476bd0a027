"""Emulator tier: `profile` through a line that damages the device's answers.

QEMU runs the digits CNN firmware on qemu-netduinoplus2 (its arena plan
reuses the input's bytes, so a repeated INVOKE that ran the model again would
compute on garbage). Between pyserial and QEMU's serial socket a proxy flips
bits in, drops, duplicates and delays a seeded random fifth of the answer
frames. Whatever the faults, the result is bit-exact with exit 0, or a clear
failure with a partial report whose outputs are all right: never a wrong
output accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fault_proxy import INVOKE_ANSWER, AnswerFaultProxy, random_policy
from protocol_project import export_and_build

from tinycompress.cli import main
from tinycompress.project.boards import get_board
from tinycompress.project.qemu import start_qemu

pytestmark = pytest.mark.emulator

BOARD = "qemu-netduinoplus2"
SAMPLES = 50
FAULT_RATE = 0.2


@pytest.fixture(scope="module")
def built(digits_tflite_path: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("proj") / BOARD
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        built = export_and_build(digits_tflite_path, BOARD, out, runtime_arch=get_board(BOARD).runtime_arch)
    assert "#define TC_MODEL_INPUT_PRESERVED 0" in (out / "src" / "model" / "model.h").read_text()
    return built


def test_profile_through_a_damaging_line_never_accepts_a_wrong_output(built, tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    with (start_qemu(built.project.board, built.firmware) as session,
          AnswerFaultProxy(session.port, random_policy(FAULT_RATE, seed=8), seed=8) as proxy):
        result = CliRunner().invoke(main, ["profile", str(built.project.path), "--data", "digits",
                                           "--port", proxy.url, "--limit", str(SAMPLES), "--timeout", "1",
                                           "-o", str(report_path)])
    frames = sum(proxy.counts.values())
    damaged = frames - sum(n for (fault, _), n in proxy.counts.items() if fault == "intact")
    lost_invokes = proxy.counts[("drop", INVOKE_ANSWER)] + proxy.counts[("flip", INVOKE_ANSWER)]
    assert damaged >= 0.1 * frames and lost_invokes >= 2, proxy.counts  # the faults hit, INVOKE answers too
    report = json.loads(report_path.read_text())
    assert report["mismatched_samples"] == [], result.output
    if result.exit_code == 0:
        assert report["complete"] and report["samples"] == SAMPLES and report["outputs_bit_exact"] is True
        assert report["accuracy"]["device"] == report["accuracy"]["host_int8"]
        assert report["link"]["retries"] >= lost_invokes
    else:
        assert result.exit_code == 6, result.output
        assert report["complete"] is False and report["stopped"] and "incomplete" in result.output
