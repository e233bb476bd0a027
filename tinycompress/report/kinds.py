"""The report kinds: which keys tell a report.json apart, and what its page shows.

:data:`KINDS` is the registry: a kind is recognised by top-level keys only
its writer puts there, tried in order, so a new kind (``tune``) is one more
entry and one page function. Page functions read the report as its writer
wrote it (``compress/report.py``, ``profile/report.py``, ``run.py``), and
take what a partial report lacks as absent rather than as an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from tinycompress.errors import BoardError, InputError
from tinycompress.report import figures
from tinycompress.report.page import Page, Table

Report = Mapping[str, Any]

# Accuracy stages keep the writer's order; a stage not named here (one added later) shows under its key.
STAGE_LABELS = {"channels": "channels pruned", "lowrank": "low-rank", "qat": "QAT", "int8": "int8 (TFLM)",
                "host_int8": "int8, host (TFLM)", "device": "int8, on the device"}


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _bytes(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,} B"


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1e4 or float(value).is_integer() else f"{value:,.4g}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _blocks(layer: dict[str, Any]) -> str:
    """How a block-pruned layer was pruned (``[prune] block``); nothing for unstructured pruning."""
    block = layer.get("prune_block", 1)
    return f", blocks of {block}" if layer["pruned"] and block > 1 else ""


def _model_name(report: Report) -> str:
    return PurePath(str(report.get("model", "model"))).name


def _stages(accuracy: Mapping[str, float | None]) -> list[tuple[str, float]]:
    """The stages that were measured, labelled, in the order the report lists them."""
    return [(STAGE_LABELS.get(key, key), value) for key, value in accuracy.items() if value is not None]


def _metric_rows(report: Report) -> list[tuple[str, str]]:
    """Key-figure rows of the metrics the report holds: accuracy in %, or MSE / MAE / ROC AUC of other tasks."""
    rows = [(f"accuracy {label}", _pct(value)) for label, value in _stages(report.get("accuracy") or {})]
    for metric, title in (("mse", "MSE"), ("mae", "MAE"), ("roc_auc", "ROC AUC")):
        rows += [(f"{title} {label}", _num(value)) for label, value in _stages(report.get(metric) or {})]
    return rows


def _accuracy_figures(accuracy: Mapping[str, float | None]) -> list[Any]:
    stages = _stages(accuracy)
    return [figures.accuracy(stages)] if stages else []


def _failed_checks(compress: Report) -> list[str]:
    return [f"Check {name.replace('_', ' ')} failed: {check['detail']}"
            for name, check in compress.get("checks", {}).items() if check.get("status") == "failed"]


def _mismatch_note(device: Report) -> list[str]:
    mismatched = device.get("mismatched_samples") or []
    if not mismatched:
        return []
    return [f"{len(mismatched)} of {device['samples']} device outputs differ from the TFLM interpreter "
            f"(first: test sample {mismatched[0]}): the firmware does not compute the model."]


def _lost_device_note(device: Report) -> list[str]:
    if device.get("complete", True):
        return []
    measured = device.get("samples", 0)
    cover = "the figures cover the samples measured" if measured else "no figure was measured on the device"
    return [f"Partial report: the device was lost after {measured} of {device.get('samples_requested', '?')} "
            f"samples ({device.get('stopped')}); {cover}."]


# --- compress ---------------------------------------------------------------------------------------------------

def _compress_figures(report: Report) -> list[Any]:
    size = report["size_bytes"]
    items = [(".tflite float32", size.get("float32")), (".tflite int8", size.get("int8")),
             ("weights on the device", size.get("weights")), ("TFLM arena (RAM)", report.get("arena_bytes"))]
    zeros = [(layer["name"], layer["int8_sparsity"]) for layer in report["layers"]
             if layer.get("int8_sparsity") is not None]
    found = [figures.sizes([(name, value) for name, value in items if value is not None])]
    return found + ([figures.layer_zeros(zeros)] if zeros else [])


def _compress_tables(report: Report) -> list[Table]:
    checks = [(name.replace("_", " "), check["status"], check["detail"])
              for name, check in report.get("checks", {}).items()]
    layers = [(layer["name"], layer["type"], f"{layer['params']:,}",
               _yes(layer["pruned"]) + _blocks(layer), _yes(layer["clustered"]),
               "n/a" if layer.get("int8_sparsity") is None else f"{100 * layer['int8_sparsity']:.1f} %",
               "n/a" if layer.get("max_unique_per_channel") is None else str(layer["max_unique_per_channel"]))
              for layer in report["layers"]]
    tables = [Table("Checks on the int8 weights", checks, ("check", "status", "detail"))] if checks else []
    return tables + [Table("Layers (zeros and unique values per channel: int8 .tflite weights)", layers,
                           ("layer", "type", "params", "pruned", "clustered", "zeros", "unique/channel"))]


def _stage_table(compress: Report) -> list[Table]:
    """Per stage: parameters, MACs, weight bytes (float32 for Keras stages, as stored for int8), arena, estimate."""
    estimate = compress.get("instructions_estimate") or {}
    rows = [("int8, compiled" if stage == "int8" else STAGE_LABELS.get(stage, stage),
             _num(figures.get("params")), _num(figures.get("macs")),
             _bytes(figures.get("weights_float32_bytes", figures.get("weights_device_bytes"))),
             _bytes(figures.get("arena_planned_bytes")), _num(figures.get("instructions_estimated")))
            for stage, figures in (compress.get("per_stage") or {}).items()]
    where = f" ({estimate.get('calibrated_on')}, {estimate.get('runtime_arch')} kernels)" if estimate else ""
    return [Table("Per stage (weights: float32 bytes; int8: as stored on the device)", rows,
                  ("stage", "params", "MACs", "weights", "arena (planned)", f"estimated instructions{where}"))
            ] if rows else []


def _estimate_rows(report: Report) -> list[tuple[str, str]]:
    """Key-figure rows: the cost model's estimate beside the measured latency and memory, with their ratio."""
    found = report.get("estimate_vs_device") or {}
    rows = []
    for name, label in (("latency", "latency"), ("flash", "flash: model weights / firmware"),
                        ("ram", "RAM: planned arena / firmware")):
        entry = found.get(name) or {}
        if entry.get("ratio") is not None:
            rows.append((f"{label}, estimated / measured",
                         f"{_num(entry['estimated'])} / {_num(entry['measured'])} ({entry['ratio']:.2f}x)"))
    if found.get("why"):
        rows.append(("latency estimate", str(found["why"])))
    return rows


def _estimate_layer_table(report: Report) -> list[Table]:
    rows = [(layer["name"], layer["op"], _num(layer.get("estimated")), _num(layer.get("measured")),
             "n/a" if layer.get("ratio") is None else f"{layer['ratio']:.2f}x")
            for layer in (report.get("estimate_vs_device") or {}).get("layers", [])]
    return [Table("Per layer: estimated instructions (cost model) and measured", rows,
                  ("layer", "op", "estimated", "measured", "estimated / measured"))] if rows else []


def compress_page(report: Report) -> Page:
    """A ``tinycompress compress`` report: accuracy per stage, sizes, zeros per layer, checks."""
    quant = report.get("quantization", {})
    samples = report.get("samples", {})
    recipe = report.get("recipe", {})
    size = report["size_bytes"]
    key = [("model", str(report.get("model"))), ("data", f"{report.get('data')} ({samples.get('train', '?')} train, "
                                                         f"{samples.get('test', '?')} test samples)")]
    key += _metric_rows(report)
    key += [(".tflite float32 -> int8", f"{_bytes(size.get('float32'))} -> {_bytes(size.get('int8'))}"),
            ("weights as stored on the device", _bytes(size.get("weights"))),
            ("TFLM arena", _bytes(report.get("arena_bytes"))),
            ("quantization", " ".join(filter(None, (quant.get("mode"), quant.get("qat_scheme"))))),
            ("target sparsity", _pct(recipe.get("prune", {}).get("target_sparsity"))),
            ("clusters", str(recipe.get("cluster", {}).get("clusters", "n/a"))),
            ("time", f"{sum(report.get('timing_s', {}).values()):.1f} s")]
    return Page(
        title=f"compress: {_model_name(report)}",
        subtitle=f"data {report.get('data')}, quantization {quant.get('mode', 'n/a')}",
        notes=list(report.get("notes", [])) + _failed_checks(report),
        figures=_accuracy_figures(report.get("accuracy") or {}) + _compress_figures(report),
        tables=[Table("Key figures", key), *_stage_table(report), *_compress_tables(report)],
    )


# --- profile ------------------------------------------------------------------------------------------------------

def _unit(device: Report) -> str:
    return device.get("latency", {}).get("unit") or "counts"


def _layer_figures(device: Report) -> list[Any]:
    unit = _unit(device)
    layers = [figures.Layer(layer["name"], layer["op"], layer["macs"], layer["median"], layer.get("macs_per_unit"))
              for layer in device.get("layers", [])]
    if not layers:
        return []
    found = [figures.layer_latency(layers, unit)]
    if any(layer.macs_per_unit is not None for layer in layers):
        found.append(figures.layer_efficiency(layers, unit))
    return found


def _storage_table(report: Report) -> list[Table]:
    """How each weighted layer's weights are stored and why (`--optimize`), when the run recorded it."""
    rows = [(str(row.get("layer")), str(row.get("storage")), _bytes(row.get("scratch_bytes")), str(row.get("reason")))
            for row in report.get("weights_storage") or []]
    return [Table("Weight storage", rows, ("layer", "storage", "decode scratch", "why"))] if rows else []


def _layer_table(device: Report) -> list[Table]:
    unit = _unit(device)
    rows = [(layer["name"], layer["op"], f"{layer['macs']:,}", _num(layer["median"]), f"{layer['share']:.1%}",
             "n/a" if layer.get("macs_per_unit") is None else f"{layer['macs_per_unit']:.3g}")
            for layer in device.get("layers", [])]
    if not rows:
        return []
    return [Table(f"Per layer (median {unit})", rows,
                  ("layer", "op", "MACs", unit, "share", f"MACs per {figures.singular(unit)}"))]


def _memory_figures(flash: int | None, flash_total: int | None, ram: int | None, ram_total: int | None) -> list[Any]:
    usages = [figures.Usage(name, used, total) for name, used, total in (("flash", flash, flash_total),
                                                                        ("RAM", ram, ram_total))
              if used is not None and total]
    return [figures.memory(usages)] if usages else []


def _board_totals(name: str | None) -> tuple[int | None, int | None]:
    """The board file's flash and RAM, or unknown when the board is not (or no longer) known here."""
    from tinycompress.project.boards import get_board

    try:
        board = get_board(str(name))
    except BoardError:
        return None, None
    return board.flash_bytes, board.ram_bytes


def _latency_rows(latency: Mapping[str, Any]) -> list[tuple[str, str]]:
    unit = latency.get("unit") or "counts"
    rows = [(f"latency {stat} ({unit})", _num(latency[stat])) for stat in ("median", "p90", "min", "max")
            if stat in latency]
    if "ms" in latency:
        rows.append(("latency median (ms at the reported clock)", f"{latency['ms']['median']:.3f}"))
    clock = latency.get("clock_hz")
    rows.append(("core clock (reported by the device)", f"{clock / 1e6:g} MHz" if clock else "not reported"))
    return rows


_SOURCES = {"elf": " (from the ELF)", "device": " (reported by the device)"}


def _bit_exact(device: Report) -> str:
    if device.get("outputs_bit_exact"):
        return "yes"
    mismatched = device.get("mismatched_samples") or []
    return f"NO ({len(mismatched)} samples differ)" if mismatched else "no samples measured"


def profile_page(report: Report) -> Page:
    """A ``tinycompress profile`` report: accuracy, flash/RAM against the board, latency and MACs per layer."""
    flash_total, ram_total = _board_totals(report.get("board"))
    key = [("board", str(report.get("board"))), ("port", str(report.get("port"))),
           ("samples", f"{report.get('samples')} of {report.get('samples_requested')}")]
    key += _metric_rows(report)
    key += [("every output byte equal to TFLM", _bit_exact(report)), *_latency_rows(report["latency"]),
            ("flash / RAM used", f"{_bytes(report.get('flash_bytes'))} / {_bytes(report.get('ram_bytes'))}"
                                 + _SOURCES.get(report.get("memory_source"), "")),
            ("arena", _bytes(report.get("arena_bytes")))]
    return Page(
        title=f"profile on {report.get('board')}",
        subtitle=f"{report.get('samples')} samples over {report.get('port')}",
        notes=_lost_device_note(report) + _mismatch_note(report),
        figures=(_accuracy_figures(report.get("accuracy") or {})
                 + _memory_figures(report.get("flash_bytes"), flash_total, report.get("ram_bytes"), ram_total)
                 + _layer_figures(report)),
        tables=[Table("Key figures", key), *_layer_table(report)],
    )


# --- run ------------------------------------------------------------------------------------------------------------

def run_page(report: Report) -> Page:
    """A ``tinycompress run`` (or ``demo``) report; one that stopped before the device shows the compression."""
    compress = report["compress"]
    device = report.get("device")
    title = f"run: {_model_name(report)} on {report.get('board')}"
    if device is None:
        page = compress_page(compress)
        page.title = title
        page.notes.insert(0, f"Partial report: the run stopped before the device figures ({report.get('stopped')}); "
                             "only the compression results are shown.")
        return page
    mem = report.get("memory_bytes", {})
    key = [("model", str(report.get("model"))), ("data", str(report.get("data"))), ("board", str(report.get("board"))),
           ("samples on the device", str(report.get("samples")))]
    key += _metric_rows(report)
    key += [("every output byte equal to TFLM", _bit_exact(device)), *_latency_rows(report.get("latency", {})),
            (".tflite float32 -> int8", f"{_bytes(mem.get('tflite_float32'))} -> {_bytes(mem.get('tflite_int8'))}"),
            ("weights in flash (packed)", _bytes(mem.get("weights"))),
            ("arena: ours / TFLM", f"{_bytes(mem.get('arena'))} / {_bytes(mem.get('tflm_arena'))}"),
            ("flash used / total", f"{_bytes(mem.get('flash_used'))} / {_bytes(mem.get('flash_total'))}"),
            ("RAM used / total", f"{_bytes(mem.get('ram_used'))} / {_bytes(mem.get('ram_total'))}"),
            *_estimate_rows(report),
            ("time", ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in report.get("timing_s", {}).items()))]
    return Page(
        title=title,
        subtitle=f"data {report.get('data')}, {report.get('samples')} samples on the device",
        notes=_lost_device_note(device) + _mismatch_note(device) + _failed_checks(compress),
        figures=(_accuracy_figures(report.get("accuracy") or {})
                 + _memory_figures(mem.get("flash_used"), mem.get("flash_total"), mem.get("ram_used"),
                                   mem.get("ram_total"))
                 + _layer_figures(device)),
        tables=[Table("Key figures", key), *_layer_table(device), *_estimate_layer_table(report),
                *_stage_table(compress), *_storage_table(report), *_compress_tables(compress)],
    )


# --- tune -----------------------------------------------------------------------------------------------------------

def _trial_hover(trial: Report) -> str:
    """A trial's number, recipe and verdict, one line each, for the point's hover box."""
    recipe = "<br>".join(f"{name} = {value:.3g}" if isinstance(value, float) else f"{name} = {value}"
                         for name, value in trial["point"].items())
    verdict = "meets the budget" if trial["meets_budget"] else "; ".join(m["text"] for m in trial["misses"])
    return f"trial {trial['number']}<br>{recipe}<br>{verdict}"


def _tune_scatter(trials: list[Report], front: set[int], y_key: str, y_title: str,
                  limits: tuple[float | None, float | None], y_option: str) -> Any:
    """Trials over flash (x) and ``y_key``, met/missed apart, the Pareto front joined, the budget as lines."""
    import plotly.graph_objects as go

    figure = go.Figure()
    scale = 100 if y_key == "accuracy" else 1
    for met, name, colour in ((True, "meets the budget", "#2a9d4b"), (False, "misses it", "#c44e52")):
        group = [trial for trial in trials if trial["meets_budget"] == met]
        figure.add_trace(go.Scatter(
            x=[trial["figures"]["flash"] for trial in group], y=[scale * trial["figures"][y_key] for trial in group],
            mode="markers+text", name=name, text=[str(trial["number"]) for trial in group],
            textposition="top center", hovertext=[_trial_hover(trial) for trial in group], hoverinfo="text",
            marker={"size": 11, "color": colour,
                    "line": {"width": [2.5 if trial["number"] in front else 0 for trial in group],
                             "color": "#222"}}))
    pareto = sorted((trial for trial in trials if trial["number"] in front), key=lambda t: t["figures"]["flash"])
    figure.add_trace(go.Scatter(x=[t["figures"]["flash"] for t in pareto],
                                y=[scale * t["figures"][y_key] for t in pareto], mode="lines", name="Pareto front",
                                hoverinfo="skip", line={"color": "#222", "dash": "dot"}))
    max_flash, y_limit = limits
    if max_flash is not None:
        figure.add_vline(x=max_flash, line={"color": "#c44e52", "dash": "dash"}, annotation_text="--max-flash")
    if y_limit is not None:
        figure.add_hline(y=scale * y_limit, line={"color": "#c44e52", "dash": "dash"}, annotation_text=y_option)
    figure.update_layout(title={"text": f"{y_title} against flash, every measured trial", "x": 0.0},
                         template="plotly_white", height=420, xaxis_title="flash used (B)", yaxis_title=y_title,
                         margin={"l": 10, "r": 30, "t": 50, "b": 40})
    return figure


def tune_page(report: Report) -> Page:
    """A ``tinycompress tune`` summary: every trial on accuracy/latency against flash, Pareto front, budget lines."""
    settings = report["tune"]
    budget = settings.get("budget", {})
    trials = list(report["trials"])
    measured = [trial for trial in trials if trial.get("figures") and not trial.get("error")]
    front = set(report.get("pareto", []))
    unit = measured[0]["figures"]["latency_unit"] if measured else "counts"
    max_flash = budget.get("max_flash")
    plots = [] if not measured else [
        _tune_scatter(measured, front, "latency", f"latency ({unit})", (max_flash, budget.get("max_latency")),
                      "--max-latency"),
        _tune_scatter(measured, front, "accuracy", "int8 accuracy (%)", (max_flash, budget.get("min_accuracy")),
                      "--min-accuracy"),
    ]
    rows = [(str(t["number"]), ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                         for k, v in t["point"].items()),
             _pct((t.get("figures") or {}).get("accuracy")), _bytes((t.get("figures") or {}).get("flash")),
             _bytes((t.get("figures") or {}).get("ram")), _num((t.get("figures") or {}).get("latency")),
             "met" if t["meets_budget"] else (t.get("error") or "; ".join(m["text"] for m in t["misses"])))
            for t in trials]
    limits = [(name.replace("_", "-"), str(value)) for name, value in budget.items() if value is not None]
    best = report.get("best")
    notes = [] if best is not None else ["No trial met the budget; the table says what each one misses."]
    return Page(
        title=f"tune: {len(trials)} trials, objective {settings.get('objective')}",
        subtitle=f"best within the budget: trial {best}" if best is not None else "nothing within the budget",
        notes=notes,
        figures=plots,
        tables=[Table("Budget", limits or [("budget", "none")]),
                Table("Trials", rows, ("#", "recipe", "accuracy", "flash", "RAM", f"latency ({unit})", "budget"))],
    )


# --- the registry ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportKind:
    """A report.json kind: the command that writes it, the keys that identify it, its page."""

    name: str
    keys: frozenset[str]
    page: Callable[[Report], Page]


# Tried in order: a run report holds a compress and a profile report, so it comes first.
KINDS: tuple[ReportKind, ...] = (
    ReportKind("tune", frozenset({"tune", "trials", "pareto"}), tune_page),
    ReportKind("run", frozenset({"board", "compress", "complete"}), run_page),
    ReportKind("profile", frozenset({"board", "latency", "outputs_bit_exact", "link"}), profile_page),
    ReportKind("compress", frozenset({"size_bytes", "layers", "recipe"}), compress_page),
)


def detect_kind(report: Any, source: str = "the report") -> ReportKind:
    """The kind of ``report`` from its top-level keys, or InputError naming what was expected."""
    if not isinstance(report, dict):
        raise InputError(f"{source} holds a JSON {type(report).__name__}, not a report; give the report.json "
                         "that tinycompress compress, profile, run, demo or tune wrote")
    for kind in KINDS:
        if kind.keys <= report.keys():
            return kind
    expected = "; ".join(f"{kind.name}: {', '.join(sorted(kind.keys))}" for kind in KINDS)
    raise InputError(f"{source} is not a report tinycompress knows (expected the keys of one of {expected}); "
                     "give the report.json that tinycompress compress, profile, run, demo or tune wrote")
