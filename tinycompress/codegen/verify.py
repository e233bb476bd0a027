"""Differential verification: generated C on the host vs the TFLM interpreter.

Every output byte of every sample is compared. On a mismatch the model is
rebuilt with per-layer tracing and the first mismatching sample is replayed
through TFLM with all tensors preserved, which names the first layer whose
output differs (the place to look for the bug).

Float-I/O models (QUANTIZE float32 -> int8 first, DEQUANTIZE last) get float32
samples, and their float32 outputs are compared byte for byte too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycompress.codegen.build import build_host, temporary_dir
from tinycompress.codegen.emit import GeneratedModel, generate
from tinycompress.codegen.summary import layer_name
from tinycompress.errors import DataError
from tinycompress.oracle import TflmOracle
from tinycompress.progress import NullProgress, Progress
from tinycompress.tflite import read_model
from tinycompress.tflite.ir import Model


@dataclass(frozen=True)
class VerifyResult:
    bit_exact: bool
    samples: int
    mismatched_samples: int
    arena_bytes: int
    weights_bytes: int
    tflm_arena_bytes: int
    macs: int
    max_abs_diff: int | float  # int8 steps, or real values for a float32 output
    first_diverging_layer: str | None
    first_diverging_index: int | None
    first_diverging_tensor: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def random_inputs(shape: tuple[int, ...], samples: int, seed: int = 0) -> np.ndarray:
    """Uniform int8 samples over the full range: every code path of every kernel."""
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=(samples, *shape), dtype=np.int16).astype(np.int8)


def random_float_inputs(shape: tuple[int, ...], samples: int, scale: float, zero_point: int,
                        seed: int = 0) -> np.ndarray:
    """float32 samples for a float-I/O model, over the int8 range its QUANTIZE maps them to.

    They reach a little beyond it (saturation), and a quarter sit on rounding
    ties (half-way between two int8 codes), where float and double division differ.
    """
    rng = np.random.default_rng(seed)
    codes = rng.uniform(-136.0, 136.0, size=(samples, *shape))
    ties = rng.random(codes.shape) < 0.25
    codes[ties] = np.floor(codes[ties]) + 0.5
    return ((codes - zero_point) * np.float32(scale)).astype(np.float32)


def model_inputs(model: Model, samples: int, seed: int = 0) -> np.ndarray:
    """Random samples of the model's input type: int8 codes, or float32 values for a float input."""
    shape = tuple(model.input.shape)
    if model.input.dtype != "float32":
        return random_inputs(shape, samples, seed)
    quantize = next(op for op in model.operators if model.inputs[0] in op.inputs)
    quant = model.tensors[quantize.outputs[0]].quant
    assert quant is not None  # the codegen check requires a quantized int8 QUANTIZE output
    return random_float_inputs(shape, samples, quant.scale[0], quant.zero_point[0], seed)


def verify_tflite(tflite_bytes: bytes, inputs: np.ndarray | None = None, samples: int = 20,
                  seed: int = 0, prefix: str = "tc_model",
                  progress: Progress | None = None) -> VerifyResult:
    """Compile ``tflite_bytes`` to C, run it and TFLM on the same inputs, compare every output byte."""
    model = read_model(tflite_bytes)
    generated = generate(model, prefix)
    shape = tuple(model.input.shape)
    xs = model_inputs(model, samples, seed) if inputs is None else _checked(inputs, shape, model.input.dtype)
    return verify_generated(tflite_bytes, generated, xs, progress)


def verify_generated(tflite_bytes: bytes, generated: GeneratedModel, xs: np.ndarray,
                     progress: Progress | None = None) -> VerifyResult:
    """Compare an already generated model with TFLM on samples ``xs`` of its input type."""
    progress = progress or NullProgress()
    oracle = TflmOracle(tflite_bytes)
    with temporary_dir() as tmp:
        task = progress.task("compiling generated C", None)
        host = build_host(generated, Path(tmp))
        task.close()
        ours = host.run(xs)
        ref = np.ascontiguousarray(oracle.run_batch(xs, progress)).reshape(len(xs), -1)
        bad = np.flatnonzero((ours != ref.view(np.int8)).any(axis=1))
        diff = np.abs(ours.view(ref.dtype).astype(np.float64) - ref.astype(np.float64))
        layer = None
        if bad.size:
            layer = first_diverging_layer(oracle, generated, xs[bad[0]], Path(tmp))
    return VerifyResult(
        bit_exact=bad.size == 0,
        samples=len(xs),
        mismatched_samples=int(bad.size),
        arena_bytes=generated.arena_bytes,
        weights_bytes=generated.weights_bytes,
        tflm_arena_bytes=oracle.arena_bytes(),
        macs=generated.macs,
        max_abs_diff=_max_diff(diff, ref.dtype),
        first_diverging_layer=None if layer is None else layer_name(generated.layers[layer]),
        first_diverging_index=layer,
        first_diverging_tensor=None if layer is None else generated.layers[layer].name,
    )


def _max_diff(diff: np.ndarray, dtype: np.dtype) -> int | float:
    """Largest output difference: int8 steps, or a real value (NaN counts as infinite) for float32."""
    if not diff.size:
        return 0
    if dtype == np.int8:
        return int(diff.max())
    return float(np.nan_to_num(diff, nan=np.inf).max())


def _checked(inputs: np.ndarray, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    xs = np.asarray(inputs)
    if dtype == "float32" and xs.dtype != np.float32:
        raise DataError(f"inputs are {xs.dtype}; this model takes float32 inputs (it quantizes them itself)")
    if dtype != "float32" and xs.dtype != np.int8:
        raise DataError(f"inputs are {xs.dtype}; quantize them to int8 with the model's input scale")
    per = int(np.prod(shape))
    if xs.size == 0 or xs.size % per:
        raise DataError(f"inputs of shape {list(xs.shape)} do not hold whole samples of {list(shape)}")
    return xs.reshape(-1, *shape)


def first_diverging_layer(oracle: TflmOracle, generated: GeneratedModel, sample: np.ndarray,
                          workdir: Path) -> int | None:
    """Index of the first layer whose output differs from TFLM's for ``sample``."""
    traced = build_host(generated, workdir, trace=True).run(sample[None])[0]
    theirs = oracle.tensors_after(sample, [layer.output_tensor for layer in generated.layers])
    start = 0
    for layer, expected in zip(generated.layers, theirs):
        ours = traced[start:start + layer.output_bytes]
        start += layer.output_bytes
        if not np.array_equal(ours, expected):
            return layer.index
    return None
