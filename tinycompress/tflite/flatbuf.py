"""A minimal, bounds-checked FlatBuffers reader.

The generated FlatBuffers Python code trusts its input: a corrupted offset
raises whatever ``struct`` or ``IndexError`` happens to fire, and a corrupted
vector length can make a loop run for billions of steps. This reader checks
every offset and length against the buffer before touching it and raises
``ModelFormatError`` instead, so a mutated file is rejected quickly.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from tinycompress.errors import ModelFormatError

_SCALARS = {
    "b": ("<b", 1),
    "B": ("<B", 1),
    "h": ("<h", 2),
    "H": ("<H", 2),
    "i": ("<i", 4),
    "I": ("<I", 4),
    "q": ("<q", 8),
    "Q": ("<Q", 8),
    "f": ("<f", 4),
    "?": ("<?", 1),
}
_NUMPY = {"b": "<i1", "B": "<u1", "i": "<i4", "I": "<u4", "q": "<i8", "f": "<f4"}


class Buffer:
    """Bytes plus checked primitive reads; ``what`` names the file in errors."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.what = what

    def fail(self, problem: str) -> ModelFormatError:
        return ModelFormatError(
            f"{self.what} is corrupt: {problem}; re-export the model with the TFLite converter"
        )

    def scalar(self, fmt: str, pos: int) -> Any:
        code, size = _SCALARS[fmt]
        if pos < 0 or pos + size > len(self.data):
            raise self.fail(f"read of {size} bytes at offset {pos} is past the end ({len(self.data)} bytes)")
        return struct.unpack_from(code, self.data, pos)[0]

    def deref(self, pos: int) -> int:
        """Follow the uoffset stored at ``pos``."""
        target = pos + self.scalar("I", pos)
        if target >= len(self.data):
            raise self.fail(f"offset at {pos} points to {target}, past the end")
        return target

    def root(self) -> Table:
        if len(self.data) < 8:
            raise self.fail(f"only {len(self.data)} bytes, too short for a flatbuffer")
        return Table(self, self.deref(0))


class Table:
    """One flatbuffer table; fields are addressed by their schema id."""

    def __init__(self, buf: Buffer, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vtable = pos - buf.scalar("i", pos)
        if vtable < 0 or vtable + 4 > len(buf.data):
            raise buf.fail(f"table at {pos} has its vtable out of bounds")
        self._vtable = vtable
        self._vsize = buf.scalar("H", vtable)
        if self._vsize < 4 or self._vsize % 2 or vtable + self._vsize > len(buf.data):
            raise buf.fail(f"table at {pos} has a malformed vtable")

    def _field(self, fid: int) -> int:
        slot = 4 + 2 * fid
        if slot + 2 > self._vsize:
            return 0
        return self.buf.scalar("H", self._vtable + slot)

    def has(self, fid: int) -> bool:
        return self._field(fid) != 0

    def scalar(self, fid: int, fmt: str, default: Any = 0) -> Any:
        off = self._field(fid)
        return default if off == 0 else self.buf.scalar(fmt, self.pos + off)

    def table(self, fid: int) -> Table | None:
        off = self._field(fid)
        return None if off == 0 else Table(self.buf, self.buf.deref(self.pos + off))

    def _vector(self, fid: int, elem_size: int) -> tuple[int, int] | None:
        off = self._field(fid)
        if off == 0:
            return None
        start = self.buf.deref(self.pos + off)
        length = self.buf.scalar("I", start)
        if start + 4 + length * elem_size > len(self.buf.data):
            raise self.buf.fail(f"vector at {start} claims {length} elements, past the end")
        return start + 4, length

    def vector(self, fid: int, fmt: str) -> np.ndarray | None:
        """A numeric vector as a numpy array (copied), or None when absent."""
        size = _SCALARS[fmt][1]
        found = self._vector(fid, size)
        if found is None:
            return None
        start, length = found
        return np.frombuffer(self.buf.data, dtype=_NUMPY[fmt], count=length, offset=start).copy()

    def bytes(self, fid: int) -> bytes | None:
        found = self._vector(fid, 1)
        if found is None:
            return None
        start, length = found
        return self.buf.data[start : start + length]

    def string(self, fid: int) -> str:
        raw = self.bytes(fid)
        return "" if raw is None else raw.decode("utf-8", errors="replace")

    def tables(self, fid: int) -> list[Table]:
        found = self._vector(fid, 4)
        if found is None:
            return []
        start, length = found
        return [Table(self.buf, self.buf.deref(start + 4 * i)) for i in range(length)]
