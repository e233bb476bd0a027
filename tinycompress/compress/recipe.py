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
CHANNEL_CRITERIA = ("l2", "bn_gamma", "taylor")
PRUNE_BLOCKS = (1, 2, 4, 8, 16)  # [prune] block: consecutive input weights of a Dense unit kept or dropped together
SEED_LIMIT = 2**32  # tf_keras.utils.set_random_seed and NumPy take a 32-bit unsigned seed


@dataclass(frozen=True)
class ChannelsConfig:
    """Structured pruning: the fraction of filters each layer keeps (``layers`` overrides ``keep`` by name).

    ``criterion`` ranks filters by kernel L2 norm, by the following
    BatchNormalization's |gamma|, or by the first-order Taylor estimate of
    the loss change on training samples; ``steps`` rounds of prune → fine-tune
    reach the target gradually. ``multiple`` rounds each kept count to a
    multiple of it (the widths the device kernels' fast paths want).
    """

    keep: float = 1.0
    criterion: str = "l2"
    steps: int = 1
    multiple: int = 1
    layers: dict[str, float] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.keep < 1 or any(fraction < 1 for fraction in self.layers.values())


@dataclass(frozen=True)
class LowRankConfig:
    """Low-rank factorisation of Dense and 1x1 Conv layers: a fixed ``rank``, or the smallest rank
    keeping ``energy`` of each kernel's squared singular values. ``layers`` limits it to those
    layers (the classifier output is factorised only when named here)."""

    rank: int = 0
    energy: float = 0.0
    layers: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.rank > 0 or self.energy > 0


@dataclass(frozen=True)
class PruneConfig:
    """Magnitude pruning. ``begin``/``end`` count epochs (``*_epoch``) or steps (``*_step``).

    When neither end is given, the target is reached after two thirds of the
    fine-tuning, leaving the rest to recover accuracy at full sparsity.
    ``depthwise`` also prunes DepthwiseConv2D kernels, which tfmot skips.
    ``block`` > 1 prunes Dense kernels in runs of ``block`` consecutive input
    weights of an output unit (tfmot block sparsity, rank-2 kernels only), the
    form codegen stores as kept blocks that the FULLY_CONNECTED kernels run
    dense; other layers stay unstructured.
    """

    target_sparsity: float = 0.5
    schedule: str = "polynomial"
    begin_step: int | None = None
    end_step: int | None = None
    begin_epoch: float | None = None
    end_epoch: float | None = None
    frequency: int | None = None
    depthwise: bool = False
    block: int = 1

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
class DistillConfig:
    """Knowledge distillation in every fine-tuning: ``alpha`` weighs the float model's soft targets
    (softmax at ``temperature``, KL divergence scaled by T²) against the labels (``1 - alpha``);
    ``alpha = 0`` trains on the labels alone."""

    alpha: float = 0.0
    temperature: float = 4.0

    @property
    def enabled(self) -> bool:
        return self.alpha > 0


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning after each stage (pruning, clustering, and QAT)."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0


@dataclass(frozen=True)
class Recipe:
    channels: ChannelsConfig = field(default_factory=ChannelsConfig)
    lowrank: LowRankConfig = field(default_factory=LowRankConfig)
    prune: PruneConfig = field(default_factory=PruneConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    quantize: QuantizeConfig = field(default_factory=QuantizeConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)

    def to_dict(self) -> dict[str, Any]:
        """Every value, defaults included, as a TOML-shaped dict (for report.json)."""
        return {
            section.name: {k: v for k, v in dataclasses.asdict(getattr(self, section.name)).items() if v is not None}
            for section in dataclasses.fields(self)
        }


_SECTIONS: dict[str, type] = {
    "channels": ChannelsConfig,
    "lowrank": LowRankConfig,
    "prune": PruneConfig,
    "cluster": ClusterConfig,
    "quantize": QuantizeConfig,
    "distill": DistillConfig,
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
        if fields[key].type.startswith("dict"):
            values = {**values, key: _fraction_table(source, name, key, value)}
        elif fields[key].type.startswith("list"):
            _name_list(source, name, key, value)
        else:
            _check_type(source, name, key, value, fields[key].type)
    return cls(**{k: (float(v) if "float" in fields[k].type and isinstance(v, int) else v) for k, v in values.items()})


def _fraction_table(source: str, section: str, key: str, value: Any) -> dict[str, float]:
    """A ``[section.key]`` table of layer name → number (ints become floats)."""
    if not isinstance(value, dict):
        raise RecipeError(f"{source}: [{section}] {key} must be a [{section}.{key}] table of layer = fraction")
    for layer, fraction in value.items():
        _check_type(source, f"{section}.{key}", layer, fraction, "float")
    return {layer: float(fraction) for layer, fraction in value.items()}


def _name_list(source: str, section: str, key: str, value: Any) -> None:
    """A list of layer names, e.g. ``layers = ["fc1", "fc2"]``."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RecipeError(f"{source}: [{section}] {key} = {value!r} must be a list of layer names, e.g. [\"fc1\"]")


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
    for key, keep in [("keep", r.channels.keep), *((f"layers.{n}", v) for n, v in r.channels.layers.items())]:
        if not 0 < keep <= 1:
            raise RecipeError(f"{source}: [channels] {key} = {keep} is outside (0, 1]; give the fraction of filters kept, e.g. 0.5")
    _one_of(source, "channels", "criterion", r.channels.criterion, CHANNEL_CRITERIA)
    if r.channels.steps < 1:
        raise RecipeError(f"{source}: [channels] steps = {r.channels.steps} must be >= 1 (prune → fine-tune rounds)")
    if r.channels.multiple < 1:
        raise RecipeError(f"{source}: [channels] multiple = {r.channels.multiple} must be >= 1 (1 keeps exact counts)")
    _check_lowrank(source, r.lowrank)
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
    if p.block not in PRUNE_BLOCKS:
        raise RecipeError(f"{source}: [prune] block = {p.block} is not one of {', '.join(map(str, PRUNE_BLOCKS))}; "
                          "use 16 for Dense layers the device runs fast, or 1 for unstructured pruning")
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
    _check_distill(source, r.distill)
    if f.epochs < 1:
        raise RecipeError(f"{source}: [finetune] epochs = {f.epochs} must be >= 1 (fine-tuning recovers accuracy after each stage)")
    if f.batch_size < 1:
        raise RecipeError(f"{source}: [finetune] batch_size = {f.batch_size} must be >= 1")
    if not (0 < f.learning_rate < 1):
        raise RecipeError(f"{source}: [finetune] learning_rate = {f.learning_rate} must be in (0, 1)")
    if not 0 <= f.seed < SEED_LIMIT:
        raise RecipeError(
            f"{source}: [finetune] seed = {f.seed} is outside [0, {SEED_LIMIT}) (the random generators take 32 bits); "
            "use e.g. seed = 0"
        )


def _check_lowrank(source: str, lr: LowRankConfig) -> None:
    if lr.rank and lr.energy:
        raise RecipeError(f"{source}: [lowrank] gives both rank and energy; give one of them")
    if lr.rank < 0:
        raise RecipeError(f"{source}: [lowrank] rank = {lr.rank} must be >= 1 (or 0 to disable factorisation)")
    if not 0 <= lr.energy <= 1 or math.isnan(lr.energy):
        raise RecipeError(f"{source}: [lowrank] energy = {lr.energy} is outside (0, 1]; use e.g. 0.9 (0 disables it)")
    if lr.layers and not lr.enabled:
        raise RecipeError(f"{source}: [lowrank] names layers but neither rank nor energy; add e.g. energy = 0.9")


def _check_distill(source: str, d: DistillConfig) -> None:
    if not 0 <= d.alpha <= 1 or math.isnan(d.alpha):
        raise RecipeError(f"{source}: [distill] alpha = {d.alpha} is outside [0, 1]; use e.g. 0.5 (0 trains on the labels alone)")
    if not 0 < d.temperature < math.inf:
        raise RecipeError(f"{source}: [distill] temperature = {d.temperature} must be a number > 0; use e.g. 4")


def _one_of(source: str, section: str, key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise RecipeError(f"{source}: [{section}] {key} = {value!r} is not one of {', '.join(map(repr, allowed))}")
