"""End to end without QEMU: a trained digits CNN, compiled by the code generator,
served by the real C protocol code in a host process, profiled through the
real link. The device must agree with the TFLM interpreter on every byte.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from tinycompress.oracle import TflmOracle
from tinycompress.profile.device import profile_url
from tinycompress.profile.host import build_host_server, run_host_server
from tinycompress.profile.report import Target

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
    oracle = TflmOracle(digits_tflite)
    for role, tensor in (("input", oracle.input), ("output", oracle.output)):
        assert report["quantization"][role] == {"shape": list(tensor.shape), "scale": tensor.scale,
                                                "zero_point": tensor.zero_point}
    assert report["memory"] == {"elf": None, "device": None}  # a host process: no ELF figures, port unknown
    assert report["memory_source"] is None and report["flash_bytes"] is None


def test_firmware_with_another_zero_point_is_refused(digits_tflite: bytes, digits, tmp_path: Path) -> None:
    """The real C server reports what its model.h says; one changed zero point stops the session."""
    from tinycompress.codegen import generate, runtime_sources
    from tinycompress.errors import DeviceError
    from tinycompress.tflite import read_model

    oracle = TflmOracle(digits_tflite)
    header = generate(read_model(digits_tflite)).files
    line = f"#define TC_MODEL_INPUT_ZERO_POINT ({oracle.input.zero_point})"
    assert line in header["model.h"]
    (tmp_path / "model").mkdir()
    for name, text in header.items():
        if name == "model.h":
            text = text.replace(line, f"#define TC_MODEL_INPUT_ZERO_POINT ({oracle.input.zero_point + 1})")
        (tmp_path / "model" / name).write_text(text)
    binary = build_host_server(tmp_path / "model", tmp_path / "server", runtime_sources=runtime_sources())
    message = (f"input zero point {oracle.input.zero_point + 1}, the model's is {oracle.input.zero_point}; "
               "rebuild and flash the project")
    with run_host_server(binary) as url, pytest.raises(DeviceError, match=re.escape(message)):
        profile_url(url, digits_tflite, digits.x_test, None, Target("host"), limit=2, timeout=2)


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
