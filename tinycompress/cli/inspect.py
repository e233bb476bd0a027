"""``tinycompress inspect``: what the compiler makes of a .tflite model."""

from __future__ import annotations

import click

from tinycompress.cli._common import optimize_option, print_json, print_table

_HELP = """Show the layers of an int8 MODEL.tflite as tinycompress compiles them.

\b
Per layer: a short name (op#index:Keras layer, e.g. CONV_2D#0:conv2d),
C kernel, shapes, MACs, constant bytes, how the weights are stored and
why (--optimize), the arena bytes a packed layer decodes its weights into
(scratch, counted in the arena), and where its output lives in the arena.
--optimize ranks the storage options with the Cortex-M4's kernel costs, or
with those of --board's core (its kernel chain: cortex-m-dsp, helium or
portable), as `export` and `run` do for that board. Totals: MACs, weight bytes, the arena planned on the host
(arena_bytes), the arena TFLM needs for the same model (tflm_arena_bytes,
from its print_allocations()) and, when arm-none-eabi-gcc is installed,
code and flash bytes of a Cortex-M4 build. Piped to a file, the table is
plain text; --json keeps each layer's raw output tensor name in "tensor".

\b
Examples:
  tinycompress inspect out/model_int8.tflite
  tinycompress inspect out/model_int8.tflite --json | jq .arena_bytes
  tinycompress inspect out/model_int8.tflite --board qemu-mps3-an547
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@optimize_option
@click.option("--board", "-b", default=None, metavar="NAME",
              help="Rank weight storage for this board's core (see `tinycompress boards`); default: a Cortex-M4.")
def command(model: str, as_json: bool, optimize: str, board: str | None) -> None:
    from pathlib import Path

    from tinycompress.codegen.storage import DEFAULT_ARCH
    from tinycompress.codegen.summary import summarize
    from tinycompress.project.boards import get_board
    from tinycompress.tflite import read_model
    from tinycompress.tflite.reader import load_bytes

    runtime_arch = get_board(board).runtime_arch if board else DEFAULT_ARCH
    data, what = load_bytes(Path(model))
    read_model(data, what)  # errors name the file; summarize() verifies again before TFLM sees the bytes
    report = summarize(data, optimize=optimize, runtime_arch=runtime_arch).to_dict()
    if as_json:
        print_json(report)
        return
    _table(report)


def _table(report: dict) -> None:
    columns = (("layer", False), ("kernel", False), ("output", False), ("MACs", True), ("const B", True),
               ("weights", False), ("scratch B", True), ("arena @", True))
    rows = [(layer["name"], layer["kernel"], "x".join(map(str, layer["output_shape"])), f"{layer['macs']:,}",
             f"{layer['weights_bytes']:,}", layer["weights_storage"], f"{layer['scratch_bytes']:,}",
             f"{layer['output_offset']:,}")
            for layer in report["layers"]]
    print_table("layers", columns, rows)
    for layer in report["layers"]:
        if layer["weights_storage_reason"]:
            click.echo(f"{layer['name']}: {layer['weights_storage']} ({layer['weights_storage_reason']})")
    ratio = report["arena_ratio"]
    code = "" if report["code_bytes"] is None else f"  code {report['code_bytes']:,} B (Cortex-M4 -Os)"
    click.echo(
        f"MACs {report['macs']:,}  weights {report['weights_bytes']:,} B  "
        f"arena {report['arena_bytes']:,} B  (TFLM {report['tflm_arena_bytes']:,} B, x{ratio}){code}"
    )
