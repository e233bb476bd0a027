"""``tinycompress inspect``: what the compiler makes of a .tflite model."""

from __future__ import annotations

import click

from tinycompress.cli._common import print_json, stdout

_HELP = """Show the layers of an int8 MODEL.tflite as tinycompress compiles them.

\b
Per layer: op, C kernel, shapes, MACs, constant bytes and where its output
lives in the arena. Totals: MACs, weight bytes, the arena planned on the
host (arena_bytes), the arena TFLM needs for the same model
(tflm_arena_bytes, from its print_allocations()) and, when
arm-none-eabi-gcc is installed, code and flash bytes of a Cortex-M4 build.

\b
Examples:
  tinycompress inspect out/model_int8.tflite
  tinycompress inspect out/model_int8.tflite --json | jq .arena_bytes
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def command(model: str, as_json: bool) -> None:
    from pathlib import Path

    from tinycompress.codegen.summary import summarize
    from tinycompress.tflite.reader import load_bytes

    data, _ = load_bytes(Path(model))
    report = summarize(data).to_dict()
    if as_json:
        print_json(report)
        return
    _table(report)


def _table(report: dict) -> None:
    from rich.table import Table

    table = Table(title="layers", show_lines=False)
    for column in ("#", "op", "kernel", "output", "MACs", "const B", "weights", "arena @"):
        table.add_column(column, justify="right" if column in ("#", "MACs", "const B", "arena @") else "left")
    for layer in report["layers"]:
        table.add_row(str(layer["index"]), layer["op"], layer["kernel"],
                      "x".join(map(str, layer["output_shape"])), f"{layer['macs']:,}",
                      f"{layer['weights_bytes']:,}", layer["weights_storage"], str(layer["output_offset"]))
    stdout.print(table)
    ratio = report["arena_ratio"]
    code = "" if report["code_bytes"] is None else f"  code {report['code_bytes']:,} B (Cortex-M4 -Os)"
    stdout.print(
        f"MACs {report['macs']:,}  weights {report['weights_bytes']:,} B  "
        f"arena {report['arena_bytes']:,} B  (TFLM {report['tflm_arena_bytes']:,} B, x{ratio}){code}",
        highlight=False,
    )
