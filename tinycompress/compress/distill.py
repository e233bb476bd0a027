"""Knowledge distillation: fine-tune every stage against the float model's soft targets.

The teacher is the float model as loaded, before any compression. The
fine-tuning data are not augmented, so its predictions on the training set
are computed once and ride along as extra columns of the targets: the
stages keep calling plain ``fit``, which tfmot's pruning, clustering and
QAT wrappers need, and no custom training loop is involved.

Teacher and student scores are turned into log-probabilities before the
temperature is applied. For a model ending in softmax, ``log softmax(z)``
differs from the logits ``z`` by one constant per sample, and softmax is
blind to such a shift, so ``softmax(log p / T) == softmax(z / T)``: this
is distillation from the logits, without rewiring a model whose softmax
may hide in a Dense activation, an Activation layer or a Lambda.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinycompress.compress.data import Dataset
from tinycompress.compress.metrics import CLASSIFICATION
from tinycompress.compress.recipe import DistillConfig
from tinycompress.compress.tfenv import tf, tf_keras
from tinycompress.errors import RecipeError

# Probabilities are clipped here before the log: the smallest normal float32
# keeps every probability the softmax did not underflow to zero exactly.
_TINY = float(np.finfo(np.float32).tiny)
PREDICT_BATCH = 256


@dataclass(frozen=True)
class SoftTargets:
    """The teacher's log-probabilities on ``data.x_train``, row for row, and the loss weights."""

    alpha: float
    temperature: float
    teacher: np.ndarray

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """Labels and teacher scores packed as one float32 array: column 0 the label, then the classes."""
        return np.concatenate([labels.reshape(-1, 1).astype(np.float32), self.teacher], axis=1)

    def loss(self, from_logits: bool) -> Callable[[Any, Any], Any]:
        """The per-sample loss for ``fit`` on :meth:`targets`."""
        return distillation_loss(self.alpha, self.temperature, from_logits)

    def to_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "temperature": self.temperature}


def log_probabilities(scores: Any, from_logits: bool) -> Any:
    """Log-probabilities up to a per-sample constant: logits as they are, probabilities through a clipped log."""
    return scores if from_logits else tf.math.log(tf.clip_by_value(scores, _TINY, 1.0))


def distillation_loss(alpha: float, temperature: float, from_logits: bool) -> Callable[[Any, Any], Any]:
    """``(1 - alpha) * CE(labels, student) + alpha * T² * KL(teacher_T || student_T)`` per sample.

    ``teacher_T`` and ``student_T`` are the softmax of the log-probabilities
    divided by ``T``; the T² keeps the soft term's gradients on the scale of
    the hard term's whatever the temperature (Hinton et al., 2015).
    """

    def loss(packed: Any, output: Any) -> Any:
        labels = packed[:, 0]
        teacher = tf.nn.log_softmax(packed[:, 1:] / temperature, axis=-1)
        student = tf.nn.log_softmax(log_probabilities(output, from_logits) / temperature, axis=-1)
        soft = tf.reduce_sum(tf.exp(teacher) * (teacher - student), axis=-1)
        hard = tf_keras.losses.sparse_categorical_crossentropy(labels, output, from_logits=from_logits)
        return (1.0 - alpha) * hard + alpha * temperature**2 * soft

    return loss


def check_classifier(model: Any, data: Dataset) -> None:
    """Refuse distillation where there are no class scores to distil (a regression or reconstruction model)."""
    shape = tuple(model.output_shape)
    if data.task != CLASSIFICATION or len(shape) != 2 or (shape[-1] or 0) < 2:
        raise RecipeError(
            f"recipe [distill] needs a classifier (one output of class scores, integer labels) but the task is "
            f"{data.task} and the model outputs shape {shape}; remove [distill] or set alpha = 0"
        )


def soft_targets(teacher: Any, data: Dataset, config: DistillConfig, *, from_logits: bool) -> SoftTargets:
    """Run the frozen ``teacher`` over the training set once (inference mode, no weight changes)."""
    check_classifier(teacher, data)
    scores = teacher.predict(data.x_train, batch_size=PREDICT_BATCH, verbose=0)
    logs = np.asarray(log_probabilities(tf.constant(scores, tf.float32), from_logits), dtype=np.float32)
    return SoftTargets(config.alpha, config.temperature, logs)
