"""Differential verification: generated C on the host vs the TFLM interpreter.

Every output byte of every sample is compared. On a mismatch the model is
rebuilt with per-layer tracing and the first mismatching sample is replayed
through TFLM with all tensors preserved, which names the first layer whose
output differs (the place to look for the bug).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycompress.codegen.build import build_host, temporary_dir
from tinycompress.codegen.emit import GeneratedModel, generate
from tinycompress.errors import DataError
from tinycompress.progress import NullProgress, Progress
from tinycompress.tflite import read_model


@dataclass(frozen=True)
class VerifyResult:
    bit_exact: bool
    samples: int
    mismatched_samples: int
    arena_bytes: int
    weights_bytes: int
    tflm_arena_bytes: int
    macs: int
    max_abs_diff: int
    first_diverging_layer: str | None
    first_diverging_index: int | None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def random_inputs(shape: tuple[int, ...], samples: int, seed: int = 0) -> np.ndarray:
    """Uniform int8 samples over the full range: every code path of every kernel."""
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=(samples, *shape), dtype=np.int16).astype(np.int8)


def verify_tflite(tflite_bytes: bytes, inputs: np.ndarray | None = None, samples: int = 20,
                  seed: int = 0, prefix: str = "tc_model",
                  progress: Progress | None = None) -> VerifyResult:
    """Compile ``tflite_bytes`` to C, run it and TFLM on the same int8 inputs, compare."""
    model = read_model(tflite_bytes)
    generated = generate(model, prefix)
    shape = tuple(model.input.shape)
    xs = random_inputs(shape, samples, seed) if inputs is None else _checked(inputs, shape)
    return verify_generated(tflite_bytes, generated, xs, progress)


def verify_generated(tflite_bytes: bytes, generated: GeneratedModel, xs: np.ndarray,
                     progress: Progress | None = None) -> VerifyResult:
    """Compare an already generated model with TFLM on int8 samples ``xs``."""
    from tinycompress.oracle import TflmOracle

    progress = progress or NullProgress()
    oracle = TflmOracle(tflite_bytes)
    with temporary_dir() as tmp:
        task = progress.task("compiling generated C", None)
        host = build_host(generated, Path(tmp))
        task.close()
        ours = host.run(xs)
        ref = oracle.run_batch(xs, progress).reshape(len(xs), -1)
        diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
        bad = np.flatnonzero(diff.any(axis=1))
        layer = None
        if bad.size:
            layer = first_diverging_layer(tflite_bytes, generated, xs[bad[0]], Path(tmp))
    return VerifyResult(
        bit_exact=bad.size == 0,
        samples=len(xs),
        mismatched_samples=int(bad.size),
        arena_bytes=generated.arena_bytes,
        weights_bytes=generated.weights_bytes,
        tflm_arena_bytes=oracle.arena_bytes(),
        macs=generated.macs,
        max_abs_diff=int(diff.max()) if diff.size else 0,
        first_diverging_layer=None if layer is None else generated.layers[layer].name,
        first_diverging_index=layer,
    )


def _checked(inputs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    xs = np.asarray(inputs)
    if xs.dtype != np.int8:
        raise DataError(f"inputs are {xs.dtype}; quantize them to int8 with the model's input scale")
    per = int(np.prod(shape))
    if xs.size == 0 or xs.size % per:
        raise DataError(f"inputs of shape {list(xs.shape)} do not hold whole samples of {list(shape)}")
    return xs.reshape(-1, *shape)


def first_diverging_layer(tflite_bytes: bytes, generated: GeneratedModel, sample: np.ndarray,
                          workdir: Path) -> int | None:
    """Index of the first layer whose output differs from TFLM's for ``sample``."""
    from tflite_micro.python.tflite_micro import runtime

    traced = build_host(generated, workdir, trace=True).run(sample[None])[0]
    interp = runtime.Interpreter.from_bytes(
        tflite_bytes, arena_size=max(len(tflite_bytes) * 10, 1 << 22),
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    interp.set_input(sample.reshape(interp.get_input_details(0)["shape"]), 0)
    interp.invoke()
    start = 0
    for layer in generated.layers:
        ours = traced[start:start + layer.output_bytes]
        start += layer.output_bytes
        theirs = np.asarray(interp.GetTensor(layer.output_tensor, 0)["tensor_data"]).view(np.int8)
        if not np.array_equal(ours, theirs.ravel()):
            return layer.index
    return None
