"""What a firmware project needs from a compiled model.

``ModelSources`` is the project stage's view of codegen's ``GeneratedModel``:
the generated files, the runtime sources they need, and the sizes the fit
check uses. Keeping it small lets the project stage be tested with any model
that follows the generated-model C API (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress.errors import InputError, UnsupportedError
from tinycompress.resources import runtime_dir


@dataclass(frozen=True)
class ModelSources:
    """Generated model C plus the runtime files a build of it needs."""

    name: str
    sha256: str
    prefix: str
    files: dict[str, str]
    runtime_files: tuple[Path, ...]
    arena_bytes: int
    weights_bytes: int
    num_layers: int
    tflite: bytes
    # Per weighted layer: name, storage, why the objective picked it, decode scratch bytes.
    weights_storage: tuple[dict[str, Any], ...] = ()
    # The TC_WEIGHT_FORMATS mask the runtime is built with (codegen's weight_formats): only the
    # decode code of the formats the layers use is linked. Every format (0x1F, TC_FORMAT_ALL) unless told.
    weight_formats: int = 0x1F

    def header(self) -> str:
        """The generated header the application includes."""
        headers = [name for name in self.files if name.endswith(".h")]
        if len(headers) != 1:
            raise InputError(f"generated model has headers {headers}; expected exactly one")
        return headers[0]


def runtime_tree(paths: list[Path]) -> tuple[Path, ...]:
    """Runtime sources plus every runtime header but the on-core checkers' (tests/), as absolute paths
    under firmware/runtime/."""
    runtime = runtime_dir()
    headers = [path for path in runtime.rglob("*.h")
               if path.is_file() and path.relative_to(runtime).parts[0] != "tests"]
    files = {Path(p).resolve() for p in [*paths, *headers]}
    outside = [str(p) for p in files if runtime.resolve() not in p.parents]
    if outside:
        raise InputError(f"runtime files outside {runtime}: {', '.join(outside)}")
    return tuple(sorted(files))


def from_generated(generated: Any, runtime_sources: list[Path], *, name: str, tflite: bytes) -> ModelSources:
    """Adapt codegen's ``GeneratedModel`` (files, prefix, sizes, layers, model_sha256, weight_formats).

    Float-I/O models are refused: the device protocol and ``profile`` move int8
    tensors (INFO carries no element type), so only ``verify`` runs them, on the host.
    """
    edges = [f"{kind} is {dtype}" for kind, dtype in (("input", generated.input_dtype),
                                                     ("output", generated.output_dtype)) if dtype != "int8"]
    if edges:
        raise UnsupportedError(
            f"model {name}: its {' and its '.join(edges)} (QUANTIZE/DEQUANTIZE at the edges); a device "
            "project exchanges int8 tensors only; check it on the host with `tinycompress verify`, or "
            "convert it with inference_input_type = inference_output_type = tf.int8 to export it"
        )
    return ModelSources(
        name=name,
        sha256=generated.model_sha256,
        prefix=generated.prefix,
        files=dict(generated.files),
        runtime_files=runtime_tree(runtime_sources),
        arena_bytes=int(generated.arena_bytes),
        weights_bytes=int(generated.weights_bytes),
        num_layers=len(generated.layers),
        tflite=tflite,
        weights_storage=tuple(weights_storage(generated.layers)),
        weight_formats=int(generated.weight_formats),
    )


def weights_storage(layers: Any) -> list[dict[str, Any]]:
    """The storage table of the report: each weighted layer's storage and why it was chosen."""
    from tinycompress.codegen.summary import layer_name

    return [{"layer": layer_name(layer), "storage": layer.storage, "reason": layer.storage_reason,
             "scratch_bytes": layer.scratch_bytes} for layer in layers if layer.storage != "-"]


def model_sources_from_tflite(path: Path, *, prefix: str = "tc_model", runtime_arch: str | None = None,
                              optimize: str = "balanced") -> ModelSources:
    """Read, verify and compile an int8 ``.tflite`` into the sources of a project.

    ``runtime_arch`` (a board's, a key of ``RUNTIME_ARCH_CHAINS``) picks the
    optimised kernels of its chain of arch folders; they compute the same bytes
    as the reference kernels of src/, which None builds alone. ``optimize``
    ("size", "speed", "balanced") picks each layer's weight storage
    (tinycompress.codegen.storage), ranked with the costs of that chain's
    kernels (of the Cortex-M4's, storage.DEFAULT_ARCH, for None).
    """
    from tinycompress.codegen import generate, runtime_sources
    from tinycompress.codegen.storage import DEFAULT_ARCH
    from tinycompress.tflite import read_model

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read model {path}: {exc.strerror}; pass an int8 .tflite file") from exc
    generated = generate(read_model(data, str(path)), prefix=prefix, optimize=optimize,
                         runtime_arch=runtime_arch or DEFAULT_ARCH)
    return from_generated(generated, runtime_sources(runtime_arch), name=path.stem, tflite=data)
