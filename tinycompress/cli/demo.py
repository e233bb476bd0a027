"""``tinycompress demo``: the whole chain on a small digits CNN or a sensor Conv1D, nothing to download."""

from __future__ import annotations

import click

from tinycompress.cli._common import progress_for, sigterm_as_interrupt

_HELP = """Train a small model and run it all the way onto an emulated board.

\b
The model is trained with Keras 3 (saved as OUT/digits_cnn.keras, what
TF >= 2.16 saves), compressed with target_sparsity 0.5 and 16 clusters,
compiled to C, built offline for the board, run in QEMU, and profiled over
the emulated serial port: on-device accuracy, bit-exactness against TFLM,
latency per inference and per layer. This is `tinycompress run` on the
digits data set (--model har: a Conv1D on aeon:BasicMotions, accelerometer
and gyroscope series, saved as OUT/basicmotions_har.keras); OUT has the
same layout, and must likewise be new, empty, or an earlier run's or
demo's output.

\b
Examples:
  tinycompress demo
  tinycompress demo -o /tmp/demo --arch dscnn --board qemu-riscv32
  tinycompress demo -o /tmp/har --model har --limit 10
  tinycompress demo --quiet --json > report.json
"""


@click.command(help=_HELP)
@click.option("-o", "--out", "out", default="demo-out", show_default=True, metavar="OUT",
              help="Output directory.")
@click.option("--arch", "--model", "arch", type=click.Choice(["cnn", "dscnn", "dscnn-wide", "har", "har-wide"]),
              default="cnn", show_default=True,
              help="cnn: Conv/Dense; dscnn: Conv-BN, DepthwiseConv-BN, 1x1 Conv-BN, Dense; dscnn-wide: MLPerf "
                   "Tiny's KWS DS-CNN layout, 64 filters, 4 DS blocks (all on digits); har: Conv1D-BN-ReLU-MaxPool "
                   "x2 (16, 32 filters), Dense on aeon:BasicMotions; har-wide: the same with 32, 64 filters. The "
                   "wide ones are over-wide for their data: the models channel pruning is for.")
@click.option("--board", default="qemu-netduinoplus2", show_default=True, metavar="BOARD",
              help="An emulated board (see `tinycompress boards`).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Profile only the first N test samples.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the combined report.json on stdout.")
def command(out: str, arch: str, board: str, limit: int | None, quiet: bool, as_json: bool) -> None:
    from tinycompress.cli.run import finish
    from tinycompress.run import run_demo

    with progress_for(quiet or as_json) as progress, sigterm_as_interrupt():
        result = run_demo(out, arch, board, limit=limit, progress=progress)
    finish(result, quiet=quiet, as_json=as_json)
