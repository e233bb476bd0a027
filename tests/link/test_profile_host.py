"""End to end without QEMU: a trained digits CNN, compiled by the code generator,
served by the real C protocol code in a host process, profiled through the
real link. The device must agree with the TFLM interpreter on every byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tinycompress.profile.device import profile_url
from tinycompress.profile.host import run_host_server

pytestmark = pytest.mark.host

SAMPLES = 40


def test_generated_model_profiled_over_the_real_protocol(served, digits_tflite: bytes, digits) -> None:
    binary, target = served
    with run_host_server(binary) as url:
        report = profile_url(url, digits_tflite, digits.x_test, digits.y_test, target, limit=SAMPLES, timeout=2)
    assert report["complete"] and report["samples"] == SAMPLES
    assert report["outputs_bit_exact"] is True and report["mismatched_samples"] == []
    assert report["accuracy"]["device"] == report["accuracy"]["host_int8"]
    assert report["accuracy"]["device"] > 0.5  # trained: far above chance (0.1)
    assert report["model_hash"] == hashlib.sha256(digits_tflite).hexdigest()
    assert report["latency"]["unit"] == "ns" and report["latency"]["min"] > 0
    assert [layer["name"] for layer in report["layers"]] == [layer.name for layer in target.layers]
    assert sum(layer["share"] for layer in report["layers"]) == pytest.approx(1.0)
    assert report["link"]["retries"] <= 1  # only the boot banner may cost one


def test_wrong_firmware_is_refused(served, digits, tmp_path: Path) -> None:
    from keras_int8 import convert_int8, small_cnn
    from tinycompress.errors import DeviceError

    binary, target = served
    other = convert_int8(small_cnn(1), samples=4)
    with run_host_server(binary) as url, pytest.raises(DeviceError, match="runs model .* the project's model is"):
        profile_url(url, other, np.zeros((2, 12, 12, 3), np.float32), None, target, timeout=1)


def test_data_of_wrong_shape_is_refused_before_streaming(served, digits_tflite: bytes) -> None:
    from tinycompress.errors import DataError

    binary, target = served
    with run_host_server(binary) as url, pytest.raises(DataError, match=r"shape \(5, 5\).*\(8, 8, 1\)"):
        profile_url(url, digits_tflite, np.zeros((3, 5, 5), np.float32), None, target)
