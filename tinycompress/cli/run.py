"""``tinycompress run``: compress → export → build → flash → profile, one report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tinycompress.cli._common import print_json, progress_for, stdout

_HELP = """Take MODEL all the way onto BOARD and measure it there.

\b
Stages: compress (prune, cluster, int8; see `tinycompress compress -h`)
-> export (C code + PlatformIO project) -> build (offline for emulated
boards) -> flash (QEMU for emulated boards) -> profile (stream the test
set over serial: device accuracy, bit-exactness, latency per layer).

\b
OUT receives compress/ (model_int8.tflite, report.json), project/ (the
PlatformIO project, buildable again with `tinycompress build`) and
report.json, the compression figures beside the device figures.

\b
Examples:
  tinycompress run model.keras --data digits --board qemu-netduinoplus2 -o out/
  tinycompress run model.h5 --data data.npz --board qemu-riscv32 --recipe r.toml -o out/
  tinycompress run model.keras --data data.npz --board nucleo_l4r5zi --port /dev/ttyACM0 -o out/
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL")
@click.option("--data", required=True, metavar="DATA", help='.npz file or "digits".')
@click.option("--board", required=True, metavar="BOARD", help="Board name (see `tinycompress boards`).")
@click.option("--recipe", "recipe_path", metavar="RECIPE.toml", help="Compression recipe (defaults when absent).")
@click.option("-o", "--out", "out", required=True, metavar="OUT", help="Output directory.")
@click.option("--port", metavar="URL", default=None, help="Serial port of a real board (/dev/ttyACM0, COM3).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Profile only the first N test samples.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the combined report.json on stdout.")
def command(model: str, data: str, board: str, recipe_path: str | None, out: str, port: str | None,
            limit: int | None, quiet: bool, as_json: bool) -> None:
    from tinycompress.compress.recipe import load_recipe
    from tinycompress.run import run

    recipe = load_recipe(recipe_path)
    with progress_for(quiet or as_json) as progress:
        result = run(model, data, board, out, recipe, port=port, limit=limit, progress=progress)
    finish(result, quiet=quiet, as_json=as_json)


def finish(result: Any, *, quiet: bool, as_json: bool) -> None:
    """Print the run's report (JSON or tables); fail if the device was lost part-way."""
    from tinycompress.errors import LinkError

    report = result.report
    if as_json:
        print_json(report)
    elif not quiet:
        print_run_summary(report, result.out_dir)
    if not result.complete:
        device = report["device"]
        raise LinkError(
            f"device lost after {device['samples']} of {device['samples_requested']} samples "
            f"({device['stopped']}); the partial report {result.out_dir / 'report.json'} is marked incomplete"
        )


def print_run_summary(report: dict[str, Any], out_dir: Path) -> None:
    """Compression table beside the device figures, then the per-layer profile."""
    from rich import box
    from rich.table import Table

    from tinycompress.cli.profile import print_summary as print_profile

    acc = report["accuracy"]
    mem = report["memory_bytes"]
    table = Table(title=f"{report['model']} on {report['board']}", title_justify="left",
                  box=box.SIMPLE_HEAD, show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, label in (("float", "accuracy float"), ("pruned", "accuracy pruned"),
                       ("clustered", "accuracy clustered"), ("int8_host", "accuracy int8, host (TFLM)"),
                       ("device", f"accuracy int8, on {report['board']}")):
        if acc[key] is not None:
            table.add_row(label, f"{100 * acc[key]:.2f} %")
    table.add_row("every output byte equal to TFLM", "yes" if report["outputs_bit_exact"] else "[bold red]NO[/]")
    table.add_row(".tflite float32 -> int8", f"{mem['tflite_float32']:,} -> {mem['tflite_int8']:,} B")
    table.add_row("weights in flash (packed)", f"{mem['weights']:,} B")
    table.add_row("arena: ours / TFLM", f"{mem['arena']:,} / {mem['tflm_arena']:,} B")
    table.add_row("flash used / total", f"{mem['flash_used']:,} / {mem['flash_total']:,} B")
    table.add_row("RAM used / total", f"{mem['ram_used']:,} / {mem['ram_total']:,} B")
    stdout.print(table)
    print_profile(report["device"], out_dir / "report.json")
