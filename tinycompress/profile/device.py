"""One profiling run: quantize the test set, stream it, compare with TFLM, report."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from tinycompress.errors import DataError, DeviceError
from tinycompress.compress.metrics import CLASSIFICATION
from tinycompress.link import DeviceInfo, DeviceLink, Quant, open_link
from tinycompress.link.client import DEFAULT_BAUDRATE, DEFAULT_TIMEOUT_S
from tinycompress.progress import NullProgress, Progress
from tinycompress.profile.report import Target, build_report
from tinycompress.profile.session import REBUILD, check_device, connect, stream


def quantize_inputs(x: np.ndarray, oracle) -> np.ndarray:
    """Float samples to the model's int8 input with its scale and zero point.

    Integer data already in the input's type is passed through unchanged.
    """
    x = np.asarray(x)
    expected = int(np.prod(oracle.input.shape[1:]))
    if x.ndim < 1 or int(np.prod(x.shape[1:])) != expected:
        raise DataError(
            f"test samples have shape {tuple(x.shape[1:])}, the model's input is {oracle.input.shape[1:]}; "
            "give the data set the model was trained on"
        )
    if not np.issubdtype(x.dtype, np.floating) and x.dtype == oracle.input.dtype:
        return x.reshape(len(x), *oracle.input.shape[1:])
    if not np.all(np.isfinite(x)):
        raise DataError("the test set contains NaN or inf; clean the data before profiling")
    return oracle.input.quantize(x).reshape(len(x), *oracle.input.shape[1:])


def _check_tensors(info: DeviceInfo, oracle, url: str) -> None:
    """The device's input/output shape and quantization must be the model's, bit for bit.

    Firmware built from another export of the model (or another model with
    the same sizes) would quantize the test set differently; its accuracy
    would be meaningless. Records the firmware left out are not checked.
    """
    for what, shape, quant, host in (("input", info.input_shape, info.input_quant, oracle.input),
                                      ("output", info.output_shape, info.output_quant, oracle.output)):
        problem = None
        if shape is not None and tuple(shape) != tuple(host.shape):
            problem = f"{what} shape {list(shape)}, the model's is {list(host.shape)}"
        elif quant is not None and np.float32(quant.scale) != np.float32(host.scale):
            problem = f"{what} scale {_f32(quant.scale)}, the model's is {_f32(host.scale)}"
        elif quant is not None and quant.zero_point != host.zero_point:
            problem = f"{what} zero point {quant.zero_point}, the model's is {host.zero_point}"
        if problem:
            raise DeviceError(f"the firmware on {url} has {problem}; {REBUILD}")


def _f32(value: float) -> str:
    """Enough digits to tell two float32 values apart."""
    return f"{float(np.float32(value)):.9g}"


def profile_link(link: DeviceLink, tflite: bytes, x: np.ndarray, y: np.ndarray | None, target: Target, *,
                 limit: int | None = None, progress: Progress | None = None,
                 boot_timeout: float = 10.0, task: str = CLASSIFICATION,
                 anomaly: np.ndarray | None = None) -> dict[str, Any]:
    """Profile the firmware behind ``link`` on the test set ``x``/``y``.

    ``y`` holds class labels, or the targets of a regression or autoencoder
    ``task`` (``anomaly``: its 0/1 labels per test sample, for ROC AUC).

    Returns the report dict; ``report["complete"]`` is false when the device
    was lost part-way (the samples measured until then are all in it).
    """
    from tinycompress.oracle import TflmOracle

    progress = progress or NullProgress()
    oracle = TflmOracle(tflite)
    if limit is not None:
        x = x[:limit]
        y = None if y is None else y[:limit]
        anomaly = None if anomaly is None else anomaly[:limit]
    if len(x) == 0:
        raise DataError("the test set is empty; give a data set with test samples or a --limit above 0")
    inputs = quantize_inputs(x, oracle)
    info = connect(link, boot_timeout=boot_timeout)
    output_bytes = int(np.prod(oracle.output.shape))
    check_device(info, link.url, input_bytes=int(np.prod(oracle.input.shape)), output_bytes=output_bytes,
                 model_hash=hashlib.sha256(tflite).hexdigest())
    _check_tensors(info, oracle, link.url)
    if target.layers and info.layers is not None and info.layers != len(target.layers):
        raise DeviceError(
            f"the firmware on {link.url} has {info.layers} layers, the model {len(target.layers)}; "
            "rebuild and flash the project"
        )
    link.expect(output_bytes=output_bytes, layers=len(target.layers) or info.layers)
    measured = stream(link, info, inputs, progress, description=f"profiling on {target.board}")
    host_outputs = oracle.run_batch(inputs[: len(measured.results)], progress, "TFLM reference (host)")
    return build_report(target, measured, labels=y, host_outputs=host_outputs, url=link.url, task=task,
                        output_quant=Quant(oracle.output.scale, oracle.output.zero_point), anomaly=anomaly)


def profile_url(url: str, tflite: bytes, x: np.ndarray, y: np.ndarray | None, target: Target, *,
                baudrate: int = DEFAULT_BAUDRATE, timeout: float = DEFAULT_TIMEOUT_S,
                **options: Any) -> dict[str, Any]:
    """:func:`profile_link` over a port opened from any pyserial URL."""
    with open_link(url, baudrate=baudrate, timeout=timeout) as link:
        return profile_link(link, tflite, x, y, target, **options)
