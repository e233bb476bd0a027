"""``tinycompress demo``: the whole chain on a small digits CNN, nothing to download."""

from __future__ import annotations

import click

from tinycompress.cli._common import progress_for

_HELP = """Train a digits CNN and run it all the way onto an emulated board.

\b
The model is trained with Keras 3 (saved as OUT/digits_cnn.keras, what
TF >= 2.16 saves), compressed with target_sparsity 0.5 and 16 clusters,
compiled to C, built offline for the board, run in QEMU, and profiled over
the emulated serial port: on-device accuracy, bit-exactness against TFLM,
latency per inference and per layer. This is `tinycompress run` on the
digits data set; OUT has the same layout.

\b
Examples:
  tinycompress demo
  tinycompress demo -o /tmp/demo --arch dscnn --board qemu-riscv32
  tinycompress demo --quiet --json > report.json
"""


@click.command(help=_HELP)
@click.option("-o", "--out", "out", default="demo-out", show_default=True, metavar="OUT",
              help="Output directory.")
@click.option("--arch", type=click.Choice(["cnn", "dscnn"]), default="cnn", show_default=True,
              help="cnn: Conv/Dense; dscnn: Conv-BN, DepthwiseConv-BN, 1x1 Conv-BN, Dense.")
@click.option("--board", default="qemu-netduinoplus2", show_default=True, metavar="BOARD",
              help="An emulated board (see `tinycompress boards`).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Profile only the first N test samples.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the combined report.json on stdout.")
def command(out: str, arch: str, board: str, limit: int | None, quiet: bool, as_json: bool) -> None:
    from tinycompress.cli.run import finish
    from tinycompress.run import run_demo

    with progress_for(quiet or as_json) as progress:
        result = run_demo(out, arch, board, limit=limit, progress=progress)
    finish(result, quiet=quiet, as_json=as_json)
