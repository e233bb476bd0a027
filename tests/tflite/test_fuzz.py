"""Mutated flatbuffers must be rejected with a TinyCompressError, never a crash or hang."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from tinycompress.codegen import generate
from tinycompress.errors import TinyCompressError
from tinycompress.tflite import read_model

MUTANTS_PER_KIND = 150


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


@pytest.fixture(scope="module")
def small_model() -> bytes:
    import keras_int8

    return keras_int8.convert_int8(keras_int8.small_cnn())


def test_mutants_never_crash_or_hang(small_model: bytes) -> None:
    """Every mutant compiles to C or raises our one-line error, quickly: no crash, no hang."""
    rng = np.random.default_rng(1234)
    outcomes: dict[str, int] = {}
    start = time.monotonic()
    for kind, mutant in _mutants(small_model, rng):
        t0 = time.monotonic()
        try:
            generated = generate(read_model(mutant))
        except TinyCompressError as exc:
            assert str(exc) and "\n" not in str(exc)
            outcomes[f"{kind}:rejected"] = outcomes.get(f"{kind}:rejected", 0) + 1
        else:
            assert generated.arena_bytes > 0 and "model.c" in generated.files
            outcomes[f"{kind}:accepted"] = outcomes.get(f"{kind}:accepted", 0) + 1
        assert time.monotonic() - t0 < 1.0, f"{kind} mutant took too long"
    assert sum(outcomes.values()) == 3 * MUTANTS_PER_KIND
    assert outcomes.get("truncate:rejected", 0) == MUTANTS_PER_KIND
    assert outcomes.get("index:rejected", 0) > 0 and outcomes.get("bitflip:rejected", 0) > 0
    assert time.monotonic() - start < 30
