"""Structured (channel) pruning: whole filters removed, the network rebuilt narrower.

Magnitude pruning zeroes weights but leaves every tensor its width, so the
chip still spends the same MACs. Here a Conv1D/Conv2D/SeparableConv2D/Dense
layer loses whole output channels, and everything tied to them follows:
the next layers' input channels, BatchNormalization, DepthwiseConv2D
channels, and every layer joined to them by Add/Multiply (one shared keep
set per joined group) or Concatenate (channel ranges). The model is
rebuilt from its config with the new widths and the surviving weights
sliced in, then fine-tuned.

The dependency graph lives in :class:`ChannelGraph`: every tensor's
channel axis is a list of segments, each a run of one channel *group*
(the filters of one producer, or of several producers joined by an
element-wise merge). A Flatten keeps the segments and records how many
spatial positions repeat them, so a Dense after it drops the matching rows.
The model's input and outputs are protected groups: they keep every channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinycompress.compress.data import Dataset
from tinycompress.compress.distill import SoftTargets
from tinycompress.compress.recipe import ChannelsConfig, FinetuneConfig
from tinycompress.compress.tfenv import tf, tf_keras
from tinycompress.compress.train import finetune, task_loss
from tinycompress.errors import RecipeError, UnsupportedError
from tinycompress.progress import Progress

PRODUCERS = ("Conv1D", "Conv2D", "SeparableConv1D", "SeparableConv2D", "Dense")
DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D")
ELEMENTWISE = (
    "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "ThresholdedReLU", "Dropout", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "ActivityRegularization",
)
SPATIAL = (
    "BatchNormalization", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
    "SpatialDropout1D", "SpatialDropout2D",
)
MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")


@dataclass(frozen=True)
class Layout:
    """The channel axis of one tensor: ``segments`` of (group, width), repeated ``repeat`` times (Flatten)."""

    segments: tuple[tuple[int, int], ...]
    repeat: int = 1

    @property
    def width(self) -> int:
        return sum(width for _, width in self.segments)


@dataclass
class ChannelGraph:
    """Channel groups of a model: who produces them, who is joined, what may not shrink."""

    widths: list[int] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    protected: set[int] = field(default_factory=set)
    producers: dict[str, int] = field(default_factory=dict)  # prunable layer -> its output group
    layouts: dict[str, Layout] = field(default_factory=dict)  # layer -> layout of its output
    inputs: dict[str, Layout] = field(default_factory=dict)  # layer -> layout of its (first) input
    feeds: dict[str, list[str]] = field(default_factory=dict)  # layer -> the layers it reads
    barriers: dict[str, tuple[str, list[int]]] = field(default_factory=dict)  # layer -> (why, groups it fixes)

    def new_group(self, width: int, protected: bool = False) -> int:
        self.widths.append(width)
        self.parent.append(len(self.parent))
        if protected:
            self.protected.add(len(self.parent) - 1)
        return len(self.parent) - 1

    def find(self, group: int) -> int:
        while self.parent[group] != group:
            self.parent[group] = self.parent[self.parent[group]]
            group = self.parent[group]
        return group

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra

    def is_protected(self, group: int) -> bool:
        return self.find(group) in {self.find(g) for g in self.protected}

    def members(self, group: int) -> list[str]:
        """The producers whose filters form ``group`` (after joins)."""
        root = self.find(group)
        return [name for name, g in self.producers.items() if self.find(g) == root]


def _class(layer: Any) -> str:
    return type(layer).__name__


def _width(layer: Any) -> int:
    """The output channels a producer makes (``units`` or ``filters``)."""
    config = layer.get_config()
    return int(config["units"] if "units" in config else config["filters"])


def _short(weight_name: str) -> str:
    """``conv/kernel:0`` → ``kernel``."""
    return weight_name.split("/")[-1].split(":")[0]


def _inbound(model: Any) -> dict[str, list[str]]:
    """Each layer's input layers, in call order, from the model's config (Sequential: a chain)."""
    if isinstance(model, tf_keras.Sequential):
        names = [layer.name for layer in model.layers]
        return {name: ([names[i - 1]] if i else []) for i, name in enumerate(names)}
    inbound: dict[str, list[str]] = {}
    for entry in model.get_config()["layers"]:
        nodes = entry.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise UnsupportedError(
                f"layer {entry['name']} is called {len(nodes)} times; channel pruning needs each layer used once "
                "(leave [channels] out for this model)"
            )
        args = nodes[0] if nodes else []
        inbound[entry["name"]] = [arg[0] for arg in args if isinstance(arg, list) and arg and isinstance(arg[0], str)]
    return inbound


def _spatial_size(shape: Any) -> int:
    dims = [int(d) for d in shape[1:-1]]
    return int(np.prod(dims)) if dims else 1


def _last_dim(shape: Any) -> int:
    return int((shape[0] if isinstance(shape, list) else shape)[-1])


def _protected_input(graph: ChannelGraph, width: int) -> Layout:
    return Layout(((graph.new_group(width, protected=True), width),))


def build_graph(model: Any) -> ChannelGraph:
    """Trace every layer's channel layout; joins merge groups, the input and outputs are protected."""
    graph = ChannelGraph()
    inbound = graph.feeds = _inbound(model)
    for layer in model.layers:
        name, kind = layer.name, _class(layer)
        if kind == "InputLayer":
            graph.layouts[name] = _protected_input(graph, _last_dim(layer.output_shape))
            continue
        sources = [graph.layouts[src] for src in inbound.get(name, []) if src in graph.layouts]
        if not sources:  # the first layer of a Sequential model reads the model input itself
            sources = [_protected_input(graph, _last_dim(layer.input_shape))]
        graph.inputs[name] = sources[0]
        graph.layouts[name] = _trace(graph, layer, kind, sources)
    for name in model.output_names:
        for group, _ in graph.layouts[name].segments:
            graph.protected.add(group)
    return graph


def _trace(graph: ChannelGraph, layer: Any, kind: str, sources: list[Layout]) -> Layout:
    """The output layout of ``layer`` given its inputs' layouts (recording joins and barriers)."""
    source = sources[0]
    config = layer.get_config()
    if kind in PRODUCERS and (kind == "Dense" or source.repeat == 1):
        if config.get("groups", 1) != 1:
            return _barrier(graph, layer, sources, f"{kind} with groups = {config['groups']} ties input to output channels")
        if kind.startswith("Separable") and config.get("depth_multiplier", 1) != 1:
            return _barrier(graph, layer, sources, "depth_multiplier != 1 ties channels to multiplier blocks")
        width = int(config["units"] if kind == "Dense" else config["filters"])
        group = graph.new_group(width)
        graph.producers[layer.name] = group
        return Layout(((group, width),))
    if kind in DEPTHWISE and source.repeat == 1:
        if config.get("depth_multiplier", 1) != 1:
            return _barrier(graph, layer, sources, "depth_multiplier != 1 ties channels to multiplier blocks")
        return source
    if kind == "Softmax" or (kind == "Activation" and config.get("activation") in ("softmax", "log_softmax")):
        # Same channels out as in (a classifier's softmax keeps its protection), but none may go.
        _fix(graph, layer, sources, "a softmax normalises across the channels")
        return source
    if kind in ELEMENTWISE:
        if kind == "PReLU" and config.get("shared_axes"):
            return _barrier(graph, layer, sources, "PReLU with shared_axes")
        return source
    if kind in SPATIAL and source.repeat == 1:
        if kind == "BatchNormalization" and config.get("axis") not in (-1, [-1], len(layer.input_shape) - 1,
                                                                        [len(layer.input_shape) - 1]):
            return _barrier(graph, layer, sources, f"it normalises axis {config.get('axis')}, not the channels")
        return source
    if kind == "Flatten":
        return Layout(source.segments, source.repeat * _spatial_size(layer.input_shape))
    if kind in MERGES:
        widths = [[w for _, w in s.segments] for s in sources]
        if any(w != widths[0] or s.repeat != source.repeat for w, s in zip(widths, sources)):
            return _barrier(graph, layer, sources, "its inputs' channels come from differently split groups")
        for other in sources[1:]:
            for (a, _), (b, _) in zip(source.segments, other.segments):
                graph.join(a, b)
        return source
    if kind == "Concatenate" and config.get("axis") in (-1, len(layer.output_shape) - 1) and source.repeat == 1:
        if any(s.repeat != 1 for s in sources):
            return _barrier(graph, layer, sources, "it concatenates flattened tensors")
        return Layout(tuple(seg for s in sources for seg in s.segments))
    return _barrier(graph, layer, sources, f"{kind} layers are not traced through")


def _fix(graph: ChannelGraph, layer: Any, sources: list[Layout], why: str) -> None:
    """Record that the channels flowing into ``layer`` may not shrink (checked against the keep counts)."""
    graph.barriers[layer.name] = (why, [group for s in sources for group, _ in s.segments])


def _barrier(graph: ChannelGraph, layer: Any, sources: list[Layout], why: str) -> Layout:
    """A layer channels cannot be traced through: its inputs may not shrink, its output is a fixed group."""
    _fix(graph, layer, sources, why)
    return _protected_input(graph, _last_dim(layer.output_shape))


# --- importance and keep sets -------------------------------------------------------------------


def _l2(layer: Any) -> np.ndarray:
    """Per-filter L2 norm of the kernel that makes the layer's output channels."""
    weights = {_short(w.name): w.numpy() for w in layer.weights}
    kernel = weights.get("pointwise_kernel", weights.get("kernel"))
    return np.sqrt((kernel.reshape(-1, kernel.shape[-1]) ** 2).sum(axis=0))


TAYLOR_SAMPLES = 256  # training samples the first-order Taylor criterion averages over
TAYLOR_BATCH = 64


def _taylor(model: Any, names: list[str], data: Dataset, from_logits: bool) -> dict[str, np.ndarray]:
    """Per producer, the mean over samples of |sum over positions of activation × d loss / d activation|.

    The first-order estimate of how much the loss changes when a channel is
    removed (Molchanov et al. 2017): it ranks by what the data needs, not by
    weight size, so a large filter whose output nothing uses scores zero.
    """
    probe = tf_keras.Model(model.inputs, [model.get_layer(name).output for name in names] + [model.outputs[0]])
    loss_fn = task_loss(data.task, from_logits, reduction="sum")
    totals = {name: np.zeros(_width(model.get_layer(name))) for name in names}
    x, y = data.x_train[:TAYLOR_SAMPLES], data.y_train[:TAYLOR_SAMPLES]
    for start in range(0, len(x), TAYLOR_BATCH):
        with tf.GradientTape() as tape:
            *activations, out = probe(x[start:start + TAYLOR_BATCH], training=False)
            loss = loss_fn(y[start:start + TAYLOR_BATCH], out)
        for name, a, g in zip(names, activations, tape.gradient(loss, activations)):
            product = (a * g).numpy()
            totals[name] += np.abs(product.reshape(len(product), -1, product.shape[-1]).sum(axis=1)).sum(axis=0)
    return {name: total / len(x) for name, total in totals.items()}


def importance(model: Any, graph: ChannelGraph, criterion: str, data: Dataset, *,
               from_logits: bool) -> tuple[dict[int, np.ndarray], list[str]]:
    """Per root group, the summed importance of its channels; notes where ``bn_gamma`` fell back to L2.

    ``data`` (its training samples) is read by the ``taylor`` criterion only.
    """
    scores: dict[int, np.ndarray] = {}
    notes: list[str] = []
    if criterion == "taylor":
        # Protected groups are never ranked; the classifier's softmax output has no gradient of its own
        # (the loss reads the logits behind it).
        names = [name for name, group in graph.producers.items() if not graph.is_protected(group)]
        for name, score in _taylor(model, names, data, from_logits).items():
            root = graph.find(graph.producers[name])
            scores[root] = scores.get(root, 0) + score
        return scores, notes
    gammas: dict[int, np.ndarray] = {}
    if criterion == "bn_gamma":  # the BatchNormalization right after each producer
        for layer in model.layers:
            feeds = graph.feeds.get(layer.name, [])
            if _class(layer) == "BatchNormalization" and layer.scale and feeds and feeds[0] in graph.producers:
                root = graph.find(graph.producers[feeds[0]])
                gammas[root] = gammas.get(root, 0) + np.abs(layer.gamma.numpy())
    for name, group in graph.producers.items():
        root = graph.find(group)
        if root in gammas:
            scores[root] = gammas[root]
            continue
        if criterion == "bn_gamma":
            notes.append(f"channels of {name}: no BatchNormalization follows, ranked by L2 norm instead of bn_gamma")
        scores[root] = scores.get(root, 0) + _l2(model.get_layer(name))
    return scores, notes


def keep_counts(graph: ChannelGraph, config: ChannelsConfig) -> dict[int, int]:
    """How many channels each shrinking root group keeps; a layer left with none is a ``RecipeError``."""
    unknown = sorted(set(config.layers) - set(graph.producers))
    if unknown:
        raise RecipeError(
            f"[channels.layers] names {', '.join(unknown)}, not a prunable layer of this model; "
            f"prunable: {', '.join(graph.producers) or 'none'}"
        )
    counts: dict[int, int] = {}
    fractions: dict[int, float] = {}
    for name, group in graph.producers.items():
        root = graph.find(group)
        fraction = config.layers.get(name, config.keep)
        if graph.is_protected(root):
            if name in config.layers and fraction < 1:
                raise RecipeError(
                    f"[channels.layers] {name} = {fraction}: its channels feed the model's input or output and "
                    "cannot shrink; remove it from [channels.layers]"
                )
            continue
        fractions[root] = max(fractions.get(root, 0.0), fraction)
    for root, fraction in fractions.items():
        width = graph.widths[root]
        kept = _kept(fraction, width, config.multiple)
        if kept < 1:
            names = ", ".join(graph.members(root))
            raise RecipeError(
                f"[channels] keep = {fraction} leaves {names} ({width} channels) with no channel; "
                f"use keep >= {1 / width:.3g}"
            )
        if kept < width:
            counts[root] = kept
    for layer, (why, groups) in graph.barriers.items():
        names = sorted({name for g in groups if graph.find(g) in counts for name in graph.members(g)})
        if names:
            raise UnsupportedError(
                f"cannot prune channels into layer {layer} ({why}); keep them whole with "
                f"[channels.layers] {', '.join(f'{name} = 1.0' for name in names)}"
            )
    return counts


def _kept(fraction: float, width: int, multiple: int) -> int:
    """``fraction`` of ``width`` channels, rounded to the nearest multiple of ``multiple`` (at least one).

    The Cortex-M kernels run channels in fours and a pointwise conv's inputs
    in eights; a remainder falls to slower per-channel code, so 26 channels
    can cost more instructions than 28. A layer no wider than ``multiple``
    gets the plain rounding: it cannot reach a whole multiple below its width.
    """
    if multiple == 1 or width <= multiple:
        return math.floor(fraction * width + 0.5)
    return min(width, multiple * max(1, math.floor(fraction * width / multiple + 0.5)))


def keep_sets(scores: dict[int, np.ndarray], counts: dict[int, int]) -> dict[int, np.ndarray]:
    """The surviving channels of each shrunk group: the highest scores, in their original order."""
    sets = {}
    for root, kept in counts.items():
        order = np.argsort(-scores[root], kind="stable")
        sets[root] = np.sort(order[:kept])
    return sets


# --- surgery ------------------------------------------------------------------------------------


def _indices(graph: ChannelGraph, layout: Layout, sets: dict[int, np.ndarray]) -> np.ndarray | None:
    """The kept positions of a tensor with ``layout`` (None when it keeps them all)."""
    if not any(graph.find(g) in sets for g, _ in layout.segments):
        return None
    kept, offset = [], 0
    for group, width in layout.segments:
        kept.append(offset + sets.get(graph.find(group), np.arange(width)))
        offset += width
    channels = np.concatenate(kept)
    return (np.arange(layout.repeat)[:, None] * layout.width + channels[None, :]).reshape(-1)


def _slice(kind: str, weights: list[np.ndarray], names: list[str], inp: np.ndarray | None,
           out: np.ndarray | None) -> list[np.ndarray]:
    """``weights`` of a layer of ``kind`` with input positions ``inp`` and output channels ``out`` kept.

    Kernels hold input channels on their second last axis and output
    channels on the last (a depthwise kernel's last axis is its multiplier,
    always 1 here); biases and per-channel weights on their only axis.
    """
    sliced = []
    for name, w in zip(names, weights):
        if name.endswith("kernel"):
            w = w if inp is None else np.take(w, inp, axis=-2)
            w = w if out is None or name == "depthwise_kernel" or kind in DEPTHWISE else np.take(w, out, axis=-1)
        elif kind in PRODUCERS:  # bias
            w = w if out is None else np.take(w, out, axis=-1)
        elif inp is not None:  # BatchNormalization, PReLU, a depthwise bias: one value per input channel
            w = np.take(w, inp, axis=-1)
        sliced.append(w)
    return sliced


def shrink(model: Any, graph: ChannelGraph, sets: dict[int, np.ndarray]) -> Any:
    """A new model with the channels outside ``sets`` removed and the surviving weights copied."""
    def rebuild(layer: Any) -> Any:
        config = layer.get_config()
        group = graph.producers.get(layer.name)
        if group is not None and graph.find(group) in sets:
            config["units" if _class(layer) == "Dense" else "filters"] = len(sets[graph.find(group)])
        return type(layer).from_config(config)

    narrow = tf_keras.models.clone_model(model, clone_function=rebuild)
    for old in model.layers:
        if not old.weights:
            continue
        new = narrow.get_layer(old.name)
        source = graph.inputs.get(old.name)
        inp = _indices(graph, source, sets) if source is not None else None
        group = graph.producers.get(old.name)
        out = sets.get(graph.find(group)) if group is not None else None
        names = [_short(w.name) for w in old.weights]
        new.set_weights(_slice(_class(old), old.get_weights(), names, inp, out))
    return narrow


# --- cost ---------------------------------------------------------------------------------------


def keras_macs(model: Any) -> int:
    """Multiply-accumulates of one inference in the convolution, depthwise and dense layers.

    Each kernel weight is used once per output position (a Dense on a
    sequence runs once per step); pooling and element-wise ops are left out.
    """
    total = 0
    for layer in model.layers:
        if _class(layer) in PRODUCERS + DEPTHWISE:
            kernels = sum(int(np.prod(w.shape)) for w in layer.weights if _short(w.name).endswith("kernel"))
            total += _spatial_size(layer.output_shape) * kernels
    return total


# --- the stage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelsResult:
    """What the stage did: widths per pruned layer, and parameters and MACs before and after."""

    widths: dict[str, list[int]]  # layer -> [before, after]
    params: dict[str, int]  # before, after
    macs: dict[str, int]  # before, after
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"widths": self.widths, "params": self.params, "macs": self.macs}


def plan(model: Any, config: ChannelsConfig) -> tuple[ChannelGraph, dict[int, int]]:
    """Resolve the channel graph and the keep counts: every user error surfaces here, before training."""
    graph = build_graph(model)
    return graph, keep_counts(graph, config)


def prune_channels(
    model: Any,
    data: Dataset,
    config: ChannelsConfig,
    finetune_config: FinetuneConfig,
    *,
    from_logits: bool,
    progress: Progress,
    teacher: SoftTargets | None = None,
) -> tuple[Any, ChannelsResult]:
    """Remove channels in ``config.steps`` rounds of prune → fine-tune; returns the narrow model.

    Round *k* of *n* keeps ``width - (width - target) * k / n`` channels per
    shrinking group, re-ranked on the weights the previous round fine-tuned.
    """
    graph, final = plan(model, config)
    before = {name: _width(model.get_layer(name)) for name in graph.producers}
    params0, macs0 = model.count_params(), keras_macs(model)
    targets = {name: final[graph.find(g)] for name, g in graph.producers.items() if graph.find(g) in final}
    notes: list[str] = []
    for step in range(1, config.steps + 1):
        graph = build_graph(model)
        counts = {graph.find(graph.producers[name]): round(before[name] - (before[name] - end) * step / config.steps)
                  for name, end in targets.items()}
        scores, notes = importance(model, graph, config.criterion, data, from_logits=from_logits)
        model = shrink(model, graph, keep_sets(scores, {r: n for r, n in counts.items() if n < graph.widths[r]}))
        finetune(model, data, finetune_config, from_logits=from_logits, progress=progress,
                 description=f"channel pruning {step}/{config.steps} + fine-tune", teacher=teacher)
    after = {name: _width(model.get_layer(name)) for name in before}
    return model, ChannelsResult(
        widths={name: [before[name], after[name]] for name in before if after[name] != before[name]},
        params={"before": int(params0), "after": int(model.count_params())},
        macs={"before": int(macs0), "after": int(keras_macs(model))},
        notes=notes,
    )
