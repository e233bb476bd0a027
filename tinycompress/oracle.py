"""The reference for what a microcontroller computes: TFLM's interpreter.

``tflite-micro`` (PyPI) runs TensorFlow Lite Micro's reference kernels, the
arithmetic our generated C must reproduce byte for byte. This module wraps
it with quantization metadata, batch runs and the arena figure TFLM reports.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tinycompress.errors import ModelFormatError, UnsupportedError
from tinycompress.progress import NullProgress, Progress

_ARENA_TOTAL = re.compile(rb"Arena allocation total (\d+) bytes")


@dataclass(frozen=True)
class TensorQuant:
    """Shape, dtype and (per-tensor) quantization of a model input or output."""

    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float values to this tensor's integer type, as TFLite quantizes."""
        info = np.iinfo(self.dtype)
        q = np.round(np.asarray(x, np.float64) / self.scale) + self.zero_point
        return np.clip(q, info.min, info.max).astype(self.dtype)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        return (np.asarray(q, np.float64) - self.zero_point) * self.scale


def _tensor_quant(details: dict) -> TensorQuant:
    params = details["quantization_parameters"]
    scales = np.asarray(params["scales"])
    zeros = np.asarray(params["zero_points"])
    return TensorQuant(
        shape=tuple(int(d) for d in details["shape"]),
        dtype=np.dtype(details["dtype"]),
        scale=float(scales[0]) if scales.size else 0.0,
        zero_point=int(zeros[0]) if zeros.size else 0,
    )


@contextlib.contextmanager
def _captured_fds() -> Iterator[list[bytes]]:
    """Capture what native code writes to file descriptors 1 and 2."""
    libc = ctypes.CDLL(None)
    out: list[bytes] = []
    with tempfile.TemporaryFile() as sink:
        saved = [os.dup(1), os.dup(2)]
        libc.fflush(None)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield out
        finally:
            libc.fflush(None)
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            out.append(sink.read())


class TflmOracle:
    """One TFLM interpreter over a flatbuffer, with its quantization metadata.

    The model must have exactly one input and one output (what every model
    our pipeline produces has). Construction fails with a
    ``ModelFormatError`` if TFLM cannot load or prepare the model.
    """

    def __init__(self, tflite_bytes: bytes, arena_size: int | None = None) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self._bytes = bytes(tflite_bytes)
        size = arena_size or max(len(self._bytes) * 10, 1 << 20)
        try:
            with _captured_fds():
                self._interp = runtime.Interpreter.from_bytes(self._bytes, arena_size=size)
                self.input = _tensor_quant(self._interp.get_input_details(0))
                self.output = _tensor_quant(self._interp.get_output_details(0))
        except Exception as exc:  # the wheel raises RuntimeError, struct.error, ...
            raise ModelFormatError(
                f"the TFLM interpreter cannot load this model ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); "
                "give a valid full-int8 .tflite file"
            ) from None
        self._invoked = False

    def run(self, x: np.ndarray) -> np.ndarray:
        """Run one sample (already in the input's integer type); return the output."""
        x = np.asarray(x)
        if x.dtype != self.input.dtype:
            raise UnsupportedError(
                f"oracle input dtype {x.dtype} does not match the model's {self.input.dtype}; "
                "quantize the input with oracle.input.quantize() first"
            )
        sample = x.reshape(self.input.shape)
        try:
            self._interp.set_input(sample, 0)
            self._interp.invoke()
            result = np.array(self._interp.get_output(0), copy=True)
        except Exception as exc:
            raise ModelFormatError(
                f"the TFLM interpreter failed to run this model ({type(exc).__name__}: {exc}); "
                "check that every op is supported by TFLM"
            ) from None
        self._invoked = True
        return result

    def run_batch(self, xs: np.ndarray, progress: Progress | None = None,
                  description: str = "TFLM reference") -> np.ndarray:
        """Run every sample of ``xs`` (leading axis = samples); stack the outputs."""
        task = (progress or NullProgress()).task(description, len(xs))
        outputs = []
        try:
            for x in xs:
                outputs.append(self.run(x))
                task.advance()
        finally:
            task.close()
        return np.stack(outputs) if outputs else np.zeros((0, *self.output.shape), self.output.dtype)

    def arena_bytes(self) -> int:
        """TFLM's total arena for this model, as ``print_allocations()`` reports it."""
        if not self._invoked:
            self.run(np.full(self.input.shape, self.input.zero_point, self.input.dtype))
        with _captured_fds() as captured:
            self._interp.print_allocations()
        match = _ARENA_TOTAL.search(b"".join(captured))
        if match is None:
            raise ModelFormatError("TFLM did not report its arena size; is tflite-micro installed correctly?")
        return int(match.group(1))
