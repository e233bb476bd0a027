"""The plots of an HTML report, as plotly figures built from plain figures (no report dicts here).

One function per kind of plot, shared by every report kind: a run's
accuracy plot is the compress plot with the device's stages added. Each
returns a ``plotly.graph_objects.Figure`` whose bars carry their value as
text, so a screenshot or a print reads without hovering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

BAR_COLOUR = "#4c72b0"
FREE_COLOUR = "#dde3ec"
ROW_HEIGHT_PX = 34
MIN_HEIGHT_PX = 300


@dataclass(frozen=True)
class Layer:
    """One layer's row in the per-layer plots: its latency, MACs and their ratio (None when unknown)."""

    name: str
    op: str
    macs: int
    latency: float
    macs_per_unit: float | None


@dataclass(frozen=True)
class Usage:
    """How much of one memory the firmware uses, against the board's total."""

    name: str
    used: int
    total: int


def singular(unit: str) -> str:
    """``instructions`` -> ``instruction``: the unit after "per"."""
    return unit[:-1] if unit.endswith("s") else unit


def _layout(figure: go.Figure, title: str, height: int = MIN_HEIGHT_PX) -> go.Figure:
    figure.update_layout(title={"text": title, "x": 0.0, "xanchor": "left"}, template="plotly_white",
                         height=height, margin={"l": 10, "r": 30, "t": 50, "b": 40}, showlegend=False)
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    return figure


def _rows_height(rows: int) -> int:
    """A horizontal bar plot tall enough that every row's label stays readable."""
    return max(MIN_HEIGHT_PX, 110 + ROW_HEIGHT_PX * rows)


def accuracy(stages: Sequence[tuple[str, float]]) -> go.Figure:
    """Test accuracy after each stage, in %; the axis starts just below the lowest bar so small losses show."""
    percents = [100 * value for _, value in stages]
    bottom = max(0.0, math.floor(min(percents) - 2)) if percents else 0.0
    figure = go.Figure(go.Bar(
        x=[name for name, _ in stages], y=percents, marker_color=BAR_COLOUR,
        text=[f"{p:.2f} %" for p in percents], textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: %{y:.2f} %<extra></extra>",
    ))
    figure.update_yaxes(title_text="accuracy (%)", range=[bottom, 100.5])
    return _layout(figure, "Accuracy per stage (test set)")


def memory(usages: Sequence[Usage]) -> go.Figure:
    """Flash and RAM used as a share of the board's totals, with the bytes in the labels and on hover."""
    names = [usage.name for usage in usages]
    used = [100 * usage.used / usage.total for usage in usages]
    figure = go.Figure([
        go.Bar(y=names, x=used, orientation="h", name="used", marker_color=BAR_COLOUR,
               customdata=[[u.used, u.total] for u in usages],
               hovertemplate="%{y}: %{customdata[0]:,} of %{customdata[1]:,} B used<extra></extra>"),
        # The label sits in the free part: a few % used leaves no room in the used part.
        go.Bar(y=names, x=[100 - share for share in used], orientation="h", name="free", marker_color=FREE_COLOUR,
               text=[f"{u.used:,} of {u.total:,} B used ({share:.1f} %)" for u, share in zip(usages, used)],
               textposition="inside", insidetextanchor="start", textfont_color="#222",
               customdata=[[u.total - u.used] for u in usages],
               hovertemplate="%{y}: %{customdata[0]:,} B free<extra></extra>"),
    ])
    figure.update_layout(barmode="stack")
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="% of the board's total", range=[0, 100])
    return _layout(figure, "Flash and RAM against the board's totals", _rows_height(len(usages)))


def layer_latency(layers: Sequence[Layer], unit: str) -> go.Figure:
    """Median latency of each layer, first layer on top; hover adds the op and its share of the total."""
    total = sum(layer.latency for layer in layers) or 1.0
    figure = go.Figure(go.Bar(
        y=[layer.name for layer in layers], x=[layer.latency for layer in layers], orientation="h",
        marker_color=BAR_COLOUR, text=[f"{layer.latency / total:.1%}" for layer in layers], textposition="outside",
        cliponaxis=False, customdata=[[layer.op, layer.macs] for layer in layers],
        hovertemplate=f"%{{y}} (%{{customdata[0]}}): %{{x:,.0f}} {unit}, %{{customdata[1]:,}} MACs<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text=f"median {unit} per inference")
    return _layout(figure, f"Latency per layer ({unit})", _rows_height(len(layers)))


def layer_efficiency(layers: Sequence[Layer], unit: str) -> go.Figure:
    """MACs per latency unit for the layers that do MACs: where the kernels are slow for their work."""
    rows = [layer for layer in layers if layer.macs_per_unit is not None]
    short = singular(unit)
    figure = go.Figure(go.Bar(
        y=[layer.name for layer in rows], x=[layer.macs_per_unit for layer in rows], orientation="h",
        marker_color=BAR_COLOUR, text=[f"{layer.macs_per_unit:.3g}" for layer in rows], textposition="outside",
        cliponaxis=False, hovertemplate=f"%{{y}}: %{{x:.3g}} MACs per {short}<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text=f"MACs per {short}")
    return _layout(figure, f"MACs per {short}, per layer", _rows_height(len(rows)))


def sizes(items: Sequence[tuple[str, int]]) -> go.Figure:
    """Byte sizes side by side (the .tflite before and after, the weights as stored, the arena)."""
    figure = go.Figure(go.Bar(
        x=[name for name, _ in items], y=[size for _, size in items], marker_color=BAR_COLOUR,
        text=[f"{size:,} B" for _, size in items], textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: %{y:,} B<extra></extra>",
    ))
    figure.update_yaxes(title_text="bytes")
    return _layout(figure, "Model sizes (bytes)")


def layer_zeros(layers: Sequence[tuple[str, float]]) -> go.Figure:
    """Share of zero int8 weights per layer: what pruning left in the weights the device stores."""
    figure = go.Figure(go.Bar(
        y=[name for name, _ in layers], x=[100 * zeros for _, zeros in layers], orientation="h",
        marker_color=BAR_COLOUR, text=[f"{100 * zeros:.1f} %" for _, zeros in layers], textposition="outside",
        cliponaxis=False, hovertemplate="%{y}: %{x:.1f} % zeros<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="zero int8 weights (%)", range=[0, 100])
    return _layout(figure, "Zeros per layer (int8 weights)", _rows_height(len(layers)))
