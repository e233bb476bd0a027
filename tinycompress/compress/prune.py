"""Magnitude pruning with fine-tuning (tfmot), then stripping the wrappers.

With ``[prune] block = N`` a Dense kernel (``[in, out]``) is pruned in
``(N, 1)`` blocks: N consecutive input weights of one output unit are kept
or zeroed together, which in TFLite's FULLY_CONNECTED weights (``[out, in]``)
are N consecutive elements of a row, the runs codegen stores as kept blocks
(TC_WEIGHTS_BLOCK8). tfmot takes blocks on rank-2 kernels only, so every
other layer stays unstructured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinycompress.compress import depthwise
from tinycompress.compress.data import Dataset
from tinycompress.compress.distill import SoftTargets
from tinycompress.compress.recipe import FinetuneConfig, PruneConfig
from tinycompress.compress.tfenv import tf_keras, tfmot
from tinycompress.compress.train import finetune, steps_per_epoch
from tinycompress.progress import Progress


@dataclass(frozen=True)
class PruneSchedule:
    """The resolved schedule in steps (what tfmot counts)."""

    begin_step: int
    end_step: int
    frequency: int
    total_steps: int


# A block is ranked by the mean |weight| over it: zeroing a block removes all of its weights, so
# the blocks whose whole contents matter least go first ("MAX" would keep a block of near-zero
# weights for a single large one, and a kept block costs the device as much as any other).
BLOCK_POOLING = "AVG"


def block_size(layer: Any, config: PruneConfig) -> int:
    """The block ``layer`` is pruned in: ``config.block`` for a Dense layer whose kernel is a true
    matrix (tfmot squeezes the kernel before pooling, so a single input or unit breaks it), else 1."""
    kernel = getattr(layer, "kernel", None)
    if (config.block == 1 or not isinstance(layer, tf_keras.layers.Dense) or kernel is None
            or len(kernel.shape) != 2 or min(kernel.shape) < 2):
        return 1
    return config.block


def resolve_schedule(config: PruneConfig, data: Dataset, finetune_config: FinetuneConfig) -> PruneSchedule:
    """Turn the recipe's epochs or steps into tfmot steps.

    tfmot applies the final sparsity only on a pruning step that lands
    exactly on ``end_step``, so the end is moved onto the frequency grid
    and kept inside the training run; otherwise the target is never reached.
    """
    per_epoch = steps_per_epoch(data, finetune_config)
    total = per_epoch * finetune_config.epochs
    if config.begin_step is not None or config.end_step is not None:
        begin = config.begin_step or 0
        end = config.end_step if config.end_step is not None else (2 * total) // 3
    else:
        begin = round((config.begin_epoch or 0) * per_epoch)
        end = round(config.end_epoch * per_epoch) if config.end_epoch is not None else (2 * total) // 3
    end = max(min(end, total - 1), 1)
    begin = min(begin, end - 1)
    span = end - begin
    frequency = min(config.frequency or max(1, min(100, span // 8)), span)
    end = begin + (span // frequency) * frequency
    return PruneSchedule(begin, end, frequency, total)


def prune(
    model: Any,
    data: Dataset,
    config: PruneConfig,
    finetune_config: FinetuneConfig,
    *,
    from_logits: bool,
    progress: Progress,
    teacher: SoftTargets | None = None,
) -> tuple[Any, dict[str, list[str]], list[str]]:
    """Prune and fine-tune ``model``.

    Returns the stripped model; per pruned layer, the names of the weights
    tfmot actually pruned (``kernel``, ``pointwise_kernel``, ...); and one
    note per layer tfmot cannot prune (left as it is, not an error).
    """
    schedule = resolve_schedule(config, data, finetune_config)
    if config.schedule == "constant":
        pruning_schedule = tfmot.sparsity.keras.ConstantSparsity(
            config.target_sparsity, begin_step=schedule.begin_step, end_step=schedule.end_step,
            frequency=schedule.frequency,
        )
    else:
        pruning_schedule = tfmot.sparsity.keras.PolynomialDecay(
            initial_sparsity=0.0, final_sparsity=config.target_sparsity,
            begin_step=schedule.begin_step, end_step=schedule.end_step, frequency=schedule.frequency,
        )
    notes: list[str] = []

    def wrap(layer: Any) -> Any:
        block = block_size(layer, config)
        try:
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=pruning_schedule,
                                                            block_size=(block, 1), block_pooling_type=BLOCK_POOLING)
        except ValueError:  # tfmot's answer for a layer kind it has no pruning rule for
            if layer.weights:
                notes.append(f"layer {layer.name} left unpruned: tfmot cannot prune {type(layer).__name__}")
            return layer

    if config.depthwise:
        model = depthwise.tunable(model)
    wrapped = tf_keras.models.clone_model(model, clone_function=wrap)
    # tfmot's wrapper keeps (weight, mask, threshold) for each weight it really prunes.
    pruned_names = {
        layer.layer.name: sorted(weight.name.split("/")[-1].split(":")[0] for weight, _, _ in layer.pruning_vars)
        for layer in wrapped.layers
        if getattr(layer, "pruning_vars", None)
    }
    finetune(
        wrapped, data, finetune_config, from_logits=from_logits, progress=progress,
        description="prune + fine-tune", callbacks=[tfmot.sparsity.keras.UpdatePruningStep()], teacher=teacher,
    )
    stripped = tfmot.sparsity.keras.strip_pruning(wrapped)
    return (depthwise.plain(stripped) if config.depthwise else stripped), pruned_names, notes

