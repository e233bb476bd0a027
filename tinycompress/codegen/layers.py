"""Per-op knowledge: one ``prepare_*`` per op family, mapped to op names by :mod:`ops`.

A ``prepare_*`` validates its node and builds the kernel call in one pass: it
raises ``UnsupportedError`` with the node index, so nothing is generated for a
model we cannot compile, or returns a :class:`Layer` whose params are the
kernel's parameter struct as a dict of C field names (constants precomputed on
the host by ``quantization``, ``fixedpoint`` and ``packing``), with its MACs and
overlap gaps. Views (no kernel) are validated and return ``None``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycompress.codegen import fixedpoint, packing, quantization
from tinycompress.codegen.cgen import Raw
from tinycompress.codegen.overlap import gap_from_reads, window_reads
from tinycompress.codegen.storage import (DEFAULT_ARCH, DEFAULT_OBJECTIVE, block_costs, choose_storage, fc_packed,
                                          storage_options)
from tinycompress.errors import UnsupportedError
from tinycompress.tflite.ir import Model, Operator, Tensor
from tinycompress.tflite.schema import ACTIVATIONS, PADDING

MAX_ACTIVATION = 8 << 20  # elements of one activation tensor (8 MiB of int8, beyond any MCU's RAM)


@dataclass
class Layer:
    """What the emitter needs to print one kernel call.

    ``kernel`` overrides the op table's kernel for this layer (a per-layer
    choice); ``structs`` are constant structs that point at ``arrays`` (e.g. a
    packed weight descriptor), printed after the arrays and before the params.
    """

    params_type: str
    params: dict[str, Any]
    args: list[str]  # "in0", "in1", "out0", "inputs" (pointer array of all inputs)
    arrays: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)  # suffix -> (dtype, values)
    structs: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    kernel: str | None = None
    storage: str = "-"  # how the layer's weights are stored: "s8", "palette4", "sparse8", "block8", "block4" or "-"
    storage_reason: str = ""  # why the storage objective picked it (storage.choose_storage)
    scratch: int = 0  # arena bytes the kernel decodes packed weights into ({scratch}), 0 for none
    macs: int = 0  # multiply-accumulates (or elements touched) per inference, for reports
    gaps: dict[int, int] = field(default_factory=dict)  # input slot -> overlap gap (codegen.overlap)


class Ctx:
    """One node of one model, with helpers shared by every op."""

    def __init__(self, model: Model, op: Operator, optimize: str = DEFAULT_OBJECTIVE,
                 scratch_ok: bool = False, runtime_arch: str = DEFAULT_ARCH) -> None:
        self.model = model
        self.op = op
        self.optimize = optimize  # the weight storage objective (codegen.storage)
        self.runtime_arch = runtime_arch  # the kernel chain the objective ranks storage for
        self.scratch_ok = scratch_ok  # whether a packed conv may decode into an arena scratch

    def fail(self, problem: str) -> UnsupportedError:
        return UnsupportedError(
            f"op {self.op.op} (node {self.op.index}) {problem}; re-convert the model so this "
            "layer uses a supported form, or remove it"
        )

    def need(self, ok: bool, problem: str) -> None:
        if not ok:
            raise self.fail(problem)

    def t(self, slot: int) -> Tensor:
        return self.model.tensors[self.op.inputs[slot]]

    def has(self, slot: int) -> bool:
        return slot < len(self.op.inputs) and self.op.inputs[slot] >= 0

    @property
    def out(self) -> Tensor:
        return self.model.tensors[self.op.outputs[0]]

    def opt(self, name: str) -> Any:
        self.need(name in self.op.options, f"has no {name} option")
        return self.op.options[name]

    def arity(self, low: int, high: int, outputs: int = 1) -> None:
        self.need(low <= len(self.op.inputs) <= high, f"has {len(self.op.inputs)} inputs")
        self.need(len(self.op.outputs) == outputs, f"has {len(self.op.outputs)} outputs")
        self.need(all(self.has(i) for i in range(low)), "misses a required input (index -1)")

    def int8_act(self, tensor: Tensor, what: str) -> None:
        """An int8 activation tensor with per-tensor quantization, rank 1..4."""
        self.need(tensor.dtype == "int8", f"{what} {tensor.name} is {tensor.dtype}, not int8")
        self.need(tensor.quant is not None and not tensor.quant.per_channel,
                  f"{what} {tensor.name} lacks per-tensor quantization")
        self.need(1 <= len(tensor.shape) <= 4 and tensor.size > 0,
                  f"{what} {tensor.name} has shape {list(tensor.shape)} (rank 1..4 supported)")
        self.need(tensor.size <= MAX_ACTIVATION,
                  f"{what} {tensor.name} has {tensor.size} elements, more than any microcontroller's RAM")

    def const(self, slot: int, dtype: str, what: str) -> Tensor:
        tensor = self.t(slot)
        self.need(tensor.is_constant, f"{what} {tensor.name} is not a constant")
        self.need(tensor.dtype == dtype, f"{what} {tensor.name} is {tensor.dtype}, not {dtype}")
        return tensor

    def activation(self) -> tuple[int, int]:
        code = self.op.options.get("activation", 0)
        name = ACTIVATIONS[code] if 0 <= code < len(ACTIVATIONS) else str(code)
        self.need(name in quantization.FUSED_ACTIVATIONS,
                  f"uses fused activation {name} (supported: {', '.join(quantization.FUSED_ACTIVATIONS)})")
        return tuple(int(v) for v in quantization.activation_range(name, scale(self.out), zp(self.out)))


def fields(params: Any) -> dict[str, Any]:
    """quantization's parameter dataclasses use the C struct's field names."""
    return dataclasses.asdict(params)


def scale(t: Tensor) -> float:
    assert t.quant is not None
    return t.quant.scale[0]


def zp(t: Tensor) -> int:
    assert t.quant is not None
    return t.quant.zero_point[0] if t.quant.zero_point else 0


def shape4(shape: tuple[int, ...]) -> dict[str, int]:
    s = (1,) * (4 - len(shape)) + tuple(shape)
    return {"n": s[0], "h": s[1], "w": s[2], "c": s[3]}


def _tuple4(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    s = (1,) * (4 - len(shape)) + tuple(shape)
    return s[0], s[1], s[2], s[3]


# ------------------------------------------------------------ windowed ops

def _window(c: Ctx, kh: int, kw: int, dil: tuple[int, int]) -> dict[str, int]:
    """Strides, dilations and TFLite padding, checked against the output shape."""
    pad_code = c.opt("padding")
    c.need(0 <= pad_code < len(PADDING), f"has unknown padding code {pad_code}")
    sh, sw = c.opt("stride_h"), c.opt("stride_w")
    c.need(sh >= 1 and sw >= 1 and dil[0] >= 1 and dil[1] >= 1, "has a stride or dilation below 1")
    c.need(len(c.t(0).shape) == 4 and len(c.out.shape) == 4, "needs 4-D NHWC input and output")
    _, h, w, _ = c.t(0).shape
    oh, top = quantization.compute_padding(h, kh, sh, dil[0], PADDING[pad_code])
    ow, left = quantization.compute_padding(w, kw, sw, dil[1], PADDING[pad_code])
    c.need(c.out.shape[0] == c.t(0).shape[0] and (oh, ow) == tuple(c.out.shape[1:3]),
           f"output shape {list(c.out.shape)} disagrees with its padding and strides")
    return {"stride_h": sh, "stride_w": sw, "dilation_h": dil[0], "dilation_w": dil[1],
            "pad_top": int(top), "pad_left": int(left)}


def _window_gap(c: Ctx, kernel: tuple[int, int], win: dict[str, int], channel_of: np.ndarray | None) -> int:
    """How far the output may trail the input in the arena (codegen.overlap)."""
    reads = window_reads(_tuple4(c.t(0).shape), _tuple4(c.out.shape), kernel,
                         (win["stride_h"], win["stride_w"]), (win["dilation_h"], win["dilation_w"]),
                         (win["pad_top"], win["pad_left"]), channel_of)
    return gap_from_reads(reads)


def _filter(c: Ctx, slot: int, channels: int, axis: int) -> np.ndarray:
    """The filter's scales, once its quantization is one the kernels take."""
    w = c.const(slot, "int8", "filter")
    q = w.quant
    c.need(q is not None, f"filter {w.name} is not quantized")
    assert q is not None
    c.need(all(z == 0 for z in q.zero_point), f"filter {w.name} has a non-zero zero point")
    c.need(len(q.scale) in (1, channels) and (len(q.scale) == 1 or q.axis == axis),
           f"filter {w.name} has {len(q.scale)} scales for {channels} output channels")
    return np.asarray(q.scale, np.float64)


def _bias(c: Ctx, slot: int, channels: int) -> Tensor | None:
    if not c.has(slot):
        return None
    b = c.const(slot, "int32", "bias")
    c.need(b.size == channels, f"bias {b.name} has {b.size} values for {channels} channels")
    return b


def _requant(c: Ctx, layer: Layer, filter_scales: np.ndarray) -> dict[str, Any]:
    mults, shifts = quantization.conv_requant(scale(c.t(0)), filter_scales, scale(c.out))
    layer.arrays["mult"] = ("int32", np.asarray(mults, np.int64))
    layer.arrays["shift"] = ("int32", np.asarray(shifts, np.int64))
    return {"multiplier": Raw("{mult}"), "shift": Raw("{shift}"), "per_channel": int(len(filter_scales) > 1)}


def _weights(c: Ctx, layer: Layer, w: Tensor, kind: str, channel_axis: int,
             sparse_ok: bool) -> dict[str, Any]:
    """The storage the objective ``c.optimize`` picks among those the kernel accepts: dense
    int8, 4-bit palette indices (clustered weights), bitmap + nonzeros (pruned weights; FC and
    1x1 conv only) or kept blocks, int8 or 4-bit palette indices (block-pruned weights, clustered
    too; FC only, the layers tfmot prunes in blocks); see codegen.storage. A packed conv may get a
    decode scratch in the arena."""
    dense = w.array()
    palette = packing.pack_palette4(dense, channel_axis)
    sparse = packing.pack_sparse8(dense) if sparse_ok and dense.any() else None
    blocks = packing.best_block8(dense) if kind == "fc" and dense.any() else None
    blocks4 = packing.best_block4(dense) if kind == "fc" and dense.any() else None
    sizes = {"s8": dense.size,
             "palette4": palette.nbytes if palette is not None else None,
             "sparse8": sparse.nbytes if sparse is not None else None,
             "block8": blocks.nbytes if blocks is not None else None,
             "block4": blocks4.nbytes if blocks4 is not None else None}
    macs = c.out.size * (dense.size // dense.shape[channel_axis])
    options = storage_options(kind, macs, dense.size, sizes, scratch=c.scratch_ok,
                              fc_packed=fc_packed(dense) if kind == "fc" else None,
                              fc_blocks=None if blocks is None else block_costs(blocks, dense.shape[-1]),
                              fc_blocks4=None if blocks4 is None else block_costs(blocks4, dense.shape[-1]),
                              runtime_arch=c.runtime_arch)
    choice = choose_storage(options, c.optimize, c.runtime_arch)
    layer.storage, layer.storage_reason, layer.scratch = choice.storage, choice.reason, choice.scratch_bytes
    scratch = {"scratch": Raw("{scratch}")} if choice.scratch_bytes else {}
    if layer.storage == "palette4" and palette is not None:
        layer.arrays["pal"] = ("int8", palette.palette.ravel())
        layer.arrays["idx"] = ("uint8", np.frombuffer(palette.indices, np.uint8))
        layer.structs["w"] = ("tc_palette4_t", {"palette": Raw("{pal}"), "indices": Raw("{idx}"),
                                                "shared": int(palette.shared)})
        return {"format": Raw("TC_WEIGHTS_PALETTE4"), "data": Raw("&{w}"), "bytes": len(palette.indices),
                **scratch}
    if layer.storage == "sparse8" and sparse is not None:
        layer.arrays["bm"] = ("uint8", np.frombuffer(sparse.bitmap, np.uint8))
        layer.arrays["nz"] = ("int8", sparse.values)
        layer.arrays["rs"] = ("uint32", sparse.channel_start)
        layer.structs["w"] = ("tc_sparse8_t", {"bitmap": Raw("{bm}"), "values": Raw("{nz}"),
                                               "channel_start": Raw("{rs}")})
        return {"format": Raw("TC_WEIGHTS_SPARSE8"), "data": Raw("&{w}"), "bytes": len(sparse.bitmap),
                **scratch}
    if layer.storage == "block8" and blocks is not None:
        layer.arrays["bm"] = ("uint8", np.frombuffer(blocks.bitmap, np.uint8))
        layer.arrays["kb"] = ("int8", blocks.values)
        layer.arrays["rs"] = ("uint32", blocks.channel_start)
        layer.structs["w"] = ("tc_block8_t", {"bitmap": Raw("{bm}"), "values": Raw("{kb}"),
                                              "channel_start": Raw("{rs}"), "block": blocks.block})
        return {"format": Raw("TC_WEIGHTS_BLOCK8"), "data": Raw("&{w}"), "bytes": len(blocks.bitmap)}
    if layer.storage == "block4" and blocks4 is not None:
        layer.arrays["bm"] = ("uint8", np.frombuffer(blocks4.bitmap, np.uint8))
        layer.arrays["idx"] = ("uint8", np.frombuffer(blocks4.indices, np.uint8))
        layer.arrays["rs"] = ("uint32", blocks4.channel_start)
        layer.arrays["pal"] = ("int8", blocks4.palette)
        layer.structs["w"] = ("tc_block4_t", {"bitmap": Raw("{bm}"), "indices": Raw("{idx}"),
                                              "channel_start": Raw("{rs}"), "palette": Raw("{pal}"),
                                              "block": blocks4.block})
        return {"format": Raw("TC_WEIGHTS_BLOCK4"), "data": Raw("&{w}"), "bytes": len(blocks4.bitmap)}
    layer.arrays["w"] = ("int8", dense)
    return {"format": Raw("TC_WEIGHTS_S8"), "data": Raw("{w}"), "bytes": w.size}


def _bias_field(layer: Layer, b: Tensor | None) -> Raw:
    if b is None:
        return Raw("NULL")
    layer.arrays["b"] = ("int32", b.array())
    return Raw("{b}")


def prepare_conv(c: Ctx) -> Layer:
    c.arity(2, 3)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    w = c.const(1, "int8", "filter")
    c.need(len(w.shape) == 4 and len(c.t(0).shape) == 4, "needs a 4-D input and OHWI filter")
    c.need(w.shape[3] == c.t(0).shape[3], "is a grouped convolution (filter depth != input depth)")
    c.need(c.out.shape[-1] == w.shape[0], "output depth differs from the filter count")
    scales = _filter(c, 1, w.shape[0], 0)
    bias = _bias(c, 2, w.shape[0])
    kernel = (w.shape[1], w.shape[2])
    win = _window(c, *kernel, (c.opt("dilation_h"), c.opt("dilation_w")))
    act_min, act_max = c.activation()
    layer = Layer("tc_conv_params_t", {}, ["in0", "out0"],
                  macs=c.out.size * w.shape[1] * w.shape[2] * w.shape[3],
                  gaps={0: _window_gap(c, kernel, win, None)})
    layer.params.update({
        "input": shape4(c.t(0).shape), "output": shape4(c.out.shape),
        "kernel_h": w.shape[1], "kernel_w": w.shape[2], **win,
        "input_zero_point": zp(c.t(0)), "output_zero_point": zp(c.out),
        "act_min": act_min, "act_max": act_max,
        "weights": _weights(c, layer, w, "conv", 0, w.shape[1] == w.shape[2] == 1),
        "bias": _bias_field(layer, bias),
        "requant": _requant(c, layer, scales),
    })
    if w.shape[1] == w.shape[2] == 1 and win["pad_top"] == win["pad_left"] == 0:
        # Pointwise: a matrix product per pixel, same parameters, results and write order.
        layer.kernel = "tc_conv_1x1_s8"
    return layer


def prepare_depthwise(c: Ctx) -> Layer:
    c.arity(2, 3)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    w = c.const(1, "int8", "filter")
    c.need(len(w.shape) == 4 and w.shape[0] == 1 and len(c.t(0).shape) == 4,
           "needs a 4-D input and a [1, kh, kw, channels] filter")
    cin, cout = c.t(0).shape[3], c.out.shape[-1]
    c.need(cout == w.shape[3] and cin > 0 and cout % cin == 0,
           f"has {cout} output channels for {cin} input channels")
    mult = c.op.options.get("depth_multiplier", 0)
    c.need(mult in (0, cout // cin), f"depth_multiplier {mult} disagrees with the shapes")
    scales = _filter(c, 1, cout, 3)
    bias = _bias(c, 2, cout)
    kernel = (w.shape[1], w.shape[2])
    win = _window(c, *kernel, (c.opt("dilation_h"), c.opt("dilation_w")))
    act_min, act_max = c.activation()
    layer = Layer("tc_depthwise_conv_params_t", {}, ["in0", "out0"],
                  macs=c.out.size * w.shape[1] * w.shape[2],
                  gaps={0: _window_gap(c, kernel, win, np.arange(cout) // (cout // cin))})
    layer.params.update({
        "input": shape4(c.t(0).shape), "output": shape4(c.out.shape),
        "kernel_h": w.shape[1], "kernel_w": w.shape[2], **win,
        "depth_multiplier": cout // cin,
        "input_zero_point": zp(c.t(0)), "output_zero_point": zp(c.out),
        "act_min": act_min, "act_max": act_max,
        "weights": _weights(c, layer, w, "depthwise", 3, False), "bias": _bias_field(layer, bias),
        "requant": _requant(c, layer, scales),
    })
    return layer


def prepare_fully_connected(c: Ctx) -> Layer:
    c.arity(2, 3)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    w = c.const(1, "int8", "weights")
    c.need(len(w.shape) == 2 and w.shape[1] > 0, "needs 2-D [units, depth] weights")
    c.need(c.op.options.get("weights_format", 0) == 0, "uses shuffled weights")
    units, depth = w.shape
    c.need(c.t(0).size % depth == 0, f"input of {c.t(0).size} values is not a multiple of {depth}")
    c.need(c.out.size == c.t(0).size // depth * units, "output size disagrees with the weights")
    scales = _filter(c, 1, units, 0)
    bias = _bias(c, 2, units)
    act_min, act_max = c.activation()
    layer = Layer("tc_fully_connected_params_t", {}, ["in0", "out0"], macs=c.out.size * depth)
    layer.params.update({
        "batches": c.t(0).size // depth, "input_depth": depth, "output_depth": units,
        "input_zero_point": zp(c.t(0)), "weights_zero_point": 0, "output_zero_point": zp(c.out),
        "act_min": act_min, "act_max": act_max,
        "weights": _weights(c, layer, w, "fc", 0, True), "bias": _bias_field(layer, bias),
        "requant": _requant(c, layer, scales),
    })
    return layer


def prepare_pool(c: Ctx) -> Layer:
    c.arity(1, 1)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    c.need(len(c.t(0).shape) == 4 and c.out.shape[-1] == c.t(0).shape[-1], "needs 4-D NHWC tensors")
    c.need(scale(c.t(0)) == scale(c.out) and zp(c.t(0)) == zp(c.out),
           "has different input and output quantization")
    fh, fw = c.opt("filter_h"), c.opt("filter_w")
    c.need(fh >= 1 and fw >= 1, "has a filter size below 1")
    win = _window(c, fh, fw, (1, 1))
    act_min, act_max = c.activation()
    return Layer("tc_pool_params_t", {
        "input": shape4(c.t(0).shape), "output": shape4(c.out.shape),
        "filter_h": fh, "filter_w": fw, "stride_h": win["stride_h"], "stride_w": win["stride_w"],
        "pad_top": win["pad_top"], "pad_left": win["pad_left"],
        "act_min": act_min, "act_max": act_max,
    }, ["in0", "out0"], macs=c.out.size * fh * fw,
        gaps={0: _window_gap(c, (fh, fw), win, np.arange(c.t(0).shape[3]))})


# ---------------------------------------------------------- elementwise ops

def _broadcastable(c: Ctx) -> None:
    a, b, out = c.t(0).shape, c.t(1).shape, c.out.shape
    c.need(len(out) <= 4 and len(a) <= 4 and len(b) <= 4, "broadcasts beyond 4-D")
    try:
        full = np.broadcast_shapes(a, b)
    except ValueError:
        raise c.fail(f"cannot broadcast {list(a)} with {list(b)}") from None
    c.need(tuple(full) == tuple(out), f"output shape {list(out)} is not the broadcast shape")


def _binary(c: Ctx, params_type: str, q: Any) -> Layer:
    """ADD and MUL: 4-D broadcasting; in place only over an input of the output's shape
    (the kernel's promise). ``q`` computes the quantization fields from the scales."""
    c.arity(2, 2)
    for slot in (0, 1):
        c.int8_act(c.t(slot), f"input {slot}")
    c.int8_act(c.out, "output")
    _broadcastable(c)
    a, b = c.t(0), c.t(1)
    act_min, act_max = c.activation()
    fields_ = fields(q(scale(a), zp(a), scale(b), zp(b), scale(c.out), zp(c.out)))
    return Layer(params_type, {
        "input1": shape4(a.shape), "input2": shape4(b.shape), "output": shape4(c.out.shape),
        **fields_, "act_min": act_min, "act_max": act_max,
    }, ["in0", "in1", "out0"], macs=c.out.size,
        gaps={s: 0 for s in (0, 1) if tuple(c.t(s).shape) == tuple(c.out.shape)})


def prepare_add(c: Ctx) -> Layer:
    return _binary(c, "tc_add_params_t", quantization.add_params)


def prepare_mul(c: Ctx) -> Layer:
    return _binary(c, "tc_mul_params_t", quantization.mul_params)


def _unary(c: Ctx) -> None:
    """One int8 input, one int8 output of as many elements."""
    c.arity(1, 1)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    c.need(c.t(0).size == c.out.size, "changes the number of elements")


def _in_place(c: Ctx, params_type: str, params: dict[str, Any]) -> Layer:
    """An elementwise kernel that may write over its input."""
    return Layer(params_type, params, ["in0", "out0"], macs=c.out.size, gaps={0: 0})


def prepare_softmax(c: Ctx) -> Layer:
    _unary(c)
    c.need(c.t(0).shape[-1] > 0, "has an empty last dimension")
    c.need(abs(scale(c.out) - 1 / 256) < 1e-9 and zp(c.out) == -128,
           "output is not quantized with scale 1/256 and zero point -128")
    depth = c.t(0).shape[-1]
    q = fields(quantization.softmax_params(c.op.options.get("beta", 1.0), scale(c.t(0))))
    return _in_place(c, "tc_softmax_params_t", {"rows": c.t(0).size // depth, "depth": depth, **q})


def _lut(c: Ctx, table: np.ndarray) -> Layer:
    """An int8 -> int8 function tabulated on the host: one lookup per element on the device."""
    layer = _in_place(c, "tc_lut_params_t", {"size": c.out.size, "table": Raw("{table}")})
    layer.arrays["table"] = ("int8", np.asarray(table))
    return layer


def prepare_logistic(c: Ctx) -> Layer:
    _unary(c)
    c.need(abs(scale(c.out) - 1 / 256) < 1e-9 and zp(c.out) == -128,
           "output is not quantized with scale 1/256 and zero point -128")
    return _lut(c, fixedpoint.logistic_table(scale(c.t(0)), zp(c.t(0))))


def prepare_tanh(c: Ctx) -> Layer:
    _unary(c)
    c.need(abs(scale(c.out) - 1 / 128) < 1e-9 and zp(c.out) == 0,
           "output is not quantized with scale 1/128 and zero point 0")
    return _lut(c, fixedpoint.tanh_table(scale(c.t(0)), zp(c.t(0))))


def prepare_relu(c: Ctx) -> Layer:
    _unary(c)
    q = fields(quantization.relu_params(scale(c.t(0)), zp(c.t(0)), scale(c.out), zp(c.out), c.out.size))
    return _in_place(c, "tc_relu_params_t", q)


def prepare_relu6(c: Ctx) -> Layer:
    _unary(c)
    q = fields(quantization.relu6_params(scale(c.t(0)), zp(c.t(0)), c.out.size))
    return _in_place(c, "tc_relu6_params_t", q)


def _float_act(c: Ctx, tensor: Tensor, what: str) -> None:
    """A float32 tensor at a float-I/O model's edge (QUANTIZE's input or DEQUANTIZE's output)."""
    c.need(tensor.dtype == "float32", f"{what} {tensor.name} is {tensor.dtype}, not float32")
    c.need(1 <= len(tensor.shape) <= 4 and tensor.size > 0,
           f"{what} {tensor.name} has shape {list(tensor.shape)} (rank 1..4 supported)")
    c.need(tensor.size <= MAX_ACTIVATION // 4,
           f"{what} {tensor.name} has {tensor.size} elements, more than any microcontroller's RAM")


def prepare_quantize(c: Ctx) -> Layer:
    """int8 -> int8 requantization (in place), or float32 -> int8 on a float-I/O model's
    input (reads 4 bytes per byte written: never in place)."""
    c.arity(1, 1)
    if c.t(0).dtype != "float32":
        _unary(c)
        q = fields(quantization.requantize_params(scale(c.t(0)), zp(c.t(0)), scale(c.out), zp(c.out),
                                                  c.out.size))
        return _in_place(c, "tc_requantize_params_t", q)
    _float_act(c, c.t(0), "input")
    c.int8_act(c.out, "output")
    c.need(c.t(0).size == c.out.size, "changes the number of elements")
    return Layer("tc_quantize_f32_params_t", {
        "size": c.out.size, "scale": float(np.float32(scale(c.out))), "zero_point": zp(c.out),
    }, ["in0", "out0"], kernel="tc_quantize_f32_s8", macs=c.out.size)


def prepare_dequantize(c: Ctx) -> Layer:
    """int8 -> float32 on a float-I/O model's output."""
    c.arity(1, 1)
    c.int8_act(c.t(0), "input")
    _float_act(c, c.out, "output")
    c.need(c.t(0).size == c.out.size, "changes the number of elements")
    return Layer("tc_dequantize_params_t", {
        "size": c.out.size, "scale": float(np.float32(scale(c.t(0)))), "zero_point": zp(c.t(0)),
    }, ["in0", "out0"], macs=c.out.size)


# ------------------------------------------------------------- shape ops

def prepare_view(c: Ctx) -> None:
    """RESHAPE, SQUEEZE, EXPAND_DIMS: no kernel, the output shares the input's bytes."""
    c.need(len(c.op.inputs) >= 1 and c.has(0) and len(c.op.outputs) == 1, "has a malformed signature")
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    c.need(c.t(0).size == c.out.size, "changes the number of elements")
    c.need(scale(c.t(0)) == scale(c.out) and zp(c.t(0)) == zp(c.out), "changes the quantization")
    c.need(not c.t(0).is_constant, "reshapes a constant")


def prepare_pad(c: Ctx) -> Layer:
    c.arity(2, 3)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    pads = c.const(1, "int32", "paddings")
    rank = len(c.t(0).shape)
    c.need(pads.shape == (rank, 2) and (pads.array() >= 0).all(), "has malformed paddings")
    expect = tuple(int(d + p.sum()) for d, p in zip(c.t(0).shape, pads.array()))
    c.need(expect == tuple(c.out.shape), "output shape disagrees with the paddings")
    c.need(scale(c.t(0)) == scale(c.out) and zp(c.t(0)) == zp(c.out), "changes the quantization")
    value = zp(c.out)
    if c.has(2):
        constant = c.const(2, "int8", "constant value")
        c.need(constant.size == 1, "has a non-scalar constant value")
        value = int(constant.array().ravel()[0])
    before = tuple(int(p[0]) for p in pads.array())
    return Layer("tc_pad_params_t", {
        "input": shape4(c.t(0).shape), "output": shape4(c.out.shape),
        "before": _pad_before(before),
        "pad_value": value,
    }, ["in0", "out0"])


def _pad_before(before: tuple[int, ...]) -> dict[str, int]:
    """Leading pads as a tc_shape_t; missing leading dims get no padding."""
    s = (0,) * (4 - len(before)) + before
    return {"n": s[0], "h": s[1], "w": s[2], "c": s[3]}


def prepare_mean(c: Ctx) -> Layer:
    c.arity(2, 2)
    c.int8_act(c.t(0), "input")
    c.int8_act(c.out, "output")
    axes = c.const(1, "int32", "axes").array().ravel()
    rank = len(c.t(0).shape)
    c.need(axes.size > 0 and all(-rank <= a < rank for a in axes), f"has axes {axes.tolist()}")
    kept = [d for i, d in enumerate(c.t(0).shape) if i not in {int(a) % rank for a in axes}]
    c.need(math.prod(kept) == c.out.size, "output size disagrees with the reduced axes")
    mask = quantization.axis_mask(axes.tolist(), rank)
    q = fields(quantization.mean_params(scale(c.t(0)), zp(c.t(0)), scale(c.out), zp(c.out)))
    return Layer("tc_mean_params_t", {"input": shape4(c.t(0).shape), "axis_mask": mask, **q},
                 ["in0", "out0"], macs=c.t(0).size)


MAX_CONCAT_INPUTS = 10  # TFLM's kMaxInputNum; tc_runtime.h's TC_CONCAT_MAX_INPUTS


def prepare_concat(c: Ctx) -> Layer:
    """What TFLM's Prepare accepts for int8 (it then copies bytes): at most 10 inputs, no fused
    activation, every input quantized exactly like the output (same float32 scale and zero point)."""
    n = len(c.op.inputs)
    c.need(1 <= n <= MAX_CONCAT_INPUTS and all(c.has(i) for i in range(n)) and len(c.op.outputs) == 1,
           f"has {n} inputs (TFLM concatenates 1..{MAX_CONCAT_INPUTS}); split it into concatenations "
           f"of at most {MAX_CONCAT_INPUTS} inputs")
    for i in range(n):
        c.int8_act(c.t(i), f"input {i}")
    c.int8_act(c.out, "output")
    rank = len(c.out.shape)
    axis = c.op.options.get("axis", 0)
    c.need(-rank <= axis < rank, f"has axis {axis} for rank {rank}")
    axis %= rank
    for i in range(n):
        s = c.t(i).shape
        c.need(len(s) == rank and all(s[d] == c.out.shape[d] for d in range(rank) if d != axis),
               f"input {i} shape {list(s)} does not match the output {list(c.out.shape)}")
    c.need(sum(c.t(i).shape[axis] for i in range(n)) == c.out.shape[axis], "sizes do not add up")
    c.need(c.op.options.get("activation", 0) == 0, "has a fused activation (TFLM refuses it)")
    for i in range(n):
        t = c.t(i)
        if np.float32(scale(t)) != np.float32(scale(c.out)) or zp(t) != zp(c.out):
            raise UnsupportedError(
                f"op CONCATENATION (node {c.op.index}) input {i} ({t.name}) is quantized with scale "
                f"{scale(t):.9g}, zero point {zp(t)} but the output with scale {scale(c.out):.9g}, zero "
                f"point {zp(c.out)}; TFLM concatenates int8 only without rescaling and refuses this; "
                "convert the model again with the TFLite converter, which gives a concatenation's inputs "
                "the output's quantization")
    layer = Layer("tc_concat_params_t", {}, ["inputs", "out0"])
    layer.arrays["copy"] = ("int32", np.array([math.prod(c.t(i).shape[axis:]) for i in range(n)]))
    layer.params.update({
        "num_inputs": n, "outer_size": math.prod(c.out.shape[:axis]), "copy_size": Raw("{copy}"),
    })
    return layer
