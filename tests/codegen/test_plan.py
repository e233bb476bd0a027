"""Arena planner and overlap gaps: checked by brute force, no TensorFlow needed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinycompress.codegen.overlap import elementwise_reads, gap_from_reads, window_reads
from tinycompress.codegen.plan import Buffer, Overlap, plan_arena

pytestmark = pytest.mark.host


def _valid(buffers: list[Buffer], overlaps: list[Overlap], offsets: dict[int, int]) -> bool:
    gaps = {(o.reader, o.writer): o.gap for o in overlaps}
    for a, b in itertools.combinations(buffers, 2):
        if not (a.first <= b.last and b.first <= a.last):
            continue
        oa, ob = offsets[a.id], offsets[b.id]
        if oa + a.size <= ob or ob + b.size <= oa:
            continue
        if (a.id, b.id) in gaps and ob <= oa - gaps[(a.id, b.id)]:
            continue
        if (b.id, a.id) in gaps and oa <= ob - gaps[(b.id, a.id)]:
            continue
        return False
    return True


def test_random_plans_never_collide() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 12))
        buffers = []
        for i in range(n):
            first = int(rng.integers(-1, 8))
            buffers.append(Buffer(i, int(rng.integers(1, 500)), first, first + int(rng.integers(0, 4)),
                                  int(rng.choice([1, 4]))))
        overlaps = [Overlap(a.id, b.id, int(rng.integers(0, 300)))
                    for a, b in itertools.permutations(buffers, 2)
                    if a.last == b.first and rng.random() < 0.5]
        plan = plan_arena(buffers, overlaps, effort=300)
        assert _valid(buffers, overlaps, plan.offsets)
        assert all(plan.offsets[b.id] % b.align == 0 for b in buffers)
        assert plan.arena_bytes >= max(plan.offsets[b.id] + b.size for b in buffers)


def test_elementwise_chain_runs_in_place() -> None:
    buffers = [Buffer(i, 1000, i - 1, i) for i in range(5)]
    overlaps = [Overlap(i, i + 1, 0) for i in range(4)]
    assert plan_arena(buffers, overlaps).arena_bytes == 1008  # 1000 rounded up to 16
    assert plan_arena(buffers, []).arena_bytes == 2000


def test_gap_keeps_the_writer_below_the_reader() -> None:
    buffers = [Buffer(0, 8000, -1, 0), Buffer(1, 8000, 0, 1)]
    plan = plan_arena(buffers, [Overlap(0, 1, 384)])
    assert plan.offsets[1] <= plan.offsets[0] - 384
    assert plan.arena_bytes == 8384


def _depthwise_in_memory(x: np.ndarray, gap: int, k: int, stride: int) -> np.ndarray:
    """Run a raster-order depthwise max filter with the output ``gap`` bytes below the input."""
    h, w, c = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    memory = np.zeros(gap + x.size + oh * ow * c, np.int16)
    memory[gap:gap + x.size] = x.ravel()
    view = memory[gap:gap + x.size].reshape(h, w, c)
    for oy, ox, ch in itertools.product(range(oh), range(ow), range(c)):
        value = view[oy * stride:oy * stride + k, ox * stride:ox * stride + k, ch].max()
        memory[(oy * ow + ox) * c + ch] = value
    return memory[: oh * ow * c].copy()


@pytest.mark.parametrize("k, stride", [(3, 1), (2, 2), (3, 2)])
def test_gap_is_safe_and_tight_for_a_raster_kernel(k: int, stride: int) -> None:
    """The computed gap reproduces the separate-buffer result; a gap one byte smaller can fail."""
    rng = np.random.default_rng(k * 10 + stride)
    h, w, c = 7, 6, 3
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    reads = window_reads((1, h, w, c), (1, oh, ow, c), (k, k), (stride, stride), (1, 1), (0, 0),
                         np.arange(c))
    gap = gap_from_reads(reads)
    expected = None
    broken = False
    for _ in range(20):
        x = rng.integers(-128, 128, (h, w, c))
        expected = _depthwise_in_memory(x, x.size + 64, k, stride)
        assert np.array_equal(_depthwise_in_memory(x, gap, k, stride), expected)
        if gap > 0 and not np.array_equal(_depthwise_in_memory(x, gap - 1, k, stride), expected):
            broken = True
    assert gap == 0 or broken


def test_elementwise_gap_is_zero_and_broadcast_gap_is_not() -> None:
    assert gap_from_reads(elementwise_reads((1, 4, 4, 8), (1, 4, 4, 8))) == 0
    assert gap_from_reads(elementwise_reads((1, 4, 4, 8), (8,))) > 0
