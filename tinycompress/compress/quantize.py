"""Full-integer int8 conversion (PTQ) and quantization-aware training (QAT).

QAT uses tfmot's collaborative schemes so fine-tuning with fake quantization
keeps what the earlier stages made: PQAT keeps the zeros, CQAT the
clusters, PCQAT both.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinycompress.compress.data import Dataset
from tinycompress.compress.distill import SoftTargets
from tinycompress.compress.recipe import FinetuneConfig, QuantizeConfig
from tinycompress.compress.tfenv import native_stderr_dropped, tf, tfmot
from tinycompress.compress.train import KeepZeros, finetune, zero_masks
from tinycompress.errors import UnsupportedError
from tinycompress.progress import Progress


def calibration_set(data: Dataset, config: QuantizeConfig, seed: int) -> np.ndarray:
    """A seeded random subset of the training samples for activation ranges."""
    count = min(config.calibration_samples, len(data.x_train))
    order = np.random.default_rng(seed).permutation(len(data.x_train))[:count]
    return data.x_train[np.sort(order)]


def to_int8(model: Any, calibration: np.ndarray, *, dense_per_tensor: bool = False) -> bytes:
    """Full-integer TFLite: int8 input and output, per-channel int8 weights.

    With ``dense_per_tensor`` (a clustered model), Dense kernels get one scale for the whole
    tensor, so their <= 16 shared centroids stay <= 16 int8 values shared by every row: codegen
    then packs one 16-byte palette for the layer and the fast packed FULLY_CONNECTED kernels
    can decode it through one table (docs/codegen.md, "Weight storage")."""

    def representative() -> Iterator[list[np.ndarray]]:
        for sample in calibration:
            yield [sample[np.newaxis].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = dense_per_tensor
    return _convert(converter, "int8")


def to_float32(model: Any) -> bytes:
    """Plain float32 TFLite, the size baseline the int8 model is compared to."""
    return _convert(tf.lite.TFLiteConverter.from_keras_model(model), "float32")


def _convert(converter: Any, kind: str) -> bytes:
    try:
        with native_stderr_dropped(), warnings.catch_warnings():
            # Expected: int8 inputs get their statistics from the representative data.
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
            return bytes(converter.convert())
    except Exception as exc:  # the converter raises ConverterError, ValueError, ...
        detail = next((line.strip() for line in str(exc).splitlines() if "error" in line.lower()), str(exc)[:200])
        raise UnsupportedError(
            f"the TFLite converter cannot make a {kind} model ({detail}); "
            "use layers with int8 TFLite kernels (Conv, Dense, pooling, ReLU, Add, ...)"
        ) from None


def quantization_aware_training(
    model: Any,
    data: Dataset,
    finetune_config: FinetuneConfig,
    *,
    pruned: bool,
    clustered: bool,
    from_logits: bool,
    progress: Progress,
    teacher: SoftTargets | None = None,
) -> tuple[Any, str]:
    """Fine-tune ``model`` with fake quantization; return it and the scheme's name."""
    combine = tfmot.experimental.combine
    if clustered:
        scheme, name = combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=pruned), (
            "PCQAT" if pruned else "CQAT"
        )
    elif pruned:
        scheme, name = combine.Default8BitPrunePreserveQuantizeScheme(), "PQAT"
    else:
        scheme, name = tfmot.quantization.keras.default_8bit.Default8BitQuantizeScheme(), "QAT"
    try:
        annotated = tfmot.quantization.keras.quantize_annotate_model(model)
        qat_model = tfmot.quantization.keras.quantize_apply(annotated, scheme)
    except (ValueError, RuntimeError) as exc:
        raise UnsupportedError(
            f"tfmot cannot apply {name} to this model ({str(exc).splitlines()[0][:200]}); "
            'use [quantize] mode = "ptq"'
        ) from None
    finetune(qat_model, data, finetune_config, from_logits=from_logits, progress=progress,
             description=f"{name} fine-tune", callbacks=[KeepZeros(zero_masks(qat_model.layers))], teacher=teacher)
    return qat_model, name
