"""``tinycompress tune``: search recipes for a board's budget on Ray; every trial measured on the board."""

from __future__ import annotations

from typing import Any

import click

from tinycompress.cli._common import optimize_option, progress_for, sigterm_as_interrupt, stdout

_HELP = """Find the compression recipe for MODEL that meets a budget on BOARD.

\b
Each trial is a whole `tinycompress run` with a recipe proposed by
Optuna's TPE: compress, int8 accuracy on the TFLM interpreter (whole
test set), export and build (flash and RAM from the ELF), latency on
the emulated board (--limit samples, every output checked against TFLM).
Trials run on Ray: a local instance started and stopped here, or the
cluster at --ray-address.

\b
Budget: --max-flash/--max-ram in bytes, --max-latency in the board's
unit (the median over the samples), --min-accuracy (a fraction) or
--max-accuracy-drop (points lost from the float model). --objective is
what to minimise within it. --space SPACE.toml sets the ranges (see
docs/tune.md); without it: sparsity, clusters, channel keep ratio,
low-rank and PTQ/QAT as the model's layers allow.

\b
OUT receives trials.csv and trials.jsonl (every trial: recipe, figures,
what it misses), pareto.json, tune.json (+ tune.html), and for the best
trial within the budget recipe.toml with its compress/, project/,
report.json and report.html. trials/ keeps every trial's outputs and the
log --resume continues from. With no trial within the budget the exit
status is 10 and the message names the closest miss.

\b
Examples:
  tinycompress tune model.keras --data digits --board qemu-netduinoplus2 \\
      --max-flash 24000 --max-accuracy-drop 1 --trials 30 -o tuned/
  tinycompress tune model.keras --data digits --board qemu-netduinoplus2 \\
      --max-flash 24000 --trials 30 -o tuned/ --resume
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL")
@click.option("--data", required=True, metavar="DATA", help='.npz file, "digits" or aeon:NAME.')
@click.option("--board", required=True, metavar="BOARD", help="An emulated board (see `tinycompress boards`).")
@click.option("-o", "--out", "out", required=True, metavar="OUT", help="Output directory.")
@click.option("--max-flash", type=click.IntRange(min=1), default=None, help="Flash budget in bytes.")
@click.option("--max-ram", type=click.IntRange(min=1), default=None, help="RAM budget in bytes.")
@click.option("--max-latency", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Latency budget in the board's unit (median per inference).")
@click.option("--min-accuracy", type=click.FloatRange(0, 1), default=None, help="Lowest int8 accuracy, a fraction.")
@click.option("--max-accuracy-drop", type=click.FloatRange(min=0), default=None,
              help="Most accuracy lost from the float model, in points.")
@click.option("--trials", type=click.IntRange(min=1), default=20, show_default=True, help="Trials in all.")
@click.option("--objective", type=click.Choice(["latency", "flash", "accuracy"]), default="latency",
              show_default=True, help="What to minimise (accuracy: the error) within the budget.")
@click.option("--space", "space_path", metavar="SPACE.toml", default=None, help="The ranges to search.")
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Trials at once (default: one per two cores).")
@click.option("--ray-address", metavar="ADDRESS", default=None, help="An existing Ray cluster (e.g. ray://head:10001).")
@click.option("--resume", is_flag=True, help="Continue the tune in OUT: finished trials are kept, not rerun.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Test samples profiled on the board per trial.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@optimize_option
@click.option("--trust-model", is_flag=True,
              help="Load MODEL even if it carries code (Lambda layers, custom objects); only for files you trust.")
def command(model: str, data: str, board: str, out: str, max_flash: int | None, max_ram: int | None,
            max_latency: float | None, min_accuracy: float | None, max_accuracy_drop: float | None, trials: int,
            objective: str, space_path: str | None, concurrency: int | None, ray_address: str | None, resume: bool,
            limit: int, quiet: bool, optimize: str, trust_model: bool) -> None:
    import json
    from pathlib import Path

    from tinycompress.errors import BudgetError
    from tinycompress.tune import Budget, load_space, tune
    from tinycompress.tune.search import SUMMARY_NAME

    budget = Budget(max_flash, max_ram, max_latency, min_accuracy, max_accuracy_drop)
    space = load_space(space_path) if space_path else None
    try:
        with progress_for(quiet) as progress, sigterm_as_interrupt():
            result = tune(model, data, board, out, budget, trials=trials, objective=objective, space=space,
                          concurrency=concurrency, ray_address=ray_address, resume=resume, limit=limit,
                          optimize=optimize, trust_model=trust_model, progress=progress)
    except BudgetError:
        if not quiet:  # the trials are written: show them above the line saying what is missing
            summary = json.loads((Path(out) / SUMMARY_NAME).read_text(encoding="utf-8"))
            print_trials(summary["trials"], set(summary["pareto"]))
        raise
    if not quiet:
        print_trials(result.trials, {record["number"] for record in result.pareto})
        stdout.print(f"best within the budget: trial {result.best['number']}; its recipe is "
                     f"{result.out_dir / 'recipe.toml'}", markup=False)


def print_trials(trials: list[dict[str, Any]], front: set[int]) -> None:
    """The trial table, the Pareto front marked."""
    from rich import box
    from rich.table import Table

    names = sorted({name for record in trials for name in record["point"]})
    table = Table(title=f"tune: {len(trials)} trials", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("#", *(name.split(".")[-1] for name in names), "accuracy", "flash B", "RAM B", "latency",
                   "budget"):
        table.add_column(column, justify="right" if column != "budget" else "left")
    for record in trials:
        figures = record["figures"] or {}
        missed = "; ".join(miss["option"] for miss in record["misses"])
        status = ("[green]met[/]" if record["meets_budget"] else
                  "failed (reason in trials.csv)" if record["error"] else missed)
        mark = "*" if record["number"] in front else ""
        table.add_row(f"{record['number']}{mark}", *(_cell(record["point"].get(name)) for name in names),
                      _cell(figures.get("accuracy"), percent=True), _cell(figures.get("flash")),
                      _cell(figures.get("ram")), _cell(figures.get("latency")), status)
    stdout.print(table)
    stdout.print("* on the Pareto front (accuracy, flash, latency)", markup=False)


def _cell(value: Any, *, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{100 * value:.2f} %"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
