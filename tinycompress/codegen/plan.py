"""Arena planning: one static buffer, offsets from tensor lifetimes.

Like TFLM's greedy planner, every activation buffer gets an offset so that
buffers alive at the same time never collide. Two additions shrink the arena:

* views (RESHAPE, SQUEEZE, EXPAND_DIMS) share their input's buffer, and
* an op may write its output *over* an input that dies at that op, if the
  output starts at least ``gap`` bytes below that input. The gap comes from
  the kernel's raster write order (see :mod:`tinycompress.codegen.overlap`):
  gap 0 is classic in-place (elementwise ops); a depthwise 3x3 needs about
  one image row, far less than a second copy of the tensor.

Usage::

    plan = plan_arena([Buffer(0, 490, -1, 0), Buffer(1, 8000, 0, 1)], [Overlap(0, 1, 7600)])
    plan.offsets[1], plan.arena_bytes
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Buffer:
    """An arena buffer alive from step ``first`` to step ``last`` (inclusive)."""

    id: int
    size: int
    first: int
    last: int
    align: int = 1


@dataclass(frozen=True)
class Overlap:
    """``writer`` may overlap ``reader`` if offset(writer) <= offset(reader) - gap."""

    reader: int
    writer: int
    gap: int


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[int, int]
    arena_bytes: int


def plan_arena(buffers: Iterable[Buffer], overlaps: Iterable[Overlap] = (),
               effort: int = 40_000) -> ArenaPlan:
    """Place every buffer greedily; search placement orders and keep the smallest arena.

    Greedy placement depends on the order buffers are placed in, and with
    overlaps (chains of outputs sliding below their inputs) no single order
    wins everywhere. Three classic orders seed a deterministic local search
    (swap two buffers, keep the swap if the arena does not grow); ``effort``
    bounds the work to about ``effort / len(buffers)`` placements.
    """
    items = list(buffers)
    if not items:
        return ArenaPlan({}, 0)
    gaps: dict[tuple[int, int], int] = {}
    for o in overlaps:
        key = (o.reader, o.writer)
        gaps[key] = max(gaps.get(key, 0), o.gap)
    orders = [
        sorted(items, key=lambda b: (-b.size, b.first)),
        sorted(items, key=lambda b: (-b.first, -b.size)),
        sorted(items, key=lambda b: (b.first, -b.size)),
    ]
    best_order, best = min(((o, _place(o, gaps)) for o in orders), key=lambda p: p[1].arena_bytes)
    rng = random.Random(0)
    for _ in range(effort // len(items) if len(items) > 1 else 0):
        order = best_order[:]
        i, j = rng.randrange(len(order)), rng.randrange(len(order))
        order[i], order[j] = order[j], order[i]
        plan = _place(order, gaps)
        if plan.arena_bytes <= best.arena_bytes:
            best_order, best = order, plan
    return best


def _live_together(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def _fits(off: int, buf: Buffer, other: Buffer, other_off: int, gaps: dict[tuple[int, int], int]) -> bool:
    if off + buf.size <= other_off or off >= other_off + other.size:
        return True
    if (other.id, buf.id) in gaps:
        return off <= other_off - gaps[(other.id, buf.id)]
    if (buf.id, other.id) in gaps:
        return other_off <= off - gaps[(buf.id, other.id)]
    return False


def _place(order: list[Buffer], gaps: dict[tuple[int, int], int]) -> ArenaPlan:
    offsets: dict[int, int] = {}
    placed: list[Buffer] = []
    for buf in order:
        rivals = [p for p in placed if _live_together(p, buf)]
        candidates = {0}
        for p in rivals:
            candidates.add(_round_up(offsets[p.id] + p.size, buf.align))
            if (p.id, buf.id) in gaps:
                candidates.add(_round_down(offsets[p.id] - gaps[(p.id, buf.id)], buf.align))
            if (buf.id, p.id) in gaps:
                candidates.add(_round_up(offsets[p.id] + gaps[(buf.id, p.id)], buf.align))
        for off in sorted(c for c in candidates if c >= 0):
            if all(_fits(off, buf, p, offsets[p.id], gaps) for p in rivals):
                offsets[buf.id] = off
                break
        placed.append(buf)
    arena = max((offsets[b.id] + b.size for b in placed), default=0)
    return ArenaPlan(offsets=offsets, arena_bytes=_round_up(arena, 16))


def _round_up(x: int, align: int) -> int:
    return -(-x // align) * align


def _round_down(x: int, align: int) -> int:
    return (x // align) * align
