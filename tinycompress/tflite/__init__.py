"""Read and verify a .tflite flatbuffer into the IR codegen consumes."""

from __future__ import annotations

import os

from tinycompress.tflite import ir
from tinycompress.tflite.reader import load_bytes, parse
from tinycompress.tflite.verify import verify

__all__ = ["ir", "read_model"]


def read_model(source: bytes | str | os.PathLike[str], what: str | None = None) -> ir.Model:
    """Parse and verify a .tflite model (bytes or path); raise ``TinyCompressError`` on any problem.

    ``what`` names the model in messages (by default its path, or "the model").
    """
    data, name = load_bytes(source)
    what = what or name
    return verify(parse(data, what), what)
