"""A device lost mid-run: the samples measured so far survive, marked incomplete."""

from __future__ import annotations

import numpy as np
import pytest

from fake_device import FakeDevice, FaultyLoopPort, cut_and_die
from tinycompress.link import DeviceLink
from tinycompress.profile.report import LayerInfo, Target, build_report
from tinycompress.profile.session import connect, stream

pytestmark = pytest.mark.host


def test_device_lost_mid_run_keeps_measured_samples() -> None:
    port = FaultyLoopPort(FakeDevice(input_bytes=16, output_bytes=4))
    link = DeviceLink(port, "loop://", timeout=0.2, retries=1)
    info = connect(link, boot_timeout=1)
    inputs = np.arange(10 * 16, dtype=np.int64).reshape(10, 16).astype(np.int8)
    # one SET_INPUT and one INVOKE per sample: lose the device inside sample 4's INVOKE answer
    port.to_host = [None] * 7 + [cut_and_die(port, 5)]
    measured = stream(link, info, inputs)
    assert len(measured.results) == 3 and not measured.complete
    assert "loop://" in measured.stopped and "INVOKE" in measured.stopped
    host = inputs[:, :4]
    labels = np.array([int(np.argmax(h)) for h in host])
    report = build_report(Target("fake", layers=(LayerInfo("a", "ADD", 1),)), measured,
                          labels=labels, host_outputs=host, url="loop://")
    assert report["complete"] is False and report["samples"] == 3 and report["samples_requested"] == 10
    assert report["outputs_bit_exact"] is True and report["accuracy"]["device"] == 1.0
    assert report["latency"]["unit"] == "cycles"
    assert report["latency"]["min"] == 1000 + int(inputs[0].astype(np.uint8).sum())


def test_report_flags_a_single_wrong_byte() -> None:
    port = FaultyLoopPort(FakeDevice(input_bytes=8, output_bytes=4))
    link = DeviceLink(port, "loop://", timeout=0.2)
    info = connect(link, boot_timeout=1)
    inputs = np.arange(3 * 8).reshape(3, 8).astype(np.int8)
    measured = stream(link, info, inputs)
    host = inputs[:, :4].copy()
    host[1, 2] ^= 1
    report = build_report(Target("fake", clock_hz=100_000_000), measured, labels=None, host_outputs=host, url="loop://")
    assert report["complete"] is True
    assert report["outputs_bit_exact"] is False and report["mismatched_samples"] == [1]
    assert report["accuracy"] == {"device": None, "host_int8": None}
    assert report["latency"]["ms"]["max"] == pytest.approx(report["latency"]["max"] / 100_000)
