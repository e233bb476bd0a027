"""Fine-tuning shared by the prune, cluster and QAT stages, with progress bars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinycompress.compress.data import Dataset
from tinycompress.compress.metrics import CLASSIFICATION
from tinycompress.compress.distill import SoftTargets
from tinycompress.compress.recipe import FinetuneConfig
from tinycompress.compress.tfenv import tf_keras
from tinycompress.progress import Progress, Task


class _ProgressCallback(tf_keras.callbacks.Callback):
    """Advances one ``Progress`` task per training batch."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self._task = task

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._task.advance()


class KeepZeros(tf_keras.callbacks.Callback):
    """Holds pruned zeros at zero while a later stage fine-tunes.

    tfmot only preserves sparsity in the layers it wraps; a pruned layer
    the clustering stage leaves alone (too small, or a kind tfmot does not
    cluster) would otherwise regrow its zeros.
    """

    def __init__(self, masks: list[tuple[Any, np.ndarray]]) -> None:
        super().__init__()
        self._masks = masks

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        for variable, mask in self._masks:
            variable.assign(variable * mask)


KERNEL_NAMES = frozenset({"kernel", "depthwise_kernel", "pointwise_kernel"})


def zero_masks(layers: list[Any]) -> list[tuple[Any, np.ndarray]]:
    """(variable, mask) for every kernel of ``layers`` that holds exact zeros.

    Kernels are matched by exact name: QAT wrappers add range variables
    such as ``kernel_min`` that must not be masked.
    """
    masks = []
    for layer in layers:
        for weight in layer.weights:
            if weight.name.split("/")[-1].split(":")[0] in KERNEL_NAMES:
                mask = (weight.numpy() != 0).astype(weight.dtype.as_numpy_dtype)
                if not mask.all():
                    masks.append((weight, mask))
    return masks


def steps_per_epoch(data: Dataset, config: FinetuneConfig) -> int:
    return math.ceil(len(data.x_train) / config.batch_size)


def outputs_are_probabilities(model: Any, x: np.ndarray) -> bool:
    """Whether the model ends in a softmax (else its outputs are logits).

    Asked of the outputs rather than the last layer's config, because a
    softmax can hide in an Activation layer, a Dense layer or a Lambda.
    """
    out = model(x[:32], training=False).numpy()
    return bool(np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1.0, atol=1e-3))


def task_loss(task: str, from_logits: bool, reduction: str = "sum_over_batch_size") -> Any:
    """The training loss of ``task``: cross-entropy on class labels, else the mean squared error of the targets.

    An autoencoder or a regression model fine-tuned with a classification
    loss would drift from what it was trained for while the labels say nothing.
    """
    if task == CLASSIFICATION:
        return tf_keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=reduction)
    return tf_keras.losses.MeanSquaredError(reduction=reduction)


def compile_for_finetune(model: Any, config: FinetuneConfig, from_logits: bool,
                         teacher: SoftTargets | None = None, task: str = CLASSIFICATION) -> None:
    """The task's loss, or with ``teacher`` the distillation loss (whose packed targets accuracy cannot read)."""
    model.compile(
        optimizer=tf_keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=teacher.loss(from_logits) if teacher else task_loss(task, from_logits),
        metrics=[] if teacher or task != CLASSIFICATION else ["accuracy"],
    )


def finetune(
    model: Any,
    data: Dataset,
    config: FinetuneConfig,
    *,
    from_logits: bool,
    progress: Progress,
    description: str,
    callbacks: list[Any] | None = None,
    teacher: SoftTargets | None = None,
) -> None:
    """Train ``model`` in place for ``config.epochs`` epochs (seeded, shuffled); distil from ``teacher`` if given."""
    tf_keras.utils.set_random_seed(config.seed)
    compile_for_finetune(model, config, from_logits, teacher, data.task)
    steps = steps_per_epoch(data, config)
    task = progress.task(description, steps * config.epochs)
    try:
        model.fit(
            data.x_train,
            teacher.targets(data.y_train) if teacher else data.y_train,
            batch_size=config.batch_size,
            epochs=config.epochs,
            shuffle=True,
            verbose=0,
            callbacks=[*(callbacks or []), _ProgressCallback(task)],
        )
    finally:
        task.close()

