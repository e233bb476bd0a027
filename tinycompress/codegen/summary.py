"""What ``inspect`` and the benchmarks report about a compiled model."""

from __future__ import annotations

from dataclasses import dataclass

from tinycompress.codegen.emit import GeneratedModel
from tinycompress.tflite.ir import Model


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
                "name": info.name,
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


def summarize(tflite_bytes: bytes, prefix: str = "tc_model") -> ModelSummary:
    """Read, verify and generate, ask TFLM for its arena and, when arm-none-eabi-gcc is
    installed, link for a Cortex-M4 to measure code (``.text``) and flash."""
    import shutil

    from tinycompress.codegen import generate
    from tinycompress.codegen.size import cortex_m4_size
    from tinycompress.oracle import TflmOracle
    from tinycompress.tflite import read_model

    model = read_model(tflite_bytes)
    generated = generate(model, prefix)
    tflm = TflmOracle(tflite_bytes).arena_bytes()
    if shutil.which("arm-none-eabi-gcc") is None:
        return ModelSummary(model, generated, tflm)
    size = cortex_m4_size(generated)
    return ModelSummary(model, generated, tflm, size.text, size.text + size.rodata)
