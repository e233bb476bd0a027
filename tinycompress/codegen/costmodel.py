"""Estimated instructions per inference of a generated model, layer by layer, before any build.

Each layer runs one *path* of its board's kernel chain (the 1x1 convolution,
the column convolution, the 3x3 depthwise routine, ...; for the ops without
variants, their kernel), and a path costs a non-negative linear combination
of a few figures of the layer: its MACs, its output elements, the elements
of the columns it builds, its input elements, its rows, and a constant per
call. The coefficients are fitted per kernel chain (``runtime_arch``) by
``benchmarks/calibrate_cost_model.py`` on per-layer instruction counts
measured under QEMU ``-icount`` (``benchmarks/device_latency.py``, ``run``
and ``demo`` reports) and stored in ``cost_model.json`` beside this
module, with the fit's error. The benchmark models carry dense weights, so a
layer whose weights are packed (palette, sparse, kept blocks of int8 or of 4-bit
indices) gets its dense estimate scaled by the packed/dense ratio of the
storage ranking model (:mod:`codegen.storage`) of the same chain.

A path with no calibration data (a kernel none of the measured models ran)
gets no estimate, and then neither does the model: the estimate is never a
partial sum.

Usage::

    cost = load_cost_model("cortex-m-dsp")
    found = estimate(model, generate(model), cost)
    found.instructions, [layer.instructions for layer in found.layers]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress.codegen.emit import GeneratedModel, LayerInfo
from tinycompress.codegen.storage import DEFAULT_ARCH, fc_blocks, fc_packed, storage_options
from tinycompress.codegen.summary import layer_name
from tinycompress.errors import InputError
from tinycompress.tflite.ir import Model

DATA_FILE = Path(__file__).with_name("cost_model.json")

# The figures each path's cost is a combination of ("calls": 1 per layer, the call's fixed cost).
PATH_FEATURES: dict[str, tuple[str, ...]] = {
    "conv_1x1": ("macs", "outputs", "pixels", "calls"),
    "conv": ("macs", "outputs", "columns", "calls"),
    "depthwise_3x3": ("macs", "outputs", "calls"),
    "depthwise": ("macs", "outputs", "calls"),
    "depthwise_per_pixel": ("macs", "outputs", "calls"),
    "fully_connected": ("macs", "outputs", "inputs", "calls"),
    "add": ("outputs", "calls"),
    "avgpool": ("macs", "outputs", "calls"),
    "maxpool": ("macs", "outputs", "calls"),
    "mean": ("inputs", "outputs", "calls"),
    "softmax": ("outputs", "rows", "calls"),
    "concat": ("outputs", "rows", "calls"),  # one copy per input and row
}
ELEMENTWISE_FEATURES = ("outputs", "calls")  # any other kernel (lut, relu, mul, pad, ...): one pass over its elements

_PACKED_KINDS = {"CONV_2D": "conv", "DEPTHWISE_CONV_2D": "depthwise", "FULLY_CONNECTED": "fc"}
_DW_FAST_CHANNELS = (4, 256)  # the 3x3 depthwise routine's channel range (arch/cortex-m-dsp)


@dataclass(frozen=True)
class CostModel:
    """The fitted coefficients of one kernel chain, and where they come from."""

    runtime_arch: str
    board: str  # the emulated board the counts were measured on
    unit: str  # "instructions"
    coefficients: dict[str, dict[str, float]]  # path -> feature -> instructions per unit of it
    fit: dict[str, Any]  # the calibration's error per path and per model, as the script wrote it


@dataclass(frozen=True)
class LayerEstimate:
    """One layer's path, the figures its cost is computed from, and the estimate (None: path not calibrated)."""

    name: str
    op: str
    path: str
    features: dict[str, float]
    storage: str
    instructions: float | None


@dataclass(frozen=True)
class Estimate:
    """A model's estimate: per layer, and the total (None when a layer's path has no calibration)."""

    cost_model: CostModel
    layers: tuple[LayerEstimate, ...]

    @property
    def uncalibrated(self) -> list[str]:
        """The layers without an estimate, named with their path."""
        return [f"{layer.name} ({layer.path})" for layer in self.layers if layer.instructions is None]

    @property
    def instructions(self) -> float | None:
        if self.uncalibrated:
            return None
        return float(sum(layer.instructions or 0.0 for layer in self.layers))

    def to_dict(self) -> dict[str, Any]:
        """The report.json form: what it estimates for, the total, and per layer."""
        total = self.instructions
        return {
            "calibrated_on": self.cost_model.board,
            "runtime_arch": self.cost_model.runtime_arch,
            "unit": self.cost_model.unit,
            "instructions": None if total is None else round(total),
            "layers_without_calibration": self.uncalibrated,
            "layers": [{"name": layer.name, "op": layer.op, "path": layer.path, "storage": layer.storage,
                        "instructions": None if layer.instructions is None else round(layer.instructions)}
                       for layer in self.layers],
        }


def calibrated_arches(path: Path = DATA_FILE) -> list[str]:
    """The kernel chains ``cost_model.json`` holds coefficients for."""
    return sorted(_data(path)["calibrations"])


def load_cost_model(runtime_arch: str = DEFAULT_ARCH, path: Path = DATA_FILE) -> CostModel:
    """The calibration of ``runtime_arch`` from ``cost_model.json``; InputError naming those it holds."""
    calibrations = _data(path)["calibrations"]
    if runtime_arch not in calibrations:
        raise InputError(f"the cost model has no calibration for the {runtime_arch} kernels (it has "
                         f"{', '.join(sorted(calibrations)) or 'none'}); run benchmarks/calibrate_cost_model.py "
                         "on a benchmarks/device_latency.py report of a board with those kernels")
    found = calibrations[runtime_arch]
    return CostModel(runtime_arch, found["board"], found["unit"],
                     {name: dict(entry["coefficients"]) for name, entry in found["paths"].items()}, found["fit"])


def _data(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def layer_path(model: Model, info: LayerInfo) -> tuple[str, dict[str, float]]:
    """The path a layer runs and the figures its cost is computed from (every name of its PATH_FEATURES)."""
    op = model.operators[info.node]
    out = model.tensors[info.output_tensor]
    inputs = model.tensors[op.inputs[0]]
    figures: dict[str, float] = {"macs": float(info.macs), "outputs": float(out.size), "inputs": float(inputs.size),
                                 "rows": float(out.size // out.shape[-1]), "calls": 1.0}
    if info.op == "CONV_2D":
        weights = model.tensors[op.inputs[1]]
        _, kh, kw, cin = weights.shape
        figures.update(pixels=figures["rows"], columns=figures["rows"] * kh * kw * cin)
        return ("conv_1x1" if _runs_1x1(op.options, inputs.shape, out.shape, info.kernel) else "conv"), figures
    if info.op == "DEPTHWISE_CONV_2D":
        # Four channels at a time needs a depth multiplier of 1 and 4+ channels; else one pixel at a time.
        if out.shape[-1] != inputs.shape[-1] or out.shape[-1] < _DW_FAST_CHANNELS[0]:
            return "depthwise_per_pixel", figures
        weights = model.tensors[op.inputs[1]]
        fast = (weights.shape[1:3] == (3, 3) and op.options.get("dilation_h", 1) == 1
                and op.options.get("dilation_w", 1) == 1 and len(op.inputs) > 2 and op.inputs[2] >= 0
                and out.shape[-1] <= _DW_FAST_CHANNELS[1])
        return ("depthwise_3x3" if fast else "depthwise"), figures
    # Any other op: its kernel (LOGISTIC and TANH share tc_lut_s8, PAD and PADV2 tc_pad_s8).
    return info.kernel.removeprefix("tc_").removesuffix("_s8"), figures


def _runs_1x1(options: dict[str, Any], shape_in: tuple[int, ...], shape_out: tuple[int, ...], kernel: str) -> bool:
    """Whether tc_conv_1x1_s8 keeps the layer (it hands strides that skip past the input to tc_conv_s8)."""
    if kernel != "tc_conv_1x1_s8":
        return False
    sh, sw = options.get("stride_h", 1), options.get("stride_w", 1)
    return (shape_out[1] - 1) * sh < shape_in[1] and (shape_out[2] - 1) * sw < shape_in[2]


def path_features(path: str) -> tuple[str, ...]:
    """The figures a path's cost combines (an op without its own entry: one pass over its elements)."""
    return PATH_FEATURES.get(path, ELEMENTWISE_FEATURES)


def packed_ratio(model: Model, info: LayerInfo, runtime_arch: str = DEFAULT_ARCH) -> float | None:
    """Instructions of the layer's packed storage over its dense kernel's, by the storage ranking model
    of the ``runtime_arch`` kernels (None when it has no cost for that storage); 1 for dense weights."""
    if info.storage in ("-", "s8"):
        return 1.0
    weights = model.tensors[model.operators[info.node].inputs[1]]
    dense, fc = weights.array(), info.op == "FULLY_CONNECTED"
    options = storage_options(_PACKED_KINDS[info.op], info.macs, weights.size,
                              {"s8": weights.size, info.storage: weights.size}, scratch=info.scratch_bytes > 0,
                              fc_packed=fc_packed(dense) if fc else None,
                              fc_blocks=fc_blocks(dense) if fc and info.storage == "block8" else None,
                              fc_blocks4=fc_blocks(dense, indices=True) if fc and info.storage == "block4" else None,
                              runtime_arch=runtime_arch)
    cost = {option.storage: option.instructions for option in options}
    if info.storage not in cost or not cost.get("s8"):
        return None
    return cost[info.storage] / cost["s8"]


def estimate_layer(model: Model, info: LayerInfo, cost: CostModel) -> LayerEstimate:
    """One layer's estimate; None when its path (or its packed storage) has no cost."""
    path, figures = layer_path(model, info)
    used = {name: figures[name] for name in path_features(path)}
    coefficients = cost.coefficients.get(path)
    ratio = packed_ratio(model, info, cost.runtime_arch)
    instructions = None
    if coefficients is not None and ratio is not None:
        instructions = ratio * sum(coefficients.get(name, 0.0) * value for name, value in used.items())
    return LayerEstimate(layer_name(info), info.op, path, used, info.storage, instructions)


def estimate(model: Model, generated: GeneratedModel, cost: CostModel) -> Estimate:
    """Every layer of ``generated`` (compiled from ``model``) estimated with ``cost``."""
    return Estimate(cost, tuple(estimate_layer(model, info, cost) for info in generated.layers))
