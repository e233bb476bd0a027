"""Flatbuffer bytes -> IR, checking structure as it goes.

Every index and length is checked before use; semantic checks (int8 only,
quantization ranges, graph order) live in :mod:`tinycompress.tflite.verify`.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from tinycompress.errors import ModelFormatError
from tinycompress.tflite import schema as S
from tinycompress.tflite.flatbuf import Buffer, Table
from tinycompress.tflite.ir import Model, Operator, Quantization, Tensor

FILE_IDENTIFIER = b"TFL3"
MAX_ELEMENTS = 1 << 31


def load_bytes(source: bytes | str | os.PathLike[str]) -> tuple[bytes, str]:
    """The model bytes and a name for error messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "the model"
    path = Path(source)
    if not path.is_file():
        raise ModelFormatError(f"model file {path} does not exist; pass the path of a .tflite file")
    return path.read_bytes(), str(path)


def parse(data: bytes, what: str = "the model") -> Model:
    """Decode ``data`` into an unverified-in-meaning but structurally sound IR."""
    if not data:
        raise ModelFormatError(f"{what} is empty; pass an int8 .tflite file")
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        raise ModelFormatError(
            f"{what} is not a TFLite flatbuffer (no 'TFL3' identifier); "
            "convert the model with tf.lite.TFLiteConverter first"
        )
    buf = Buffer(data, what)
    root = buf.root()
    buffers = [b.bytes(S.Buffer.DATA) for b in _checked_buffers(buf, root)]
    codes = [_opcode_name(t) for t in root.tables(S.Model.OPERATOR_CODES)]
    subgraphs = root.tables(S.Model.SUBGRAPHS)
    if len(subgraphs) != 1:
        raise ModelFormatError(
            f"{what} has {len(subgraphs)} subgraphs; only single-subgraph models "
            "(no control flow) are supported"
        )
    graph = subgraphs[0]
    tensors = tuple(
        _tensor(buf, i, t, buffers) for i, t in enumerate(graph.tables(S.SubGraph.TENSORS))
    )
    operators = tuple(
        _operator(buf, i, t, codes) for i, t in enumerate(graph.tables(S.SubGraph.OPERATORS))
    )
    return Model(
        tensors=tensors,
        operators=operators,
        inputs=_ints(graph, S.SubGraph.INPUTS),
        outputs=_ints(graph, S.SubGraph.OUTPUTS),
        sha256=hashlib.sha256(data).hexdigest(),
        description=root.string(S.Model.DESCRIPTION),
    )


def _ints(table: Table, fid: int) -> tuple[int, ...]:
    vec = table.vector(fid, "i")
    return () if vec is None else tuple(int(v) for v in vec)


def _checked_buffers(buf: Buffer, root: Table) -> list[Table]:
    tables = root.tables(S.Model.BUFFERS)
    for i, t in enumerate(tables):
        if t.scalar(S.Buffer.OFFSET, "Q") > 1:
            raise ModelFormatError(
                f"{buf.what} stores buffer {i} outside the flatbuffer (a >2 GB model); "
                "such models do not fit a microcontroller"
            )
    return tables


def _opcode_name(table: Table) -> str:
    code = max(
        table.scalar(S.OperatorCode.DEPRECATED_BUILTIN_CODE, "b"),
        table.scalar(S.OperatorCode.BUILTIN_CODE, "i"),
    )
    if code == S.BUILTIN_OPS.index("CUSTOM"):
        return f"CUSTOM:{table.string(S.OperatorCode.CUSTOM_CODE)}"
    if 0 <= code < len(S.BUILTIN_OPS):
        return S.BUILTIN_OPS[code]
    return f"BUILTIN_{code}"


def _tensor(buf: Buffer, index: int, table: Table, buffers: list[bytes | None]) -> Tensor:
    name = table.string(S.Tensor.NAME) or f"tensor_{index}"
    shape = _ints(table, S.Tensor.SHAPE)
    if any(d < 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise buf.fail(f"tensor {index} ({name}) has an invalid shape {list(shape)}")
    code = table.scalar(S.Tensor.TYPE, "b")
    if not 0 <= code < len(S.TENSOR_TYPES):
        raise buf.fail(f"tensor {index} ({name}) has unknown type code {code}")
    dtype = S.TENSOR_TYPES[code]
    if table.has(S.Tensor.SPARSITY):
        raise ModelFormatError(
            f"tensor {index} ({name}) uses TFLite sparse storage; convert without "
            "sparsity optimizations (tinycompress packs sparse weights itself)"
        )
    buffer_index = table.scalar(S.Tensor.BUFFER, "I")
    if buffer_index >= len(buffers):
        raise buf.fail(
            f"tensor {index} ({name}) refers to buffer {buffer_index} but there are {len(buffers)}"
        )
    data = buffers[buffer_index] or None
    if data is not None:
        if dtype not in S.NUMPY_DTYPES:
            raise ModelFormatError(f"constant tensor {index} ({name}) has unsupported type {dtype}")
        expected = math.prod(shape) * np.dtype(S.NUMPY_DTYPES[dtype]).itemsize
        if len(data) != expected:
            raise buf.fail(
                f"tensor {index} ({name}) of shape {list(shape)} {dtype} has "
                f"{len(data)} data bytes, expected {expected}"
            )
    return Tensor(index, name, shape, dtype, _quantization(table.table(S.Tensor.QUANTIZATION)), data)


def _quantization(table: Table | None) -> Quantization | None:
    if table is None:
        return None
    scale = table.vector(S.Quantization.SCALE, "f")
    zero_point = table.vector(S.Quantization.ZERO_POINT, "q")
    if scale is None or len(scale) == 0:
        return None
    zp = () if zero_point is None else tuple(int(z) for z in zero_point)
    return Quantization(
        scale=tuple(float(s) for s in scale),
        zero_point=zp,
        axis=table.scalar(S.Quantization.QUANTIZED_DIMENSION, "i"),
    )


def _operator(buf: Buffer, index: int, table: Table, codes: list[str]) -> Operator:
    opcode = table.scalar(S.Operator.OPCODE_INDEX, "I")
    if opcode >= len(codes):
        raise buf.fail(f"operator {index} uses opcode {opcode} but there are {len(codes)}")
    return Operator(
        index=index,
        op=codes[opcode],
        inputs=_ints(table, S.Operator.INPUTS),
        outputs=_ints(table, S.Operator.OUTPUTS),
        options=_options(table),
    )


def _options(table: Table) -> dict[str, Any]:
    kind = table.scalar(S.Operator.BUILTIN_OPTIONS_TYPE, "B")
    spec = S.OPTIONS.get(kind)
    if spec is None:
        return {}
    options_table = table.table(S.Operator.BUILTIN_OPTIONS)
    out: dict[str, Any] = {}
    for name, fid, fmt, default in spec[1]:
        if options_table is None:
            out[name] = default
        elif fmt == "v":
            vec = options_table.vector(fid, "i")
            out[name] = None if vec is None else tuple(int(v) for v in vec)
        else:
            out[name] = options_table.scalar(fid, fmt, default)
    return out
