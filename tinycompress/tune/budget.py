"""The budget a tune must meet, and how far a trial's figures are from it.

Figures come from the trial's run report: flash and RAM from the ELF,
latency as the median on the board in the board's unit, accuracy of the
int8 model on the TFLM interpreter over the whole test set (the device
measures only ``--limit`` samples), its drop in points from the float model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinycompress.errors import InputError, UnsupportedError

OBJECTIVES = ("latency", "flash", "accuracy")
# A budget miss weighs this much more than the objective in the searcher's score, so
# the searcher heads for the budget first and improves the objective inside it.
MISS_WEIGHT = 10.0
# The score of a trial that produced no figures (a stage failed): worse than any measured one.
FAILED_SCORE = 1e9


@dataclass(frozen=True)
class Miss:
    """One constraint a trial breaks: ``value`` against ``limit``, ``relative`` = excess / limit."""

    option: str
    value: float
    limit: float
    unit: str

    @property
    def excess(self) -> float:
        return self.limit - self.value if self.option == "--min-accuracy" else self.value - self.limit

    @property
    def relative(self) -> float:
        return self.excess / abs(self.limit) if self.limit else self.excess

    def describe(self) -> str:
        if self.unit == "%":
            return f"{self.option} {100 * self.limit:g} % by {100 * self.excess:.2f} points ({100 * self.value:.2f} %)"
        if self.unit == "points":
            return f"{self.option} {self.limit:g} by {self.excess:.2f} points ({self.value:.2f} points lost)"
        return f"{self.option} {self.limit:,g} by {self.excess:,.0f} {self.unit} ({self.relative:.1%} over)"


@dataclass(frozen=True)
class Budget:
    """Limits in the units of the run report; None leaves a figure free."""

    max_flash: int | None = None
    max_ram: int | None = None
    max_latency: float | None = None
    min_accuracy: float | None = None
    max_accuracy_drop: float | None = None

    def __post_init__(self) -> None:
        if self.min_accuracy is not None and self.max_accuracy_drop is not None:
            raise InputError("give --min-accuracy or --max-accuracy-drop, not both")
        if self.min_accuracy is not None and not 0 <= self.min_accuracy <= 1:
            raise InputError(f"--min-accuracy {self.min_accuracy} is outside [0, 1]; give a fraction, e.g. 0.95")

    def to_dict(self) -> dict[str, Any]:
        return {"max_flash": self.max_flash, "max_ram": self.max_ram, "max_latency": self.max_latency,
                "min_accuracy": self.min_accuracy, "max_accuracy_drop": self.max_accuracy_drop}

    def misses(self, figures: dict[str, Any]) -> list[Miss]:
        """The constraints ``figures`` (a trial's, see :func:`trial_figures`) break, worst first."""
        found: list[Miss] = []
        for option, limit, value, unit in (
                ("--max-flash", self.max_flash, figures["flash"], "B"),
                ("--max-ram", self.max_ram, figures["ram"], "B"),
                ("--max-latency", self.max_latency, figures["latency"], figures["latency_unit"]),
                ("--max-accuracy-drop", self.max_accuracy_drop, figures["accuracy_drop"], "points")):
            if limit is not None and value > limit:
                found.append(Miss(option, value, limit, unit))
        if self.min_accuracy is not None and figures["accuracy"] < self.min_accuracy:
            found.append(Miss("--min-accuracy", figures["accuracy"], self.min_accuracy, "%"))
        return sorted(found, key=lambda miss: -miss.relative)


def trial_figures(report: dict[str, Any]) -> dict[str, Any]:
    """The figures a budget and the objective read, from a complete ``run`` report (of a classifier)."""
    if "accuracy" not in report or "accuracy" not in report["compress"]:
        raise UnsupportedError(f"tune weighs int8 accuracy, and a {report.get('task', 'non-classification')} model "
                               "reports none; tune a classifier, or search with `tinycompress run` and recipes")
    accuracy = report["compress"]["accuracy"]
    memory = report["memory_bytes"]
    return {
        "accuracy": accuracy["int8"],
        "float_accuracy": accuracy["float"],
        "accuracy_drop": round(100 * (accuracy["float"] - accuracy["int8"]), 4),
        "device_accuracy": report["accuracy"]["device"],
        "flash": memory["flash_used"],
        "ram": memory["ram_used"],
        "latency": report["latency"]["median"],
        "latency_unit": report["latency"]["unit"],
        "bit_exact": report["outputs_bit_exact"],
    }


def objective_value(figures: dict[str, Any], objective: str) -> float:
    """What the searcher minimises inside the budget: latency, flash, or the accuracy lost."""
    if objective == "accuracy":
        return 1.0 - figures["accuracy"]
    return float(figures[objective])


def score(figures: dict[str, Any] | None, misses: list[Miss], objective: str) -> float:
    """The searcher's figure of merit (lower is better): the objective, scaled up by every budget miss."""
    if figures is None:
        return FAILED_SCORE
    value = objective_value(figures, objective)
    penalty = MISS_WEIGHT * sum(miss.relative for miss in misses)
    return value * (1 + penalty) + penalty
