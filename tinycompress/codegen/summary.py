"""What ``inspect`` and the benchmarks report about a compiled model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinycompress.codegen.emit import GeneratedModel, LayerInfo
from tinycompress.codegen.storage import DEFAULT_ARCH, DEFAULT_OBJECTIVE
from tinycompress.tflite.ir import Model

# The TF ops the converter fuses into a layer's output name after its main op
# (activation, batch norm, bias): they name the fused extras, not the layer.
_FUSED = re.compile(r"(Relu6?|FusedBatchNorm\w*|BiasAdd|batchnorm|Sigmoid|Tanh)\d*")


def keras_layer(tensor_name: str) -> str | None:
    """The Keras layer behind a converter tensor name, or None when the name does not carry one.

    TFLite names an op's output ``model/conv2d_1/Conv2D`` (model scope, layer,
    TF ops) or, after fusing, ``model/re_lu/Relu;model/batch_normalization/
    FusedBatchNormV3;model/conv2d/Conv2D1``: the layer of the main op is the
    first scope whose TF ops are not fused extras. Outputs the converter
    renamed (``StatefulPartitionedCall:0``) carry none.
    """
    scopes = [_split(part) for part in tensor_name.split(";") if "/" in part]
    if not scopes:
        return None
    main = next((scope for scope in scopes if not any(_FUSED.fullmatch(op) for op in scope[1])), scopes[0])
    return main[0]


def _split(scope: str) -> tuple[str, list[str]]:
    """``model/layer/op/...`` (or ``layer/op``) into the layer and its TF ops."""
    path = scope.split("/")
    return (path[1], path[2:]) if len(path) >= 3 else (path[0], path[1:])


def layer_name(layer: LayerInfo) -> str:
    """A short readable name for reports: ``CONV_2D#3:conv2d_1`` (op, index, Keras layer when known).

    Output tensor names run to a hundred characters; tables, the verify
    message and report.json name a layer by this instead (the raw tensor
    name stays in its own field).
    """
    keras = keras_layer(layer.name)
    return f"{layer.op}#{layer.index}" + (f":{keras}" if keras else "")


@dataclass(frozen=True)
class ModelSummary:
    model: Model
    generated: GeneratedModel
    tflm_arena_bytes: int
    code_bytes: int | None = None
    flash_bytes: int | None = None

    def to_dict(self) -> dict[str, object]:
        m, g = self.model, self.generated
        layers = []
        for info in g.layers:
            op = m.operators[info.node]
            layers.append({
                "index": info.index,
                "node": info.node,
                "op": info.op,
                "kernel": info.kernel,
                "weights_storage": info.storage,
                "weights_storage_reason": info.storage_reason,
                "scratch_bytes": info.scratch_bytes,
                "name": layer_name(info),
                "tensor": info.name,
                "input_shapes": [list(m.tensors[i].shape) for i in op.inputs
                                 if i >= 0 and not m.tensors[i].is_constant],
                "output_shape": list(m.tensors[info.output_tensor].shape),
                "macs": info.macs,
                "weights_bytes": info.const_bytes,
                "output_offset": info.output_offset,
                "output_bytes": info.output_bytes,
            })
        return {
            "model_sha256": m.sha256,
            "input": {"shape": list(m.input.shape), "dtype": m.input.dtype,
                      "scale": m.input.quant.scale[0] if m.input.quant else None,
                      "zero_point": m.input.quant.zero_point[0] if m.input.quant else None},
            "output": {"shape": list(m.output.shape), "dtype": m.output.dtype},
            "ops": sorted({op.op for op in m.operators}),
            "layers": layers,
            "macs": g.macs,
            "weights_bytes": g.weights_bytes,
            "arena_bytes": g.arena_bytes,
            "tflm_arena_bytes": self.tflm_arena_bytes,
            "arena_ratio": round(g.arena_bytes / self.tflm_arena_bytes, 3) if self.tflm_arena_bytes else None,
            "code_bytes": self.code_bytes,
            "flash_bytes": self.flash_bytes,
        }


def summarize(tflite_bytes: bytes, prefix: str = "tc_model", optimize: str = DEFAULT_OBJECTIVE,
              runtime_arch: str = DEFAULT_ARCH) -> ModelSummary:
    """Read, verify and generate (weight storage by the ``optimize`` objective, ranked for the
    ``runtime_arch`` kernel chain: the Cortex-M4's unless a board says otherwise), ask TFLM for its
    arena and, when arm-none-eabi-gcc is installed, link for a Cortex-M4 to measure code
    (``.text``) and flash."""
    import shutil

    from tinycompress.codegen import generate
    from tinycompress.codegen.size import cortex_m4_size
    from tinycompress.oracle import TflmOracle
    from tinycompress.tflite import read_model

    model = read_model(tflite_bytes)
    generated = generate(model, prefix, optimize, runtime_arch)
    tflm = TflmOracle(tflite_bytes).arena_bytes()
    if shutil.which("arm-none-eabi-gcc") is None:
        return ModelSummary(model, generated, tflm)
    size = cortex_m4_size(generated)
    return ModelSummary(model, generated, tflm, size.text, size.text + size.rodata)
