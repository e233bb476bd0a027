"""Milliseconds come from the core clock the device reports, never from the board file's nominal clock."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from fake_device import FakeDevice, FaultyLoopPort
from tinycompress.cli import profile as profile_cli
from tinycompress.link import DeviceLink
from tinycompress.link.protocol import InfoTag, parse_info
from tinycompress.profile.report import Target, build_report
from tinycompress.profile.session import connect, stream

pytestmark = pytest.mark.host


def _profile(extra_info: dict[int, bytes]) -> tuple[dict, object]:
    """Three samples from a fake device whose INFO holds ``extra_info``; the report and the device's info."""
    link = DeviceLink(FaultyLoopPort(FakeDevice(input_bytes=8, output_bytes=4, extra_info=extra_info)), "loop://",
                      timeout=0.2)
    info = connect(link, boot_timeout=1)
    inputs = np.arange(3 * 8).reshape(3, 8).astype(np.int8)
    measured = stream(link, info, inputs)
    return build_report(Target("nucleo_l4r5zi"), measured, labels=None, host_outputs=inputs[:, :4],
                        url="loop://"), info


def _summary(report: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    out = io.StringIO()
    monkeypatch.setattr(profile_cli, "stdout", Console(file=out, width=120, color_system=None))
    profile_cli.print_summary(report, tmp_path / "report.json")
    return out.getvalue()


def test_ms_from_the_clock_the_device_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An L4R5ZI whose PLL did not lock says 4 MHz: the report divides by 4 MHz, not the nominal 120 MHz."""
    report, info = _profile({InfoTag.CORE_CLOCK_HZ: struct.pack("<I", 4_000_000)})
    assert info.core_clock_hz == 4_000_000
    latency = report["latency"]
    assert latency["unit"] == "cycles" and latency["clock_hz"] == 4_000_000
    for key in ("median", "p90", "min", "max"):
        assert latency["ms"][key] == pytest.approx(latency[key] / 4_000)
    text = _summary(report, tmp_path, monkeypatch)
    assert "4 MHz" in text and "ms at that clock" in text


@pytest.mark.parametrize("record", [{}, {InfoTag.CORE_CLOCK_HZ: struct.pack("<I", 0)}],
                         ids=["firmware without the record", "device reports 0 (unknown)"])
def test_no_ms_without_a_reported_clock(record: dict[int, bytes], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    report, info = _profile(record)
    assert info.core_clock_hz == (0 if record else None)
    assert report["latency"]["clock_hz"] is None and "ms" not in report["latency"]
    assert "median" in report["latency"]
    text = _summary(report, tmp_path, monkeypatch)
    assert "not reported (latency in cycles)" in text and "ms at" not in text


def test_core_clock_record_parses_and_older_info_still_parses() -> None:
    old = bytes([InfoTag.VERSION, 1, 1]) + bytes([InfoTag.TIMER_UNIT, 6]) + b"cycles"
    assert parse_info(old).core_clock_hz is None
    new = old + bytes([InfoTag.CORE_CLOCK_HZ, 4]) + struct.pack("<I", 180_000_000)
    info = parse_info(new)
    assert info.core_clock_hz == 180_000_000 and info.unknown_tags == ()
