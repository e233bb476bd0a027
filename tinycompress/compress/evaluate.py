"""Accuracy of a Keras model (float) or an int8 .tflite (the TFLM interpreter),
and what the int8 weights really hold (zeros, distinct values per channel).

Int8 figures come from TFLM's reference kernels, the arithmetic a
microcontroller runs, never from the TFLite interpreter (they differ on a
few samples). Weight statistics are read from the flatbuffer itself, after
batch-norm folding and per-channel quantization, because that is what ends
up in flash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinycompress.compress.tfenv import tf_keras
from tinycompress.oracle import TflmOracle
from tinycompress.progress import Progress

_WEIGHTED_OPS = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1, "TRANSPOSE_CONV": 1}


@dataclass(frozen=True)
class Int8Evaluation:
    accuracy: float
    arena_bytes: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int


@dataclass(frozen=True)
class Int8Weights:
    """One weight tensor of a Conv/Depthwise/FullyConnected op in the int8 model."""

    op_index: int
    op: str
    tensor: str
    channels: int
    size: int
    sparsity: float
    max_unique_per_channel: int

    def belongs_to(self, layer_name: str) -> bool:
        """Whether the converter named this tensor after Keras layer ``layer_name``.

        TF names weight tensors ``<model>/<layer>/<op>`` (fused names are
        joined with ``;``), so the layer is one whole path component; after
        QAT, tfmot's wrapper adds a ``quant_`` prefix.
        """
        names = {layer_name, f"quant_{layer_name}"}
        return any(names.intersection(part.split("/")[1:-1]) for part in self.tensor.split(";"))


class _PredictProgress(tf_keras.callbacks.Callback):
    def __init__(self, task: Any) -> None:
        super().__init__()
        self._task = task

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        self._task.advance()


def keras_accuracy(model: Any, x: np.ndarray, y: np.ndarray, *, progress: Progress,
                   description: str, batch_size: int = 64) -> float:
    """Top-1 accuracy of a (float) Keras model."""
    task = progress.task(description, math.ceil(len(x) / batch_size))
    try:
        scores = model.predict(x, batch_size=batch_size, verbose=0, callbacks=[_PredictProgress(task)])
    finally:
        task.close()
    return float(np.mean(np.argmax(scores, axis=-1) == y))


def int8_accuracy(tflite: bytes, x: np.ndarray, y: np.ndarray, *, progress: Progress,
                  description: str = "int8 on TFLM") -> Int8Evaluation:
    """Top-1 accuracy of an int8 model on the TFLM interpreter, and its arena."""
    oracle = TflmOracle(tflite)
    outputs = oracle.run_batch(oracle.input.quantize(x), progress, description)
    predictions = np.argmax(outputs.reshape(len(x), -1), axis=-1)
    return Int8Evaluation(
        accuracy=float(np.mean(predictions == y)),
        arena_bytes=oracle.arena_bytes(),
        input_scale=oracle.input.scale,
        input_zero_point=oracle.input.zero_point,
        output_scale=oracle.output.scale,
        output_zero_point=oracle.output.zero_point,
    )


def int8_weights(tflite: bytes) -> list[Int8Weights]:
    """Zeros and distinct values per output channel of every int8 weight tensor."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))
    graph = model.subgraphs[0]
    found = []
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
        per_channel = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
        found.append(Int8Weights(
            op_index=index,
            op=name,
            tensor=tensor.name.decode() if isinstance(tensor.name, bytes) else str(tensor.name),
            channels=int(per_channel.shape[0]),
            size=int(values.size),
            sparsity=float(np.mean(values == 0)),
            max_unique_per_channel=max(len(np.unique(row)) for row in per_channel),
        ))
    return found
