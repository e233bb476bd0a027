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

from tinycompress.errors import InputError
from tinycompress.project.resources import RUNTIME_DIR


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

    def header(self) -> str:
        """The generated header the application includes."""
        headers = [name for name in self.files if name.endswith(".h")]
        if len(headers) != 1:
            raise InputError(f"generated model has headers {headers}; expected exactly one")
        return headers[0]


def runtime_tree(paths: list[Path]) -> tuple[Path, ...]:
    """Runtime sources plus every runtime header, as absolute paths under firmware/runtime/."""
    headers = [path for path in RUNTIME_DIR.rglob("*.h") if path.is_file()]
    files = {Path(p).resolve() for p in [*paths, *headers]}
    outside = [str(p) for p in files if RUNTIME_DIR.resolve() not in p.parents]
    if outside:
        raise InputError(f"runtime files outside {RUNTIME_DIR}: {', '.join(outside)}")
    return tuple(sorted(files))


def from_generated(generated: Any, runtime_sources: list[Path], *, name: str, tflite: bytes) -> ModelSources:
    """Adapt codegen's ``GeneratedModel`` (files, prefix, sizes, layers, model_sha256)."""
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
    )


def model_sources_from_tflite(path: Path, *, prefix: str = "tc_model", runtime_arch: str | None = None) -> ModelSources:
    """Read, verify and compile an int8 ``.tflite`` into the sources of a project.

    ``runtime_arch`` picks optimised kernels (a board's ``runtime_arch``);
    they compute the same bytes as the reference kernels.
    """
    from tinycompress.codegen import generate, runtime_sources
    from tinycompress.tflite import read_model

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read model {path}: {exc.strerror}; pass an int8 .tflite file") from exc
    generated = generate(read_model(data), prefix=prefix)
    return from_generated(generated, runtime_sources(runtime_arch), name=path.stem, tflite=data)
