"""The task a model solves and the metric each stage reports for it, in numpy only.

Compress (float, every stage, int8 on TFLM) and profile (the device, host
int8) share these functions, so a figure means the same thing in every
report. Report keys name the metric: ``accuracy`` for classification,
``mse`` and ``mae`` for regression and autoencoders, plus ``roc_auc`` (of the
per-sample reconstruction error) for an autoencoder whose test set carries
normal/anomalous labels.
"""

from __future__ import annotations

import numpy as np

CLASSIFICATION = "classification"
REGRESSION = "regression"
AUTOENCODER = "autoencoder"
TASKS = (CLASSIFICATION, REGRESSION, AUTOENCODER)


def metric_names(task: str, has_anomaly: bool = False) -> tuple[str, ...]:
    """The report keys of ``task``'s metrics, in the order reports list them."""
    if task == CLASSIFICATION:
        return ("accuracy",)
    return ("mse", "mae", "roc_auc") if task == AUTOENCODER and has_anomaly else ("mse", "mae")


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve of ``scores`` ranking anomalies (label 1) above normal samples (label 0).

    The Mann-Whitney statistic with ties counted half, which is what
    MLPerf Tiny's anomaly-detection score (scikit-learn's ``roc_auc_score``)
    computes; ``None`` when the labels hold only one class.
    """
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels).astype(bool)
    positives, negatives = scores[labels], scores[~labels]
    if len(positives) == 0 or len(negatives) == 0:
        return None
    greater = (positives[:, np.newaxis] > negatives[np.newaxis, :]).sum()
    ties = (positives[:, np.newaxis] == negatives[np.newaxis, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


def task_metrics(task: str, outputs: np.ndarray, targets: np.ndarray,
                 anomaly: np.ndarray | None = None) -> dict[str, float | None]:
    """``task``'s metrics of float ``outputs`` (one row per sample) against ``targets``.

    Classification: top-1 accuracy against integer labels. Regression and
    autoencoders: mean squared and absolute error over every output value;
    with ``anomaly`` (0/1 per sample) an autoencoder also gets the ROC AUC of
    each sample's reconstruction MSE.
    """
    outputs = np.asarray(outputs)
    rows = outputs.reshape(len(outputs), -1)
    if task == CLASSIFICATION:
        return {"accuracy": float(np.mean(rows.argmax(axis=1) == np.asarray(targets)))}
    error = rows.astype(np.float64) - np.asarray(targets, np.float64).reshape(len(rows), -1)
    found: dict[str, float | None] = {"mse": float(np.mean(error ** 2)), "mae": float(np.mean(np.abs(error)))}
    if task == AUTOENCODER and anomaly is not None:
        found["roc_auc"] = roc_auc(np.mean(error ** 2, axis=1), anomaly)
    return found
