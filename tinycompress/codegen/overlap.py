"""How far below a dying input an op's output may start (the planner's ``gap``).

Reference kernels write each output element once, in increasing address
order, after reading everything that element needs. So writing element ``e``
is safe as long as it lands below the lowest input byte any *later* element
still reads. For each output element we compute the lowest input byte it
reads (``first_read``); the smallest safe distance between the two buffers'
starts is ``max(e + 1 - min(first_read[e+1:]))``.
"""

from __future__ import annotations

import numpy as np

_NONE = np.iinfo(np.int64).max


def gap_from_reads(first_read: np.ndarray, out_itemsize: int = 1, in_itemsize: int = 1) -> int:
    """The gap for an op whose element ``e`` first reads input element ``first_read[e]``."""
    reads = np.asarray(first_read, dtype=np.int64).ravel()
    if reads.size < 2:
        return 0
    later = np.minimum.accumulate(reads[::-1])[::-1][1:]
    ends = (np.arange(reads.size - 1, dtype=np.int64) + 1) * out_itemsize
    valid = later != _NONE
    if not valid.any():
        return 0
    return max(0, int((ends[valid] - later[valid] * in_itemsize).max()))


def elementwise_reads(out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> np.ndarray:
    """Element ``e`` reads the (possibly broadcast) input element at the same position."""
    rank = len(out_shape)
    padded = (1,) * (rank - len(in_shape)) + tuple(in_shape)
    index = np.arange(int(np.prod(padded)), dtype=np.int64).reshape(padded)
    return np.broadcast_to(index, out_shape).ravel()


def window_reads(
    in_shape: tuple[int, int, int, int],
    out_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pad: tuple[int, int],
    channel_of: np.ndarray | None,
) -> np.ndarray:
    """First input element read by each NHWC output element of a windowed op.

    ``channel_of[oc]`` is the input channel output channel ``oc`` starts reading
    (depthwise, pooling); ``None`` means every input channel from 0 (conv).
    """
    n, h, w, c = in_shape
    _, oh, ow, oc = out_shape
    rows = _first_valid(oh, kernel[0], stride[0], dilation[0], pad[0], h)
    cols = _first_valid(ow, kernel[1], stride[1], dilation[1], pad[1], w)
    pixel = (rows[:, None] * w + cols[None, :]) * c
    dead = (rows[:, None] < 0) | (cols[None, :] < 0)
    batch = (np.arange(n, dtype=np.int64) * h * w * c)[:, None, None]
    start = batch + pixel[None, :, :]
    chan = np.zeros(oc, np.int64) if channel_of is None else np.asarray(channel_of, np.int64)
    reads = start[..., None] + chan[None, None, None, :]
    reads[np.broadcast_to(dead[None, :, :, None], reads.shape)] = _NONE
    return reads.ravel()


def _first_valid(out: int, k: int, stride: int, dilation: int, pad: int, size: int) -> np.ndarray:
    """For each output row, the first in-image input row of its window, or -1."""
    result = np.full(out, -1, np.int64)
    base = np.arange(out, dtype=np.int64) * stride - pad
    for t in range(k):
        i = base + t * dilation
        result = np.where((result < 0) & (i >= 0) & (i < size), i, result)
    return result
