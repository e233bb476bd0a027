"""A device lost mid-run: the samples measured so far survive, marked incomplete."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from fake_device import FakeDevice, FaultyLoopPort, cut_and_die
from tinycompress.link import DeviceLink
from tinycompress.link.protocol import InfoTag
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
    clock = {InfoTag.CORE_CLOCK_HZ: struct.pack("<I", 100_000_000)}
    port = FaultyLoopPort(FakeDevice(input_bytes=8, output_bytes=4, extra_info=clock))
    link = DeviceLink(port, "loop://", timeout=0.2)
    info = connect(link, boot_timeout=1)
    inputs = np.arange(3 * 8).reshape(3, 8).astype(np.int8)
    measured = stream(link, info, inputs)
    host = inputs[:, :4].copy()
    host[1, 2] ^= 1
    report = build_report(Target("fake"), measured, labels=None, host_outputs=host, url="loop://")
    assert report["complete"] is True
    assert report["outputs_bit_exact"] is False and report["mismatched_samples"] == [1]
    assert report["accuracy"] == {"device": None, "host_int8": None}
    assert report["latency"]["ms"]["max"] == pytest.approx(report["latency"]["max"] / 100_000)


def test_report_of_a_run_that_measured_nothing() -> None:
    """A device lost before its first sample: a report with 0 samples, not a reshape error."""
    port = FaultyLoopPort(FakeDevice(input_bytes=16, output_bytes=4))
    link = DeviceLink(port, "loop://", timeout=0.1, retries=1)
    info = connect(link, boot_timeout=1)
    port.go_silent()
    measured = stream(link, info, np.zeros((5, 16), np.int8))
    assert measured.results == [] and "SET_INPUT" in measured.stopped
    report = build_report(Target("fake", layers=(LayerInfo("a", "ADD", 1),)), measured,
                          labels=np.zeros(5, np.int64), host_outputs=np.zeros((0, 1, 4), np.int8), url="loop://")
    assert report["complete"] is False and report["samples"] == 0 and report["samples_requested"] == 5
    assert report["stopped"] == measured.stopped and report["mismatched_samples"] == []
    assert report["outputs_bit_exact"] is False and report["accuracy"] == {"device": None, "host_int8": None}
    assert report["latency"] == {"unit": "cycles", "clock_hz": None} and report["layers"] == []


@pytest.mark.parametrize("wrong", [(5, 6), (), (1, 2, 3, 4)])
def test_layer_profile_of_another_layer_count_is_retried_then_stops_the_run(wrong: tuple[int, ...]) -> None:
    """From the 4th sample on the device counts other layers than its INFO's 3: the 3 samples before are kept."""
    device = FakeDevice(input_bytes=16, output_bytes=4, layer_ticks=lambda n: (10, 20, 30 + n) if n <= 3 else wrong)
    link = DeviceLink(FaultyLoopPort(device), "loop://", timeout=0.2, retries=2)
    info = connect(link, boot_timeout=1)
    assert info.layers == 3 and info.profile_layers
    inputs = np.arange(6 * 16).reshape(6, 16).astype(np.int8)
    measured = stream(link, info, inputs)
    assert len(measured.results) == 3 and not measured.complete
    assert f"answered LAYER_PROFILE with a malformed payload 3 times (LAYER_PROFILE answer has {len(wrong)} layers, " \
           f"the model 3)" in measured.stopped
    assert link.stats.malformed_answers == 3 and link.stats.retries == 2
    layers = tuple(LayerInfo(name, "ADD", 1) for name in "abc")
    report = build_report(Target("fake", layers=layers), measured, labels=None, host_outputs=inputs[:, :4],
                          url="loop://")
    assert report["samples"] == 3 and report["complete"] is False and report["outputs_bit_exact"] is True
    assert [(layer["name"], layer["median"]) for layer in report["layers"]] == [("a", 10.0), ("b", 20.0), ("c", 32.0)]
