"""The compression recipe: a small TOML file, with defaults for every key.

Unknown keys are errors, not warnings: a misspelt ``target_sparsty`` that
silently fell back to the default would compress the wrong way.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinycompress.errors import RecipeError

CLUSTER_INITS = ("kmeans++", "linear", "density", "random")
QUANTIZE_MODES = ("ptq", "qat")
SCHEDULES = ("polynomial", "constant")


@dataclass(frozen=True)
class PruneConfig:
    """Magnitude pruning. ``begin``/``end`` count epochs (``*_epoch``) or steps (``*_step``).

    When neither end is given, the target is reached after two thirds of the
    fine-tuning, leaving the rest to recover accuracy at full sparsity.
    ``depthwise`` also prunes DepthwiseConv2D kernels, which tfmot skips.
    """

    target_sparsity: float = 0.5
    schedule: str = "polynomial"
    begin_step: int | None = None
    end_step: int | None = None
    begin_epoch: float | None = None
    end_epoch: float | None = None
    frequency: int | None = None
    depthwise: bool = False

    @property
    def enabled(self) -> bool:
        return self.target_sparsity > 0


@dataclass(frozen=True)
class ClusterConfig:
    """Per-layer k-means codebooks; ``depthwise`` also clusters DepthwiseConv2D kernels."""

    clusters: int = 16
    init: str = "kmeans++"
    preserve_sparsity: bool = True
    depthwise: bool = False

    @property
    def enabled(self) -> bool:
        return self.clusters > 0


@dataclass(frozen=True)
class QuantizeConfig:
    mode: str = "ptq"
    calibration_samples: int = 200


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning after each stage (pruning, clustering, and QAT)."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0


@dataclass(frozen=True)
class Recipe:
    prune: PruneConfig = field(default_factory=PruneConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    quantize: QuantizeConfig = field(default_factory=QuantizeConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)

    def to_dict(self) -> dict[str, Any]:
        """Every value, defaults included, as a TOML-shaped dict (for report.json)."""
        return {
            section.name: {k: v for k, v in dataclasses.asdict(getattr(self, section.name)).items() if v is not None}
            for section in dataclasses.fields(self)
        }


_SECTIONS: dict[str, type] = {
    "prune": PruneConfig,
    "cluster": ClusterConfig,
    "quantize": QuantizeConfig,
    "finetune": FinetuneConfig,
}


def load_recipe(path: str | Path | None) -> Recipe:
    """Read a recipe file; ``None`` gives the defaults."""
    if path is None:
        return Recipe()
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"recipe {source} not found; give a TOML file or leave --recipe out for the defaults") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"recipe {source} cannot be read ({exc}); give a UTF-8 TOML file") from None
    return parse_recipe(text, str(source))


def parse_recipe(text: str, source: str = "recipe") -> Recipe:
    """Parse recipe TOML text; every problem is a one-line ``RecipeError``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{source} is not valid TOML ({exc}); fix the syntax") from None
    sections: dict[str, Any] = {}
    for name, values in raw.items():
        if name not in _SECTIONS:
            raise RecipeError(f"{source}: unknown section [{name}]; known sections: {', '.join(_SECTIONS)}")
        if not isinstance(values, dict):
            raise RecipeError(f"{source}: {name} must be a [{name}] table, not a value")
        sections[name] = _build_section(source, name, values)
    recipe = Recipe(**sections)
    _check(source, recipe)
    return recipe


def _build_section(source: str, name: str, values: dict[str, Any]) -> Any:
    cls = _SECTIONS[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in fields:
            raise RecipeError(f"{source}: unknown key {key!r} in [{name}]; known keys: {', '.join(fields)}")
        _check_type(source, name, key, value, fields[key].type)
    return cls(**{k: (float(v) if "float" in fields[k].type and isinstance(v, int) else v) for k, v in values.items()})


def _check_type(source: str, section: str, key: str, value: Any, annotation: str) -> None:
    if "bool" in annotation:
        ok, kind = isinstance(value, bool), "true or false"
    elif "float" in annotation:
        ok, kind = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    elif "int" in annotation:
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "an integer"
    else:
        ok, kind = isinstance(value, str), "a string"
    if not ok:
        raise RecipeError(f"{source}: [{section}] {key} = {value!r} must be {kind}")


def _check(source: str, r: Recipe) -> None:
    p, c, q, f = r.prune, r.cluster, r.quantize, r.finetune
    if not (0 <= p.target_sparsity < 1) or math.isnan(p.target_sparsity):
        raise RecipeError(f"{source}: [prune] target_sparsity = {p.target_sparsity} is outside [0, 1); use e.g. 0.5 (0 disables pruning)")
    _one_of(source, "prune", "schedule", p.schedule, SCHEDULES)
    if (p.begin_step is not None or p.end_step is not None) and (p.begin_epoch is not None or p.end_epoch is not None):
        raise RecipeError(f"{source}: [prune] mixes *_step and *_epoch keys; give begin/end in steps or in epochs, not both")
    for key in ("begin_step", "end_step", "begin_epoch", "end_epoch"):
        value = getattr(p, key)
        if value is not None and value < 0:
            raise RecipeError(f"{source}: [prune] {key} = {value} is negative; give a value >= 0")
    begin = p.begin_step if p.begin_step is not None else p.begin_epoch
    end = p.end_step if p.end_step is not None else p.end_epoch
    if begin is not None and end is not None and end <= begin:
        raise RecipeError(f"{source}: [prune] ends ({end}) before it begins ({begin}); make the end larger than the begin")
    if p.frequency is not None and p.frequency < 1:
        raise RecipeError(f"{source}: [prune] frequency = {p.frequency} must be >= 1 step")
    minimum = 3 if c.preserve_sparsity else 2
    if c.clusters != 0 and c.clusters < minimum:
        hint = " with preserve_sparsity = true (one cluster is pinned to zero)" if c.preserve_sparsity else ""
        raise RecipeError(f"{source}: [cluster] clusters = {c.clusters} must be >= {minimum}{hint}, or 0 to disable clustering")
    if c.clusters > 256:
        raise RecipeError(f"{source}: [cluster] clusters = {c.clusters} exceeds the 256 values of int8; use at most 256")
    _one_of(source, "cluster", "init", c.init, CLUSTER_INITS)
    _one_of(source, "quantize", "mode", q.mode, QUANTIZE_MODES)
    if q.calibration_samples < 1:
        raise RecipeError(f"{source}: [quantize] calibration_samples = {q.calibration_samples} must be >= 1")
    if f.epochs < 1:
        raise RecipeError(f"{source}: [finetune] epochs = {f.epochs} must be >= 1 (fine-tuning recovers accuracy after each stage)")
    if f.batch_size < 1:
        raise RecipeError(f"{source}: [finetune] batch_size = {f.batch_size} must be >= 1")
    if not (0 < f.learning_rate < 1):
        raise RecipeError(f"{source}: [finetune] learning_rate = {f.learning_rate} must be in (0, 1)")


def _one_of(source: str, section: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise RecipeError(f"{source}: [{section}] {key} = {value!r} is not one of {', '.join(map(repr, allowed))}")
