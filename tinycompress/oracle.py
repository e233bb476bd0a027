"""The reference for what a microcontroller computes: TFLM's interpreter.

``tflite-micro`` (PyPI) runs TensorFlow Lite Micro's reference kernels, the
arithmetic our generated C must reproduce byte for byte. This module wraps
it with quantization metadata, batch runs and the arena figure TFLM reports.

TFLM trusts the flatbuffer it is given: a tensor pointing at a buffer that
does not exist makes it read wild memory and kill the process. So the
oracle's constructor is the one gate to TFLM: it runs tinycompress's own
verifier on the bytes, then loads and invokes the model once in a child
process, so that a crash inside TFLM is a clean error and not our death.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from tinycompress.errors import ModelFormatError, UnsupportedError
from tinycompress.progress import NullProgress, Progress
from tinycompress.tflite.ir import Tensor
from tinycompress.tflite.schema import NUMPY_DTYPES

_ARENA_TOTAL = re.compile(rb"Arena allocation total (\d+) bytes")
_PREFLIGHT_TIMEOUT = 120  # seconds; the largest TinyML models load and run once in well under 1 s
# The child of preflight(): model bytes on stdin, one invoke on the zero-point input. It imports
# only numpy and tflite_micro (0.2-0.5 s in all), not tinycompress, so any sys.path will do.
_PREFLIGHT_CHILD = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
interp = runtime.Interpreter.from_bytes(sys.stdin.buffer.read(), arena_size=int(sys.argv[1]))
details = interp.get_input_details(0)
zero = details["quantization_parameters"]["zero_points"]
interp.set_input(np.full(details["shape"], zero[0] if len(zero) else 0, details["dtype"]), 0)
interp.invoke()
"""
# (model sha256, arena size) of the models that already survived a preflight in this process.
_preflighted: set[tuple[str, int]] = set()


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

    @classmethod
    def of(cls, tensor: Tensor) -> TensorQuant:
        """A verified graph input's or output's quantization, read from our IR: TFLM's figures, without TFLM."""
        quant = tensor.quant
        return cls(
            shape=tuple(tensor.shape),
            dtype=np.dtype(NUMPY_DTYPES[tensor.dtype]),
            scale=quant.scale[0] if quant else 0.0,
            zero_point=quant.zero_point[0] if quant else 0,
        )


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


def preflight(tflite_bytes: bytes, arena_size: int) -> None:
    """Load and invoke the model once in a child process; a crash there becomes a ``ModelFormatError``.

    A child that ends with a Python error is let through: the same error comes
    back, cleanly, when the caller loads the model itself. Each model is tried
    once per process.
    """
    key = (hashlib.sha256(tflite_bytes).hexdigest(), arena_size)
    if key in _preflighted:
        return
    try:
        proc = subprocess.run([sys.executable, "-c", _PREFLIGHT_CHILD, str(arena_size)], input=tflite_bytes,
                              capture_output=True, timeout=_PREFLIGHT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ModelFormatError(
            f"the TFLM interpreter did not load and run this model once in {_PREFLIGHT_TIMEOUT} s; "
            "the model is too large or malformed, check it with `tinycompress inspect`"
        ) from None
    if proc.returncode < 0:
        raise ModelFormatError(
            f"the TFLM interpreter crashed on this model ({_signal_name(-proc.returncode)}) although it passed "
            "tinycompress's checks; re-export it with the TFLite converter, and please report the file"
        )
    _preflighted.add(key)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class TflmOracle:
    """One TFLM interpreter over a flatbuffer, with its quantization metadata.

    The model must have exactly one input and one output (what every model
    our pipeline produces has). Construction fails with a
    ``TinyCompressError`` if our verifier rejects the bytes, if TFLM crashes
    on them in the preflight child, or if TFLM cannot load or prepare them.
    """

    def __init__(self, tflite_bytes: bytes, arena_size: int | None = None, what: str = "the model") -> None:
        from tflite_micro.python.tflite_micro import runtime

        from tinycompress.tflite import read_model

        self._bytes = bytes(tflite_bytes)
        read_model(self._bytes, what)
        size = arena_size or max(len(self._bytes) * 10, 1 << 20)
        preflight(self._bytes, size)
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

    def tensors_after(self, x: np.ndarray, tensors: Sequence[int]) -> list[np.ndarray]:
        """Run one sample keeping every intermediate tensor; the raw bytes of ``tensors`` (as int8).

        A second interpreter, built only on demand: preserving all tensors
        costs an arena as large as the sum of the activations.
        """
        from tflite_micro.python.tflite_micro import runtime

        size = max(len(self._bytes) * 10, 1 << 22)
        preflight(self._bytes, size)
        try:
            with _captured_fds():
                interp = runtime.Interpreter.from_bytes(
                    self._bytes, arena_size=size, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
                interp.set_input(np.asarray(x).reshape(self.input.shape), 0)
                interp.invoke()
            return [np.asarray(interp.GetTensor(t, 0)["tensor_data"]).view(np.int8).ravel() for t in tensors]
        except Exception as exc:  # the wheel raises RuntimeError, struct.error, ...
            raise ModelFormatError(
                f"the TFLM interpreter failed to trace this model ({type(exc).__name__}: {exc}); "
                "check that every op is supported by TFLM"
            ) from None

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
