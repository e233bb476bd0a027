"""``tinycompress run``: compress → export → build → flash → profile, one report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tinycompress.cli._common import optimize_option, print_json, progress_for, sigterm_as_interrupt, stdout
from tinycompress.cli.compress import METRIC_LABELS, task_option

_HELP = """Take MODEL all the way onto BOARD and measure it there.

\b
Stages: compress (prune, cluster, int8; see `tinycompress compress -h`)
-> export (C code + PlatformIO project) -> build (offline for emulated
boards) -> flash (QEMU for emulated boards) -> profile (stream the test
set over serial: device accuracy, bit-exactness, latency per layer).

\b
OUT receives compress/ (model_int8.tflite, report.json), project/ (the
PlatformIO project, buildable again with `tinycompress build`) and
report.json, the compression figures beside the device figures. Each
report.json has a report.html beside it: the same figures with plots,
one file that opens offline (see `tinycompress report -h`). OUT must
be new, empty, or an earlier run's output (see its .tinycompress.json);
any other folder, or one holding MODEL or DATA, is refused.

\b
Examples:
  tinycompress run model.keras --data digits --board qemu-netduinoplus2 -o out/
  tinycompress run model.h5 --data data.npz --board qemu-riscv32 --recipe r.toml -o out/
  tinycompress run model.keras --data data.npz --board nucleo_l4r5zi --port /dev/ttyACM0 -o out/
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL")
@click.option("--data", required=True, metavar="DATA", help='.npz file, "digits" or aeon:NAME.')
@click.option("--board", required=True, metavar="BOARD", help="Board name (see `tinycompress boards`).")
@click.option("--recipe", "recipe_path", metavar="RECIPE.toml", help="Compression recipe (defaults when absent).")
@click.option("-o", "--out", "out", required=True, metavar="OUT", help="Output directory.")
@click.option("--port", metavar="URL", default=None, help="Serial port of a real board (/dev/ttyACM0, COM3).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Profile only the first N test samples.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the combined report.json on stdout.")
@optimize_option
@click.option("--trust-model", is_flag=True,
              help="Load MODEL even if it carries code (Lambda layers, custom objects); only for files you trust.")
@task_option
def command(model: str, data: str, board: str, recipe_path: str | None, out: str, port: str | None,
            limit: int | None, quiet: bool, as_json: bool, optimize: str, trust_model: bool,
            task: str | None) -> None:
    from tinycompress.compress.recipe import load_recipe
    from tinycompress.run import run

    recipe = load_recipe(recipe_path)
    with progress_for(quiet or as_json) as progress, sigterm_as_interrupt():
        result = run(model, data, board, out, recipe, port=port, limit=limit, progress=progress,
                     trust_model=trust_model, optimize=optimize, task=task)
    finish(result, quiet=quiet, as_json=as_json)


def finish(result: Any, *, quiet: bool, as_json: bool) -> None:
    """Print the run's report (JSON or tables); fail on outputs unlike TFLM's, a lost device, a failed check."""
    from tinycompress.cli.compress import raise_failed_checks
    from tinycompress.cli.profile import check_trusted
    from tinycompress.run import COMPRESS_DIR

    report = result.report
    if as_json:
        print_json(report)
    elif not quiet:
        print_run_summary(report, result.out_dir)
    check_trusted(report["device"], result.out_dir / "report.json")
    raise_failed_checks(report["compress"], result.out_dir / COMPRESS_DIR)


def print_run_summary(report: dict[str, Any], out_dir: Path) -> None:
    """Compression table beside the device figures, then the per-layer profile."""
    from rich import box
    from rich.table import Table

    from tinycompress.cli.compress import stage_table
    from tinycompress.cli.profile import print_summary as print_profile

    mem = report["memory_bytes"]
    table = Table(title=f"{report['model']} on {report['board']}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for metric, name in METRIC_LABELS.items():
        for key, label in (("float", "float"), ("pruned", "pruned"), ("clustered", "clustered"),
                           ("host_int8", "int8, host (TFLM)"), ("device", f"int8, on {report['board']}")):
            value = report.get(metric, {}).get(key)
            if value is not None:
                table.add_row(f"{name} {label}", f"{100 * value:.2f} %" if metric == "accuracy" else f"{value:.6g}")
    table.add_row("every output byte equal to TFLM", "yes" if report["outputs_bit_exact"] else "[bold red]NO[/]")
    table.add_row(".tflite float32 -> int8", f"{mem['tflite_float32']:,} -> {mem['tflite_int8']:,} B")
    table.add_row("weights in flash (as --optimize stored them)", f"{mem['weights']:,} B")
    table.add_row("arena: ours / TFLM", f"{mem['arena']:,} / {mem['tflm_arena']:,} B")
    table.add_row("flash used / total", f"{mem['flash_used']:,} / {mem['flash_total']:,} B")
    table.add_row("RAM used / total", f"{mem['ram_used']:,} / {mem['ram_total']:,} B")
    latency = report.get("estimate_vs_device", {}).get("latency", {})
    if latency.get("ratio") is not None:
        table.add_row("latency, estimated / measured", f"{latency['estimated']:,.0f} instructions / "
                      f"{latency['measured']:,.0f} {latency['measured_unit']} ({latency['ratio']:.2f}x)")
    stdout.print(table)
    if report["compress"].get("per_stage"):
        stdout.print(stage_table(report["compress"]))
    for row in report.get("weights_storage", []):
        stdout.print(f"weights of {row['layer']}: {row['storage']} ({row['reason']})", markup=False)
    print_profile(report["device"], out_dir / "report.json")
