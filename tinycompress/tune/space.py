"""The search space of ``tinycompress tune``: which recipe keys vary, and over what.

A space file mirrors a recipe (``tinycompress compress -h``): the same
sections and keys, where each value is either fixed (``epochs = 1``), a
range (``{ min = 0.0, max = 0.8 }``, integers when both ends are, with an
optional ``step``) or a list of choices (``{ choices = [0, 8, 16] }``).
Every trial's recipe is the fixed keys plus one value of each varying key,
checked by the recipe parser like a user's recipe file. One section is not
a recipe's: ``[storage] optimize`` (size, speed, balanced) is the weight
storage objective a trial's export uses, as ``--optimize`` does for ``run``.
"""

from __future__ import annotations

import json
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinycompress.codegen.storage import OBJECTIVES as STORAGE_OBJECTIVES
from tinycompress.compress.recipe import Recipe, parse_recipe
from tinycompress.errors import InputError, RecipeError

Value = bool | int | float | str
STORAGE = "storage"  # the section that is not a recipe's: [storage] optimize


@dataclass(frozen=True)
class Param:
    """One varying recipe key, ``section.key``: a range (``low``..``high``) or ``choices``."""

    name: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Value, ...] = ()

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def distribution(self) -> Any:
        """The Optuna distribution, which the TPE searcher samples (and resume replays into)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.choices:
            return CategoricalDistribution(list(self.choices))
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), step=int(self.step or 1))
        return FloatDistribution(float(self.low), float(self.high), step=self.step)

    def describe(self) -> str:
        if self.choices:
            return f"{self.name} in {list(self.choices)}"
        return f"{self.name} in [{self.low}, {self.high}]" + (f" step {self.step}" if self.step else "")


@dataclass(frozen=True)
class SearchSpace:
    """Varying keys (``params``) and keys every trial shares (``fixed``, ``{section: {key: value}}``)."""

    params: tuple[Param, ...]
    fixed: dict[str, dict[str, Any]] = field(default_factory=dict)

    def distributions(self) -> dict[str, Any]:
        return {param.name: param.distribution() for param in self.params}

    def recipe_dict(self, point: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The TOML-shaped recipe of one point (``{"prune.target_sparsity": 0.3, ...}``)."""
        sections: dict[str, dict[str, Any]] = {name: dict(values) for name, values in self.fixed.items()
                                               if name != STORAGE}
        for name, value in point.items():
            section, key = name.split(".", 1)
            if section == STORAGE:
                continue
            # A stepped float range yields 0.30000000000000004: the recipe gets the 0.3 it means.
            sections.setdefault(section, {})[key] = round(value, 10) if isinstance(value, float) else value
        return sections

    def optimize(self, point: dict[str, Any], default: str) -> str:
        """The weight storage objective of one point: searched, fixed in the space, or ``default``."""
        return point.get(f"{STORAGE}.optimize", self.fixed.get(STORAGE, {}).get("optimize", default))

    def recipe(self, point: dict[str, Any]) -> Recipe:
        """The recipe of one point, checked like a recipe file (a bad combination is a RecipeError)."""
        return parse_recipe(dump_toml(self.recipe_dict(point)), "trial recipe")


def dump_toml(sections: dict[str, dict[str, Any]]) -> str:
    """A recipe dict as TOML text: scalars and name lists as keys, layer tables as ``[section.key]``."""
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        tables = {key: value for key, value in values.items() if isinstance(value, dict)}
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items() if key not in tables]
        for key, table in tables.items():
            lines.append(f"[{section}.{key}]")
            lines += [f"{json.dumps(name)} = {_toml_value(value)}" for name, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise RecipeError(f"recipe value {value!r} cannot be written as TOML; use a number, string, boolean or list")


def load_space(path: str | Path) -> SearchSpace:
    """Read a space file; every problem is a one-line InputError naming the key and the fix."""
    source = Path(path)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"search space {source} not found; give a TOML file or leave --space out "
                         "for the default built from the model") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"search space {source} cannot be read ({exc}); give a UTF-8 TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"search space {source} is not valid TOML ({exc}); fix the syntax") from None
    return parse_space(raw, str(source))


def parse_space(raw: dict[str, Any], source: str = "search space") -> SearchSpace:
    """Split ``raw`` into varying and fixed keys, and check its corner recipes parse."""
    params: list[Param] = []
    fixed: dict[str, dict[str, Any]] = {}
    for section, values in raw.items():
        if not isinstance(values, dict):
            raise InputError(f"{source}: {section} must be a [{section}] table like a recipe's")
        for key, value in values.items():
            name = f"{section}.{key}"
            if isinstance(value, dict) and ("choices" in value or "min" in value or "max" in value):
                params.append(_param(source, name, value))
            else:
                fixed.setdefault(section, {})[key] = value
    space = SearchSpace(tuple(params), fixed)
    _check_storage(source, raw.get(STORAGE, {}))
    if not params:
        raise InputError(f"{source} varies nothing; give at least one key a range {{ min = .., max = .. }} "
                         "or {{ choices = [..] }}")
    for corner in (_corner(params, 0), _corner(params, -1)):
        try:
            space.recipe(corner)
        except RecipeError as exc:
            raise InputError(f"{source}: {exc}") from None
    return space


def _check_storage(source: str, values: dict[str, Any]) -> None:
    """``[storage]`` holds only ``optimize``, fixed or as choices among the storage objectives."""
    for key, value in values.items():
        if key != "optimize":
            raise InputError(f"{source}: unknown key {key!r} in [{STORAGE}]; it holds only optimize")
        given = value.get("choices", []) if isinstance(value, dict) else [value]
        wrong = [item for item in given if item not in STORAGE_OBJECTIVES]
        if wrong or (isinstance(value, dict) and set(value) != {"choices"}):
            raise InputError(f"{source}: [{STORAGE}] optimize takes {', '.join(STORAGE_OBJECTIVES)} "
                             "(or { choices = [...] } of them)")


def _param(source: str, name: str, value: dict[str, Any]) -> Param:
    extra = set(value) - {"min", "max", "step", "choices"}
    if extra:
        raise InputError(f"{source}: {name} has unknown field {sorted(extra)[0]!r}; use min/max/step or choices")
    if "choices" in value:
        choices = value["choices"]
        if set(value) != {"choices"} or not isinstance(choices, list) or not choices:
            raise InputError(f"{source}: {name} choices must be a non-empty list alone, "
                             "e.g. { choices = [0, 8, 16] }")
        return Param(name, choices=tuple(choices))
    low, high, step = value.get("min"), value.get("max"), value.get("step")
    numbers = [item for item in (low, high, step) if item is not None]
    if low is None or high is None or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        raise InputError(f"{source}: {name} range needs numbers min and max, e.g. {{ min = 0.0, max = 0.8 }}")
    if not low < high or (step is not None and step <= 0):
        raise InputError(f"{source}: {name} range has min {low} >= max {high} or a step <= 0; give min < max")
    return Param(name, low, high, step)


def _corner(params: list[Param], end: int) -> dict[str, Any]:
    """Every key at its first (``end`` 0) or last (-1) value: the extremes must make valid recipes."""
    return {p.name: (p.choices[end] if p.choices else (p.low if end == 0 else p.high)) for p in params}


def default_space(model_path: str | Path) -> SearchSpace:
    """The space searched without ``--space``: what the model's layers allow.

    Sparsity and clusters always; block pruning (unstructured or blocks of
    16) when it has a Dense layer; channel pruning when the model has
    convolutions; low-rank when it has a Dense layer besides the classifier;
    PTQ against QAT; each weight storage objective. The layer classes are read from a ``.keras`` file's
    config without loading TensorFlow; other formats get every stage, and a
    stage that does not apply fails its trials with the reason.
    """
    classes = _layer_classes(Path(model_path))
    raw: dict[str, Any] = {
        "prune": {"target_sparsity": {"min": 0.0, "max": 0.8, "step": 0.1}},
        "cluster": {"clusters": {"choices": [0, 8, 16, 32]}},
        "quantize": {"mode": {"choices": ["ptq", "qat"]}},
        STORAGE: {"optimize": {"choices": list(STORAGE_OBJECTIVES)}},
    }
    if classes is None or any(name.startswith("Conv") for name in classes):
        # Down to a quarter of the filters: keeping half was not enough for the flash budgets of
        # docs/tune.md, where keep 0.375 was the best recipe within all three limits.
        raw["channels"] = {"keep": {"min": 0.25, "max": 1.0, "step": 0.125}}
    if classes is None or "Dense" in classes:
        # Dense layers pruned in blocks of 16 inputs run faster than dense and take less flash
        # (docs/compress.md, "Block pruning"); unstructured pruning pays only in a zip file there.
        raw["prune"]["block"] = {"choices": [1, 16]}
    if classes is None or classes.count("Dense") >= 2:
        raw["lowrank"] = {"energy": {"choices": [0.0, 0.9, 0.99]}}
    return parse_space(raw, "the default search space")


def _layer_classes(path: Path) -> list[str] | None:
    """Layer class names from a ``.keras`` archive's config.json, or None when it cannot be read that way."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("class_name"), str) and node.get("module", "").startswith("keras.layers"):
                found.append(node["class_name"])
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(config)
    return found
