"""What a compression run produced, as plain data for report.json and the CLI table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycompress.compress.evaluate import Int8Evaluation, Int8Weights
from tinycompress.compress.metrics import CLASSIFICATION
from tinycompress.versions import collect as collect_versions


@dataclass(frozen=True)
class LayerReport:
    """One Keras layer with weights.

    ``sparsity`` is measured on the stripped float kernel (what pruning
    made); ``int8_sparsity`` (over ``int8_size`` weights) and
    ``max_unique_per_channel`` on the int8 weights in the .tflite (after
    batch-norm folding and quantization), ``None`` when the converter
    folded the layer away (BatchNormalization). ``prune_block`` is the run of
    consecutive input weights a block-pruned Dense layer kept or zeroed
    together (``[prune] block``); 1 for unstructured pruning.
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
    prune_block: int = 1


CHECK_PASSED = "passed"
CHECK_FAILED = "failed"
CHECK_NOT_REQUESTED = "not requested"


@dataclass(frozen=True)
class Check:
    """One promise of the compress stage, verified on the int8 weights.

    ``status`` is ``passed``, ``failed`` or ``not requested`` (the stage was
    disabled); ``detail`` names the layers behind the verdict, so a failure
    says where to look.
    """

    status: str
    detail: str


@dataclass
class CompressReport:
    """report.json of ``compress``. Per stage it holds the task's metrics under keys naming them:
    ``accuracy`` (classification), or ``mse`` and ``mae`` (regression, autoencoder) and ``roc_auc``
    (an autoencoder with anomaly labels); the metrics a task does not use are left out of the dict.
    """

    model: str
    source_format: str
    bridged: bool
    data: str
    samples: dict[str, int]
    accuracy: dict[str, float | None] | None = field(default=None, kw_only=True)
    size_bytes: dict[str, int | None]
    arena_bytes: int
    quantization: dict[str, Any]
    prune_schedule: dict[str, int] | None
    layers: list[LayerReport]
    int8_weights: list[Int8Weights]
    timing_s: dict[str, float]
    recipe: dict[str, Any]
    channels: dict[str, Any] | None = None  # widths, parameters and MACs before/after channel pruning
    # Per stage: parameters, MACs and weight bytes (float32 for Keras stages; for int8, as stored on the
    # device, with the planned arena and the estimated instructions); see ``keras_costs``, ``DeviceFigures``.
    per_stage: dict[str, dict[str, Any]] = field(default_factory=dict)
    instructions_estimate: dict[str, Any] | None = None  # the int8 model's, per layer (codegen.costmodel)
    distillation: dict[str, dict[str, float]] | None = None  # per fine-tuned stage: alpha and temperature; None when off
    checks: dict[str, Check] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=collect_versions)
    task: str = field(default=CLASSIFICATION, kw_only=True)
    mse: dict[str, float | None] | None = field(default=None, kw_only=True)
    mae: dict[str, float | None] | None = field(default=None, kw_only=True)
    roc_auc: dict[str, float | None] | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        return {key: value for key, value in found.items() if key not in _METRICS or value is not None}


_METRICS = ("accuracy", "mse", "mae", "roc_auc")


def measured_sizes(float32_tflite: bytes, int8_tflite: bytes, weights: int | None) -> dict[str, int | None]:
    """Both .tflite sizes and ``weights``: the int8 model's constants as they will be stored on the device.

    ``weights`` is ``weights_bytes`` of ``tinycompress inspect``
    (``DeviceFigures``): the code generator's per-layer storage choice (dense
    or packed weights, biases, requantization tables), so pruning and
    clustering show in it where the .tflite size hides them. It is None when
    the C runtime cannot compile the model (export would refuse it, naming the op).
    """
    return {"float32": len(float32_tflite), "int8": len(int8_tflite), "weights": weights}


# The layers whose multiply-accumulates ``macs`` counts, on both sides (channels.keras_macs on Keras).
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def keras_costs(model: Any) -> dict[str, int]:
    """A Keras stage's ``per_stage`` entry: parameters, MACs, and the float32 bytes of its parameters.

    MACs are those of the convolution, depthwise and dense layers (pooling
    and element-wise ops left out), as the int8 entry counts them.
    """
    from tinycompress.compress.channels import keras_macs

    params = int(model.count_params())
    return {"params": params, "macs": int(keras_macs(model)), "weights_float32_bytes": 4 * params}


@dataclass(frozen=True)
class DeviceFigures:
    """The int8 model as the code generator compiles it with the ``optimize`` storage objective.

    ``costs`` is the int8 stage's ``per_stage`` entry: ``params`` (weights and
    biases of the convolution, depthwise and dense layers, after batch-norm
    folding), ``macs`` (those layers'), ``weights_device_bytes`` (every
    constant as stored in flash: ``weights_bytes`` of ``tinycompress
    inspect``), ``weights_storage`` (layers per storage: s8, palette4,
    sparse8, block8, block4), ``arena_planned_bytes`` (the generated arena: the model's only
    RAM) and ``instructions_estimated`` (``estimate``'s total). All None
    when the C runtime cannot compile the model.
    """

    costs: dict[str, Any]
    estimate: dict[str, Any] | None

    @property
    def weights_bytes(self) -> int | None:
        return self.costs["weights_device_bytes"]


def device_figures(int8_tflite: bytes, optimize: str, runtime_arch: str | None = None) -> DeviceFigures:
    """Compile ``int8_tflite`` as ``export`` would (storage by ``optimize``, ranked for ``runtime_arch``'s
    kernels, the Cortex-M4's for None) and estimate its instructions with the cost model of
    ``runtime_arch``'s kernels when it is calibrated, else of qemu-netduinoplus2's (codegen.costmodel)."""
    # The code generator is a later stage; it is asked only for these figures.
    from tinycompress.codegen import generate
    from tinycompress.codegen.costmodel import calibrated_arches, estimate, load_cost_model
    from tinycompress.codegen.storage import DEFAULT_ARCH
    from tinycompress.errors import ModelFormatError, UnsupportedError
    from tinycompress.tflite import read_model

    names = ("params", "macs", "weights_device_bytes", "weights_storage", "arena_planned_bytes",
             "instructions_estimated")
    try:
        model = read_model(int8_tflite)
        generated = generate(model, optimize=optimize, runtime_arch=runtime_arch or DEFAULT_ARCH)
    except (UnsupportedError, ModelFormatError):
        return DeviceFigures(dict.fromkeys(names), None)
    weighted = [op for op in model.operators if op.op in MAC_OPS]
    params = sum(model.tensors[t].size for op in weighted for t in op.inputs[1:] if t >= 0)
    storage: dict[str, int] = {}
    for layer in generated.layers:
        if layer.storage != "-":
            storage[layer.storage] = storage.get(layer.storage, 0) + 1
    arch = runtime_arch if runtime_arch in calibrated_arches() else DEFAULT_ARCH
    found = estimate(model, generated, load_cost_model(arch)).to_dict()
    found["weights_storage_objective"] = optimize
    return DeviceFigures({
        "params": int(params),
        "macs": int(sum(layer.macs for layer in generated.layers if layer.op in MAC_OPS)),
        "weights_device_bytes": int(generated.weights_bytes),
        "weights_storage": storage,
        "arena_planned_bytes": int(generated.arena_bytes),
        "instructions_estimated": found["instructions"],
    }, found)


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


def int8_layout(layer_type: str, weight: str, kernel: np.ndarray) -> tuple[str, np.ndarray] | None:
    """The int8 op a Keras kernel becomes in the .tflite, and the kernel in that op's layout (None: not a kernel).

    Keras keeps kernels input-major, TFLite output-major: Dense (in, out)
    becomes FULLY_CONNECTED (out, in); Conv2D (kh, kw, in, out) a CONV_2D
    (out, kh, kw, in); Conv1D (k, in, out) a CONV_2D (out, 1, k, in); a
    depthwise kernel (kh, kw, in, mult) a DEPTHWISE_CONV_2D (1, kh, kw,
    in*mult); Conv2DTranspose (kh, kw, out, in) a TRANSPOSE_CONV (out, kh,
    kw, in). Batch-norm folding scales output channels, keeping the layout.
    """
    if weight == "depthwise_kernel" and kernel.ndim == 4:
        return "DEPTHWISE_CONV_2D", kernel.reshape(1, *kernel.shape[:2], -1)
    if weight == "pointwise_kernel" and kernel.ndim == 4:
        return "CONV_2D", np.moveaxis(kernel, 3, 0)
    if weight != "kernel":
        return None
    if kernel.ndim == 2:
        return "FULLY_CONNECTED", kernel.T
    if kernel.ndim == 3:
        return "CONV_2D", np.moveaxis(kernel, 2, 0)[:, np.newaxis]
    if kernel.ndim == 4 and "Transpose" in layer_type:
        return "TRANSPOSE_CONV", np.moveaxis(kernel, 2, 0)
    if kernel.ndim == 4:
        return "CONV_2D", np.moveaxis(kernel, 3, 0)
    return None


def _likeness(kernel: np.ndarray, values: np.ndarray, op: str) -> float:
    """How alike two same-shaped kernels are: mean |correlation| over output channels.

    Per channel and in absolute value, because batch-norm folding and
    per-channel quantization scale each output channel, by a negative
    factor when gamma is negative.
    """
    axis = 3 if op == "DEPTHWISE_CONV_2D" else 0
    a, b = (np.moveaxis(x.astype(np.float64), axis, 0).reshape(x.shape[axis], -1) for x in (kernel, values))
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = np.abs(np.sum(a * b, axis=1))
    return float(np.mean(np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)))


def int8_tensors_of(model: Any, weights: list[Int8Weights],
                    values: dict[int, np.ndarray]) -> dict[str, dict[str, Int8Weights]]:
    """Per Keras layer, per kernel name, the int8 weight tensor it became.

    Matched by structure, never by tensor name (a Dense folded with the
    BatchNormalization after it carries the BatchNormalization's name): a
    kernel goes to a tensor of the op and shape it becomes. When several
    kernels share an op and shape (parallel branches, repeated blocks), the
    graph orders can differ, so they are paired by the likeness of their
    values (``values``: int8 weights by op index), the most alike first.
    A kernel with no such tensor is absent from the answer.
    """
    kernels: dict[tuple[str, tuple[int, ...]], list[tuple[str, str, np.ndarray]]] = {}
    for layer in model.layers:
        for weight in layer.weights:
            found = int8_layout(type(layer).__name__, _short(weight.name), weight.numpy())
            if found:
                op, kernel = found
                kernels.setdefault((op, kernel.shape), []).append((layer.name, _short(weight.name), kernel))
    tensors: dict[tuple[str, tuple[int, ...]], list[Int8Weights]] = {}
    for tensor in weights:
        tensors.setdefault((tensor.op, tuple(tensor.shape)), []).append(tensor)
    matched: dict[str, dict[str, Int8Weights]] = {}
    for key, group in kernels.items():
        candidates = tensors.get(key, [])
        pairs = [(0, 0)] if len(group) == len(candidates) == 1 else _pair_by_likeness(group, candidates, key[0], values)
        for k, t in pairs:
            layer_name, weight_name, _ = group[k]
            matched.setdefault(layer_name, {})[weight_name] = candidates[t]
    return matched


def _pair_by_likeness(group: list[tuple[str, str, np.ndarray]], candidates: list[Int8Weights], op: str,
                      values: dict[int, np.ndarray]) -> list[tuple[int, int]]:
    """(kernel, tensor) index pairs, the most alike pair first, each kernel and tensor used once."""
    scores = sorted(
        ((_likeness(kernel, values[tensor.op_index], op), k, t)
         for k, (_, _, kernel) in enumerate(group) for t, tensor in enumerate(candidates)),
        key=lambda item: -item[0],
    )
    pairs: list[tuple[int, int]] = []
    for _, k, t in scores:
        if all(k != used_k and t != used_t for used_k, used_t in pairs):
            pairs.append((k, t))
    return pairs


def layer_reports(model: Any, pruned: dict[str, list[str]], clustered: dict[str, list[str]],
                  weights: list[Int8Weights], values: dict[int, np.ndarray],
                  blocks: dict[str, int] | None = None) -> list[LayerReport]:
    """Join Keras layers with their int8 weight tensors (matched by structure, see ``int8_tensors_of``).

    For a pruned layer the sparsities cover the weights tfmot pruned; for a
    clustered layer the unique count covers the weights tfmot clustered
    (SeparableConv: only the pointwise half of each).
    """
    tensors = int8_tensors_of(model, weights, values)
    reports = []
    for layer in model.layers:
        params = int(layer.count_params())
        if params == 0:
            continue
        mine = tensors.get(layer.name, {})
        zeros_in = _holding(mine, pruned.get(layer.name))
        values_in = _holding(mine, clustered.get(layer.name))
        size = sum(w.size for w in zeros_in)
        reports.append(LayerReport(
            name=layer.name,
            type=type(layer).__name__,
            params=params,
            pruned=layer.name in pruned,
            clustered=layer.name in clustered,
            pruned_weights=pruned.get(layer.name, []),
            clustered_weights=clustered.get(layer.name, []),
            sparsity=kernel_sparsity(layer, pruned.get(layer.name)),
            int8_sparsity=(sum(w.sparsity * w.size for w in zeros_in) / size) if size else None,
            int8_size=size,
            max_unique_per_channel=max(w.max_unique_per_channel for w in values_in) if values_in else None,
            int8_ops=sorted(w.op_index for w in mine.values()),
            prune_block=(blocks or {}).get(layer.name, 1),
        ))
    return reports


def _holding(tensors: dict[str, Int8Weights], names: list[str] | None) -> list[Int8Weights]:
    """The int8 tensors of the named kernels (all of the layer's when no names)."""
    return [tensor for name, tensor in tensors.items() if names is None or name in names]


def checks(layers: list[LayerReport], target_sparsity: float, clusters: int) -> dict[str, Check]:
    """The stage's promises, verified on the int8 weights (0 means the stage was disabled).

    ``sparsity_reached``: every pruned layer's pruned weights hold at least
    the target fraction of zeros (one weight of rounding allowed).
    ``clusters_kept``: every clustered layer's clustered weights hold at
    most ``clusters`` int8 values per output channel. A requested stage
    that touched no layer, or a layer whose int8 weights were not found,
    fails: the promise was not verified.
    """
    return {
        "sparsity_reached": _sparsity_check(layers, target_sparsity),
        "clusters_kept": _clusters_check(layers, clusters),
    }


def _sparsity_check(layers: list[LayerReport], target: float) -> Check:
    if target <= 0:
        return Check(CHECK_NOT_REQUESTED, "pruning disabled")
    pruned = [layer for layer in layers if layer.pruned]
    if not pruned:
        return Check(CHECK_FAILED, "no layer could be pruned (see the notes)")
    missing = [f"{layer.name} (no int8 weights found)" for layer in pruned if layer.int8_sparsity is None]
    measured = [layer for layer in pruned if layer.int8_sparsity is not None]
    short = [
        f"{layer.name} {_pct(layer.int8_sparsity)}" for layer in measured
        if layer.int8_sparsity < target - 1 / layer.int8_size
    ]
    if missing or short:
        return Check(CHECK_FAILED, f"target {_pct(target)} zeros missed by " + ", ".join(short + missing))
    lowest = min(measured, key=lambda layer: layer.int8_sparsity)
    return Check(CHECK_PASSED, f"every pruned layer ({len(pruned)}) at >= {_pct(target)} zeros, "
                               f"lowest {lowest.name} {_pct(lowest.int8_sparsity)}")


def _clusters_check(layers: list[LayerReport], clusters: int) -> Check:
    if clusters <= 0:
        return Check(CHECK_NOT_REQUESTED, "clustering disabled")
    clustered = [layer for layer in layers if layer.clustered]
    if not clustered:
        return Check(CHECK_FAILED, "no layer could be clustered (see the notes)")
    missing = [f"{layer.name} (no int8 weights found)" for layer in clustered if layer.max_unique_per_channel is None]
    measured = [layer for layer in clustered if layer.max_unique_per_channel is not None]
    over = [f"{layer.name} {layer.max_unique_per_channel}" for layer in measured
            if layer.max_unique_per_channel > clusters]
    if missing or over:
        return Check(CHECK_FAILED, f"more than {clusters} values per channel in " + ", ".join(over + missing))
    highest = max(measured, key=lambda layer: layer.max_unique_per_channel)
    return Check(CHECK_PASSED, f"every clustered layer ({len(clustered)}) at <= {clusters} values per channel, "
                               f"highest {highest.name} {highest.max_unique_per_channel}")


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def quantization_info(mode: str, scheme: str | None, evaluation: Int8Evaluation) -> dict[str, Any]:
    return {
        "mode": mode,
        "qat_scheme": scheme,
        "input": {"scale": evaluation.input_scale, "zero_point": evaluation.input_zero_point},
        "output": {"scale": evaluation.output_scale, "zero_point": evaluation.output_zero_point},
    }
