"""What an HTML report shows, as data: the kinds fill a :class:`Page`, ``html.py`` turns it into a file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; ``header`` is None for a two-column list of figures."""

    title: str
    rows: list[tuple[str, ...]]
    header: tuple[str, ...] | None = None


@dataclass
class Page:
    """One report: a title, notes shown before everything (a partial run, a failed check), plots, tables.

    ``figures`` are plotly figures, drawn in order.
    """

    title: str
    subtitle: str
    notes: list[str] = field(default_factory=list)
    figures: list[Any] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
