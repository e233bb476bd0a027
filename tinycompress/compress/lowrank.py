"""Low-rank factorisation: a Dense (or 1x1 Conv) layer split by truncated SVD into two thinner layers.

A kernel W (in × out) becomes A (in × r) then B (r × out): r·(in + out)
weights and MACs instead of in·out, which pays only when r < in·out/(in+out).
Unlike magnitude pruning this shrinks the work the chip does, not only the
stored weights. The first layer is linear and bias-free; the second keeps
the original layer's name, bias and activation, so everything downstream
still connects to it. The model is rebuilt from its config with the new
layer inserted, then fine-tuned.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycompress.compress.data import Dataset
from tinycompress.compress.distill import SoftTargets
from tinycompress.compress.recipe import FinetuneConfig, LowRankConfig
from tinycompress.compress.tfenv import tf_keras
from tinycompress.compress.train import finetune
from tinycompress.errors import RecipeError
from tinycompress.progress import Progress

SUFFIX = "_lowrank"
_CONV = ("Conv1D", "Conv2D")


@dataclass(frozen=True)
class Factor:
    """One factorised layer: its kernel's sizes, the rank chosen and the share of energy it keeps."""

    layer: str
    inputs: int
    outputs: int
    rank: int
    energy: float

    @property
    def weights_before(self) -> int:
        return self.inputs * self.outputs

    @property
    def weights_after(self) -> int:
        return self.rank * (self.inputs + self.outputs)


@dataclass
class LowRankPlan:
    """What factorisation will do (``factors``) and why other layers stay as they are (``notes``)."""

    factors: dict[str, Factor] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def plan(model: Any, config: LowRankConfig) -> LowRankPlan:
    """Choose a rank per eligible layer; a rank the layer cannot have is a ``RecipeError``.

    Eligible: Dense, and Conv1D/Conv2D with a 1x1 kernel (a Dense per
    position), called once; the classifier output layer only when
    ``config.layers`` names it. With ``config.layers``, only those layers.
    """
    by_name = {layer.name: layer for layer in model.layers}
    unknown = [name for name in config.layers if name not in by_name]
    if unknown:
        raise RecipeError(
            f"[lowrank] layers names {', '.join(map(repr, unknown))}, not in the model; "
            f"its layers: {', '.join(by_name)}"
        )
    protected = _output_layers(model) - set(config.layers)
    result = LowRankPlan()
    for layer in model.layers:
        if config.layers and layer.name not in config.layers:
            continue
        if not _factorisable(layer):
            if config.layers:
                raise RecipeError(
                    f"[lowrank] layers names {layer.name!r} ({type(layer).__name__}), which cannot be factorised; "
                    "name Dense or 1x1 Conv1D/Conv2D layers (each used once)"
                )
            continue
        if layer.name in protected:
            result.notes.append(f"layer {layer.name} not factorised: it is the classifier output "
                                "(name it in [lowrank] layers to factorise it)")
            continue
        matrix = _matrix(layer)
        factor = _choose(layer.name, matrix, config)
        if factor.weights_after >= factor.weights_before:
            result.notes.append(
                f"layer {layer.name} not factorised: rank {factor.rank} would not pay (a {factor.inputs} x "
                f"{factor.outputs} kernel needs rank <= {_paying_rank(factor.inputs, factor.outputs)} "
                "to cut MACs and weights)"
            )
            continue
        result.factors[layer.name] = factor
    return result


def factorise(model: Any, config: LowRankConfig) -> tuple[Any, LowRankPlan]:
    """The model with every planned layer split in two, weights from the truncated SVD (no training)."""
    chosen = plan(model, config)
    if not chosen.factors:
        return model, chosen
    model_config = copy.deepcopy(model.get_config())
    entries = model_config["layers"]
    for name, factor in chosen.factors.items():
        index = next(i for i, entry in enumerate(entries) if entry["config"]["name"] == name)
        first, second = _split_entries(entries[index], factor.rank)
        entries[index:index + 1] = [first, second]
    kind = tf_keras.Sequential if isinstance(model, tf_keras.Sequential) else tf_keras.Model
    rebuilt = kind.from_config(model_config)
    for layer in model.layers:
        if layer.name in chosen.factors:
            a, b = _factors(_matrix(layer), chosen.factors[layer.name].rank)
            thin, wide = rebuilt.get_layer(layer.name + SUFFIX), rebuilt.get_layer(layer.name)
            thin.set_weights([a.reshape(thin.kernel.shape)])
            wide.set_weights([b.reshape(wide.kernel.shape), *layer.get_weights()[1:]])
        elif layer.weights:
            rebuilt.get_layer(layer.name).set_weights(layer.get_weights())
    return rebuilt, chosen


def lowrank(
    model: Any,
    data: Dataset,
    config: LowRankConfig,
    finetune_config: FinetuneConfig,
    *,
    from_logits: bool,
    progress: Progress,
    teacher: SoftTargets | None = None,
) -> tuple[Any, LowRankPlan]:
    """Factorise ``model`` and fine-tune it (when any layer was factorised); notes say what was left and why."""
    factorised, chosen = factorise(model, config)
    if chosen.factors:
        finetune(factorised, data, finetune_config, from_logits=from_logits, progress=progress,
                 description="low-rank + fine-tune", teacher=teacher)
    return factorised, chosen


def _factorisable(layer: Any) -> bool:
    kind = type(layer).__name__
    if len(layer.inbound_nodes) != 1:
        return False
    if kind == "Dense":
        return True
    if kind in _CONV:
        cfg = layer.get_config()
        pointwise = all(k == 1 for k in cfg["kernel_size"]) and all(d == 1 for d in cfg["dilation_rate"])
        return pointwise and cfg.get("groups", 1) == 1 and cfg.get("data_format") == "channels_last"
    return False


def _output_layers(model: Any) -> set[str]:
    """The last weighted layer on each path to an output (a Softmax after it is not the classifier)."""
    found: set[str] = set()
    for output in model.outputs:
        layer = output._keras_history.layer
        while not layer.weights and len(layer.inbound_nodes) == 1:
            inbound = layer.inbound_nodes[0].inbound_layers
            if isinstance(inbound, list):
                break
            layer = inbound
        found.add(layer.name)
    return found


def _matrix(layer: Any) -> np.ndarray:
    """The kernel as an (in, out) matrix (a 1x1 conv's kernel is one up to its leading 1s)."""
    kernel = layer.get_weights()[0]
    return kernel.reshape(-1, kernel.shape[-1]).astype(np.float64)


def _choose(name: str, matrix: np.ndarray, config: LowRankConfig) -> Factor:
    inputs, outputs = matrix.shape
    singular = np.linalg.svd(matrix, compute_uv=False)
    energy = np.cumsum(singular**2) / max(float(np.sum(singular**2)), np.finfo(np.float64).tiny)
    if config.rank:
        if config.rank > len(singular):
            raise RecipeError(
                f"[lowrank] rank = {config.rank} is larger than layer {name} allows ({inputs} x {outputs} kernel: "
                f"at most {len(singular)}); give a rank of at most {_paying_rank(inputs, outputs)} (higher ones "
                "would not pay), or name other layers in [lowrank] layers"
            )
        rank = config.rank
    else:
        # Singular values float32 noise cannot tell from zero carry no energy worth keeping.
        numerical = int(np.sum(singular > singular[0] * max(inputs, outputs) * np.finfo(np.float32).eps))
        rank = min(int(np.searchsorted(energy, config.energy - 1e-9)) + 1, max(numerical, 1))
    return Factor(name, inputs, outputs, rank, float(energy[rank - 1]))


def _paying_rank(inputs: int, outputs: int) -> int:
    """The largest rank r with r·(in + out) < in·out."""
    return (inputs * outputs - 1) // (inputs + outputs)


def _factors(matrix: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """A (in × r), B (r × out) with A @ B the best rank-r approximation; the singular values split evenly."""
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    root = np.sqrt(s[:rank])
    return (u[:, :rank] * root).astype(np.float32), (root[:, None] * vt[:rank]).astype(np.float32)


def _split_entries(entry: dict[str, Any], rank: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Config entries for the thin linear layer and the original layer now fed by it."""
    name = entry["config"]["name"]
    first = copy.deepcopy(entry)
    cfg = first["config"]
    cfg.update(name=name + SUFFIX, use_bias=False, activation="linear", activity_regularizer=None)
    cfg["units" if entry["class_name"] == "Dense" else "filters"] = rank
    if "name" in first:
        first["name"] = cfg["name"]
    second = copy.deepcopy(entry)
    if entry["class_name"] in _CONV:
        second["config"]["strides"] = [1] * len(entry["config"]["strides"])  # the first layer strides
        second["config"]["padding"] = "valid"
    if "inbound_nodes" in entry:
        second["inbound_nodes"] = [[[cfg["name"], 0, 0, {}]]]
    second["config"].pop("batch_input_shape", None)
    return first, second
