"""Packed weight formats of the runtime (see tc_runtime.h): 4-bit palette, sparse bitmap and kept blocks
(int8, or 4-bit palette indices).

Which one a layer gets is the storage objective's choice (``codegen.storage``);
these functions only pack and report the flash each form takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

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


# Block sizes codegen tries for TC_WEIGHTS_BLOCK8 and BLOCK4, largest first: the kernels run a kept
# block as one dense SIMD loop, so a larger block is faster; BLOCK8_SLACK is how many more bytes a
# larger block may take than the smallest packing and still be preferred.
BLOCK8_SIZES = (16, 8, 4)
BLOCK8_SLACK = 1.03


@dataclass(frozen=True)
class Block8:
    """A weight tensor packed for TC_WEIGHTS_BLOCK8 (see tc_runtime.h)."""

    bitmap: bytes  # per row, (row / block + 7) / 8 bytes; bit k (LSB first) set when block k is kept
    values: np.ndarray  # int8 kept blocks in dense order, ``block`` weights each
    channel_start: np.ndarray  # uint32 [channels]: byte offset of each row's first kept block in values
    block: int
    runs: int  # runs of consecutive kept blocks within a row, over all rows (the kernels pay per run)

    @property
    def kept_blocks(self) -> int:
        return int(self.values.size) // self.block

    @property
    def nbytes(self) -> int:
        """Flash the packed form takes: bitmap, kept blocks and row starts (as ``Sparse8.nbytes``)."""
        return len(self.bitmap) + int(self.values.size) + 4 * int(self.channel_start.size)


def pack_block8(weights: np.ndarray, block: int) -> Block8 | None:
    """Pack int8 weights ``[channels, row...]`` in blocks of ``block`` consecutive elements of a row,
    keeping the blocks that hold a nonzero; None when the row is not a multiple of ``block``."""
    w = np.asarray(weights, dtype=np.int8)
    rows = w.reshape(w.shape[0], -1)
    if block < 1 or rows.shape[1] % block:
        return None
    blocks = rows.reshape(rows.shape[0], -1, block)
    kept = blocks.any(axis=2)
    bitmap = np.packbits(kept, axis=1, bitorder="little")  # pads each row to whole bytes
    starts = np.concatenate([[0], np.cumsum(kept.sum(axis=1))[:-1]]) * block
    runs = int(kept[:, 0].sum() + (kept[:, 1:] & ~kept[:, :-1]).sum())
    return Block8(bitmap.tobytes(), blocks[kept].reshape(-1), starts.astype(np.uint32), block, runs)


def best_block8(weights: np.ndarray) -> Block8 | None:
    """The BLOCK8 packing a FULLY_CONNECTED layer's weights ``[units, depth]`` would take: the
    fewest bytes among BLOCK8_SIZES, the largest block within BLOCK8_SLACK of them; None when no
    block size divides the depth or none takes fewer bytes than the dense weights."""
    return _best_block([pack_block8(weights, block) for block in BLOCK8_SIZES], weights.size)


@dataclass(frozen=True)
class Block4:
    """A weight tensor packed for TC_WEIGHTS_BLOCK4 (see tc_runtime.h): Block8's bitmap, kept
    blocks as 4-bit indices into one 16-value palette."""

    bitmap: bytes  # as Block8.bitmap
    indices: bytes  # kept blocks in dense order, ``block / 2`` bytes each, low nibble first
    channel_start: np.ndarray  # uint32 [channels]: byte offset of each row's first kept block in indices
    palette: np.ndarray  # int8 [16], shared by every row; unused entries are 0
    block: int
    runs: int  # as Block8.runs

    @property
    def kept_blocks(self) -> int:
        return 2 * len(self.indices) // self.block

    @property
    def nbytes(self) -> int:
        """Flash the packed form takes: bitmap, indices, row starts and palette (as ``Block8.nbytes``
        and ``Palette4.nbytes``)."""
        return len(self.bitmap) + len(self.indices) + 4 * int(self.channel_start.size) + int(self.palette.size)


def pack_block4(weights: np.ndarray, block: int) -> Block4 | None:
    """Pack int8 weights ``[channels, row...]`` as ``pack_block8`` does, each kept weight as the
    index of its value in one palette; None when the tensor has more than 16 distinct values (it
    is not clustered, or is quantised per channel), ``block`` is odd (a kept block must fill whole
    bytes) or the row is not a multiple of ``block``."""
    w = np.asarray(weights, dtype=np.int8)
    values = np.unique(w)
    if values.size > 16 or block < 2 or block % 2:
        return None
    blocks = pack_block8(w, block)
    if blocks is None:
        return None
    palette = np.zeros(16, np.int8)
    palette[: values.size] = values
    codes = np.searchsorted(values, blocks.values).astype(np.uint8)
    return Block4(blocks.bitmap, _nibbles(codes), blocks.channel_start // 2, palette, block, blocks.runs)


def best_block4(weights: np.ndarray) -> Block4 | None:
    """The BLOCK4 packing of a FULLY_CONNECTED layer's weights ``[units, depth]``, chosen among
    BLOCK8_SIZES as ``best_block8`` chooses; None when the weights take no BLOCK4 packing or none
    takes fewer bytes than the dense weights."""
    return _best_block([pack_block4(weights, block) for block in BLOCK8_SIZES], weights.size)


_Blocks = TypeVar("_Blocks", Block8, Block4)


def _best_block(candidates: list[_Blocks | None], dense_bytes: int) -> _Blocks | None:
    """The fewest-bytes packing of ``candidates`` (largest block first), the largest block within
    BLOCK8_SLACK of it; None when there is none or it is not smaller than ``dense_bytes``."""
    packed = [p for p in candidates if p is not None]
    if not packed:
        return None
    fewest = min(p.nbytes for p in packed)
    best = next(p for p in packed if p.nbytes <= BLOCK8_SLACK * fewest)
    return best if best.nbytes < dense_bytes else None
