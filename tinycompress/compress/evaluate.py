"""Accuracy of a Keras model (float) or an int8 .tflite (the TFLM interpreter),
and what the int8 weights really hold (zeros, distinct values per channel).

Int8 figures come from TFLM's reference kernels, the arithmetic a
microcontroller runs, never from the TFLite interpreter (they differ on a
few samples). Weight statistics are read from the flatbuffer itself, after
batch-norm folding and per-channel quantization, because that is what ends
up in flash.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinycompress.compress.metrics import CLASSIFICATION, task_metrics
from tinycompress.compress.tfenv import tf_keras
from tinycompress.oracle import TflmOracle
from tinycompress.progress import Progress

_WEIGHTED_OPS = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1, "TRANSPOSE_CONV": 1}


@dataclass(frozen=True)
class Int8Evaluation:
    """The int8 model on TFLM: ``metrics`` by report key (``accuracy``, or ``mse``/``mae``/``roc_auc``)."""

    accuracy: float | None
    arena_bytes: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    metrics: dict[str, float | None] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Int8Weights:
    """One weight tensor of a Conv/Depthwise/FullyConnected op in the int8 model.

    ``shape`` is TFLite's (output channels first); with ``op`` and the op
    order it is what ties the tensor to its Keras layer, since the tensor's
    name may be another layer's after batch-norm folding.
    """

    op_index: int
    op: str
    tensor: str
    shape: tuple[int, ...]
    channels: int
    size: int
    sparsity: float
    max_unique_per_channel: int


class _PredictProgress(tf_keras.callbacks.Callback):
    def __init__(self, task: Any) -> None:
        super().__init__()
        self._task = task

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        self._task.advance()


def keras_accuracy(model: Any, x: np.ndarray, y: np.ndarray, *, progress: Progress,
                   description: str, batch_size: int = 64) -> float:
    """Top-1 accuracy of a (float) Keras model."""
    return keras_metrics(model, x, y, progress=progress, description=description, batch_size=batch_size)["accuracy"]


def keras_metrics(model: Any, x: np.ndarray, y: np.ndarray, *, progress: Progress, description: str,
                  task: str = CLASSIFICATION, anomaly: np.ndarray | None = None,
                  batch_size: int = 64) -> dict[str, float | None]:
    """``task``'s metrics of a (float) Keras model on ``x`` against ``y`` (see ``metrics.task_metrics``)."""
    bar = progress.task(description, math.ceil(len(x) / batch_size))
    try:
        outputs = model.predict(x, batch_size=batch_size, verbose=0, callbacks=[_PredictProgress(bar)])
    finally:
        bar.close()
    return task_metrics(task, outputs, y, anomaly)


def int8_accuracy(tflite: bytes, x: np.ndarray, y: np.ndarray, *, progress: Progress,
                  description: str = "int8 on TFLM", task: str = CLASSIFICATION,
                  anomaly: np.ndarray | None = None) -> Int8Evaluation:
    """``task``'s metrics of an int8 model on the TFLM interpreter (outputs dequantised), and its arena."""
    oracle = TflmOracle(tflite)
    outputs = oracle.run_batch(oracle.input.quantize(x), progress, description)
    metrics = task_metrics(task, oracle.output.dequantize(outputs.reshape(len(x), -1)), y, anomaly)
    return Int8Evaluation(
        accuracy=metrics.get("accuracy"),
        metrics=metrics,
        arena_bytes=oracle.arena_bytes(),
        input_scale=oracle.input.scale,
        input_zero_point=oracle.input.zero_point,
        output_scale=oracle.output.scale,
        output_zero_point=oracle.output.zero_point,
    )


def _weight_tensors(tflite: bytes) -> Iterator[tuple[int, str, str, np.ndarray, int]]:
    """(op index, op, tensor name, int8 values, channel axis) of every int8 weight tensor, in op order."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    graph = model.subgraphs[0]
    for index, op in enumerate(graph.operators):
        code = model.operatorCodes[op.opcodeIndex]
        name = op_names.get(max(code.builtinCode, code.deprecatedBuiltinCode), "?")
        if name not in _WEIGHTED_OPS:
            continue
        tensor = graph.tensors[op.inputs[_WEIGHTED_OPS[name]]]
        data = model.buffers[tensor.buffer].data
        if tensor.type != schema.TensorType.INT8 or data is None:
            continue
        values = np.frombuffer(bytes(data), dtype=np.int8).reshape([int(d) for d in tensor.shape])
        axis = tensor.quantization.quantizedDimension if tensor.quantization else 0
        label = tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name)
        yield index, name, label, values, axis


def int8_weights(tflite: bytes) -> list[Int8Weights]:
    """Zeros and distinct values per output channel of every int8 weight tensor."""
    found = []
    for index, name, label, values, axis in _weight_tensors(tflite):
        per_channel = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
        found.append(Int8Weights(
            op_index=index,
            op=name,
            tensor=label,
            shape=tuple(int(d) for d in values.shape),
            channels=int(per_channel.shape[0]),
            size=int(values.size),
            sparsity=float(np.mean(values == 0)),
            max_unique_per_channel=max(len(np.unique(row)) for row in per_channel),
        ))
    return found


def int8_weight_values(tflite: bytes) -> dict[int, np.ndarray]:
    """The int8 weight values per op index (TFLite layout): what ties parallel same-shaped layers to their ops."""
    return {index: values for index, _, _, values, _ in _weight_tensors(tflite)}
