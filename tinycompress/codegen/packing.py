"""Packed weight formats of the runtime (see tc_runtime.h): 4-bit palette and sparse bitmap.

Which one a layer gets is the storage objective's choice (``codegen.storage``);
these functions only pack and report the flash each form takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Palette4:
    """A weight tensor packed for TC_WEIGHTS_PALETTE4 (see tc_runtime.h)."""

    palette: np.ndarray  # int8 [channels, 16], or [1, 16] when shared; unused entries are 0
    indices: bytes  # two 4-bit indices per byte, low nibble first

    @property
    def shared(self) -> bool:
        """One palette for every output channel (tc_palette4_t.shared)."""
        return self.palette.shape[0] == 1

    @property
    def nbytes(self) -> int:
        """Flash the packed form takes: palette plus indices."""
        return int(self.palette.size) + len(self.indices)


def pack_palette4(weights: np.ndarray, channel_axis: int) -> Palette4 | None:
    """Pack int8 weights with at most 16 distinct values per output channel.

    Clustered models (tfmot ``cluster_weights`` with <= 16 clusters) satisfy
    this even after per-channel quantisation; dense ones usually do not, and
    then ``None`` is returned so the caller keeps TC_WEIGHTS_S8. When the
    whole tensor has at most 16 values (a clustered Dense quantised per
    tensor, see ``compress.quantize.to_int8``) one palette is shared by every
    channel: 16 bytes instead of 16 per channel, and the fast packed
    FULLY_CONNECTED kernels need it. The element order is the dense layout
    order (row-major ``weights``), and ``channel_axis`` names the
    output-channel dimension (0 for CONV_2D and FULLY_CONNECTED, 3 for
    DEPTHWISE_CONV_2D).
    """
    w = np.asarray(weights, dtype=np.int8)
    values, inverse = np.unique(w, return_inverse=True)
    if values.size <= 16:
        shared = np.zeros((1, 16), np.int8)
        shared[0, : values.size] = values
        return Palette4(shared, _nibbles(inverse.reshape(-1).astype(np.uint8)))
    axis = channel_axis % w.ndim
    moved = np.moveaxis(w, axis, 0)
    rows = moved.reshape(moved.shape[0], -1)
    palette = np.zeros((rows.shape[0], 16), np.int8)
    row_codes = np.empty(rows.shape, np.uint8)
    for c, row in enumerate(rows):
        values, inverse = np.unique(row, return_inverse=True)
        if values.size > 16:
            return None
        palette[c, : values.size] = values
        row_codes[c] = inverse.ravel()
    codes = np.moveaxis(row_codes.reshape(moved.shape), 0, axis).reshape(-1)
    return Palette4(palette, _nibbles(codes))


def _nibbles(codes: np.ndarray) -> bytes:
    """4-bit ``codes`` in dense order, two per byte, low nibble first."""
    if codes.size & 1:
        codes = np.append(codes, np.uint8(0))
    packed = (codes[0::2] | (codes[1::2] << 4)).astype(np.uint8)
    return packed.tobytes()


@dataclass(frozen=True)
class Sparse8:
    """A weight tensor packed for TC_WEIGHTS_SPARSE8 (see tc_runtime.h)."""

    bitmap: bytes  # bit i (LSB first) set when dense element i is nonzero
    values: np.ndarray  # int8 nonzero weights in dense order
    channel_start: np.ndarray  # uint32 [channels]: index of each row's first nonzero

    @property
    def nbytes(self) -> int:
        """Flash the packed form takes: bitmap, values and row starts."""
        return len(self.bitmap) + int(self.values.size) + 4 * int(self.channel_start.size)


def pack_sparse8(weights: np.ndarray) -> Sparse8:
    """Pack pruned int8 weights whose output channel is the leading axis.

    That is the layout of FULLY_CONNECTED ``[out, in]`` and CONV_2D
    ``[out, kh, kw, in]`` weights; the runtime accepts the format for FC and
    1x1 convolutions, where each output channel's weights form one row. The
    caller keeps whichever of dense, palette and sparse is smallest.
    """
    w = np.asarray(weights, dtype=np.int8)
    rows = w.reshape(w.shape[0], -1)
    nonzero = rows != 0
    counts = nonzero.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.uint32)
    bitmap = np.packbits(nonzero.ravel(), bitorder="little").tobytes()
    return Sparse8(bitmap, rows[nonzero].astype(np.int8), starts)
