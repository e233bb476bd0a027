"""Mutated flatbuffers are rejected with a TinyCompressError, or become C that compiles and runs.

No crash and no hang on any mutant; and an accepted mutant's C is real C: a
deterministic sample of them is built with ``-Wall -Wextra -Werror`` and run.
"""

from __future__ import annotations

import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tinycompress.codegen import generate
from tinycompress.codegen.build import build_host
from tinycompress.codegen.emit import GeneratedModel
from tinycompress.errors import TinyCompressError
from tinycompress.tflite import read_model

pytestmark = [pytest.mark.host, pytest.mark.needs_tools("gcc")]

MUTANTS_PER_KIND = 150
BUILT_MUTANTS = 4  # accepted mutants compiled and run: 1.5 to 3 s each
RUNS = 4  # samples per built mutant


def _mutants(data: bytes, rng: np.random.Generator):
    n = len(data)
    for cut in rng.integers(0, n, MUTANTS_PER_KIND):
        yield "truncate", data[:cut]
    for _ in range(MUTANTS_PER_KIND):
        buf = bytearray(data)
        for pos in rng.integers(0, n, rng.integers(1, 4)):
            buf[pos] ^= 1 << int(rng.integers(0, 8))
        yield "bitflip", bytes(buf)
    for _ in range(MUTANTS_PER_KIND):
        buf = bytearray(data)
        pos = int(rng.integers(0, n // 4)) * 4
        value = int(rng.choice([-1, -2, 0x7FFFFFFF, 0xFFFF, n, n - 4, rng.integers(0, 64)]))
        buf[pos:pos + 4] = struct.pack("<i", value) if value < 0x80000000 else struct.pack("<I", value)
        yield "index", bytes(buf)


@dataclass
class FuzzRun:
    """What the code generator did with every mutant."""

    outcomes: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    total_s: float = 0.0
    accepted: list[tuple[str, GeneratedModel]] = field(default_factory=list)


@pytest.fixture(scope="module")
def small_model() -> bytes:
    import keras_int8

    return keras_int8.convert_int8(keras_int8.small_cnn())


@pytest.fixture(scope="module")
def fuzz_run(small_model: bytes) -> FuzzRun:
    """Every mutant through read_model + generate; anything but a TinyCompressError escapes and errors the tests."""
    run = FuzzRun()
    start = time.process_time()
    for kind, mutant in _mutants(small_model, np.random.default_rng(1234)):
        t0 = time.process_time()
        try:
            generated = generate(read_model(mutant))
        except TinyCompressError as exc:
            run.messages.append(str(exc))
            run.outcomes[f"{kind}:rejected"] += 1
        else:
            run.accepted.append((kind, generated))
            run.outcomes[f"{kind}:accepted"] += 1
        run.slowest = max(run.slowest, (time.process_time() - t0, kind))
    run.total_s = time.process_time() - start
    return run


def test_mutants_never_crash_or_hang(fuzz_run: FuzzRun) -> None:
    """Every mutant compiles to C or raises our one-line error, without hanging.

    The bounds are CPU seconds of this process (not wall time, which other
    work on the machine inflates) and generous: they catch a loop that does
    not end, not a slow planner; benchmarks measure speed.
    """
    assert fuzz_run.outcomes.total() == 3 * MUTANTS_PER_KIND
    assert fuzz_run.outcomes["truncate:rejected"] == MUTANTS_PER_KIND
    assert fuzz_run.outcomes["index:rejected"] > 0 and fuzz_run.outcomes["bitflip:rejected"] > 0
    assert all(message and "\n" not in message for message in fuzz_run.messages)
    assert fuzz_run.slowest[0] < 5.0, f"a {fuzz_run.slowest[1]} mutant took {fuzz_run.slowest[0]:.2f} s of CPU"
    assert fuzz_run.total_s < 120


def test_accepted_mutants_compile_with_werror_and_run(fuzz_run: FuzzRun, small_model: bytes,
                                                      tmp_path: Path) -> None:
    """An accepted mutant's C must be valid C: built with the runtime (gcc -Wall -Wextra -Werror)
    and run on random inputs it exits cleanly, writes the output size and gives the same output twice."""
    original = generate(read_model(small_model)).files["model.c"]
    changed = [(kind, gen) for kind, gen in fuzz_run.accepted if gen.files["model.c"] != original]
    assert {kind for kind, _ in changed} == {"bitflip", "index"}, fuzz_run.outcomes
    sample = changed[::len(changed) // BUILT_MUTANTS][:BUILT_MUTANTS]
    assert len(sample) == BUILT_MUTANTS
    rng = np.random.default_rng(5)
    for number, (kind, generated) in enumerate(sample):
        host = build_host(generated, tmp_path / f"{number}-{kind}")
        dtype = np.dtype(np.float32 if generated.input_dtype == "float32" else np.int8)
        inputs = rng.integers(-128, 128, (RUNS, generated.input_bytes // dtype.itemsize)).astype(dtype)
        outputs = host.run(inputs)
        assert outputs.shape == (RUNS, generated.output_bytes), kind
        assert np.array_equal(outputs, host.run(inputs)), f"{kind} mutant {number}: outputs differ between runs"
