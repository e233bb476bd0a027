"""What a compression run produced, as plain data for report.json and the CLI table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycompress.compress.evaluate import Int8Evaluation, Int8Weights


@dataclass(frozen=True)
class LayerReport:
    """One Keras layer with weights.

    ``sparsity`` is measured on the stripped float kernel (what pruning
    made); ``int8_sparsity`` (over ``int8_size`` weights) and
    ``max_unique_per_channel`` on the int8 weights in the .tflite (after
    batch-norm folding and quantization), ``None`` when the converter
    folded the layer away (BatchNormalization).
    """

    name: str
    type: str
    params: int
    pruned: bool
    clustered: bool
    pruned_weights: list[str]
    clustered_weights: list[str]
    sparsity: float | None
    int8_sparsity: float | None
    int8_size: int
    max_unique_per_channel: int | None
    int8_ops: list[int]


@dataclass
class CompressReport:
    model: str
    source_format: str
    bridged: bool
    data: str
    samples: dict[str, int]
    accuracy: dict[str, float | None]
    size_bytes: dict[str, int]
    arena_bytes: int
    quantization: dict[str, Any]
    prune_schedule: dict[str, int] | None
    layers: list[LayerReport]
    int8_weights: list[Int8Weights]
    timing_s: dict[str, float]
    recipe: dict[str, Any]
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The int8 op a weight of a two-op layer ends up in (SeparableConv becomes
# DEPTHWISE_CONV_2D + CONV_2D); a plain ``kernel`` is the layer's only op.
_OP_OF_WEIGHT = {"depthwise_kernel": "DEPTHWISE_CONV_2D", "pointwise_kernel": "CONV_2D"}


def kernel_sparsity(layer: Any, names: list[str] | None = None) -> float | None:
    """Fraction of exact zeros over a layer's kernels, or over the named weights only."""
    kernels = [
        w.numpy() for w in layer.weights
        if (_short(w.name) in names if names else "kernel" in _short(w.name))
    ]
    if not kernels:
        return None
    total = sum(k.size for k in kernels)
    return float(sum(int(np.count_nonzero(k == 0)) for k in kernels) / total)


def _short(name: str) -> str:
    return name.split("/")[-1].split(":")[0]


def _ops_of(names: list[str], tensors: list[Int8Weights]) -> list[Int8Weights]:
    """The int8 tensors holding the named weights (all of them for no names)."""
    ops = {_OP_OF_WEIGHT.get(name) for name in names}
    if not names or None in ops:
        return tensors
    return [t for t in tensors if t.op in ops]


def layer_reports(model: Any, pruned: dict[str, list[str]], clustered: dict[str, list[str]],
                  weights: list[Int8Weights]) -> list[LayerReport]:
    """Join Keras layers with their int8 weight tensors (matched by the converter's names).

    For a pruned layer the sparsities cover the weights tfmot pruned; for a
    clustered layer the unique count covers the weights tfmot clustered
    (SeparableConv: only the pointwise half of each).
    """
    reports = []
    for layer in model.layers:
        params = int(layer.count_params())
        if params == 0:
            continue
        sparsity = kernel_sparsity(layer, pruned.get(layer.name))
        # Only kernels own int8 weight tensors; a folded BatchNormalization's
        # name can appear in its conv's tensor name but owns nothing there.
        mine = [w for w in weights if w.belongs_to(layer.name)] if sparsity is not None else []
        zeros_in = _ops_of(pruned.get(layer.name, []), mine)
        values_in = _ops_of(clustered.get(layer.name, []), mine)
        size = sum(w.size for w in zeros_in)
        reports.append(LayerReport(
            name=layer.name,
            type=type(layer).__name__,
            params=params,
            pruned=layer.name in pruned,
            clustered=layer.name in clustered,
            pruned_weights=pruned.get(layer.name, []),
            clustered_weights=clustered.get(layer.name, []),
            sparsity=sparsity,
            int8_sparsity=(sum(w.sparsity * w.size for w in zeros_in) / size) if size else None,
            int8_size=size,
            max_unique_per_channel=max(w.max_unique_per_channel for w in values_in) if values_in else None,
            int8_ops=[w.op_index for w in mine],
        ))
    return reports


def checks(layers: list[LayerReport], target_sparsity: float, clusters: int) -> dict[str, bool]:
    """The stage's promises, verified on the int8 weights.

    ``sparsity_reached``: every pruned layer's pruned weights hold at least
    the target fraction of zeros (one weight of rounding allowed).
    ``clusters_kept``: every clustered layer's clustered weights hold at
    most ``clusters`` int8 values per output channel. Both are vacuously
    true when the stage is disabled.
    """
    return {
        "sparsity_reached": all(
            layer.int8_sparsity is not None and layer.int8_sparsity >= target_sparsity - 1 / layer.int8_size
            for layer in layers if layer.pruned
        ),
        "clusters_kept": all(
            layer.max_unique_per_channel is not None and layer.max_unique_per_channel <= clusters
            for layer in layers if layer.clustered
        ),
    }


def quantization_info(mode: str, scheme: str | None, evaluation: Int8Evaluation) -> dict[str, Any]:
    return {
        "mode": mode,
        "qat_scheme": scheme,
        "input": {"scale": evaluation.input_scale, "zero_point": evaluation.input_zero_point},
        "output": {"scale": evaluation.output_scale, "zero_point": evaluation.output_zero_point},
    }
