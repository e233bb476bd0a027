"""``tinycompress demo``: the whole flow on a small digits CNN, nothing to download."""

from __future__ import annotations

import click

from tinycompress.cli._common import print_json, progress_for, stdout

_HELP = """Train a small CNN on the digits data set and compress it.

\b
The model is trained with Keras 3 and saved as OUT/digits_cnn.keras (what
TF >= 2.16 saves), then compressed with target_sparsity 0.5 and 16
clusters into OUT/compressed/ (model_int8.tflite, report.json).

\b
Examples:
  tinycompress demo
  tinycompress demo -o /tmp/demo --arch dscnn
  tinycompress demo --quiet --json > report.json
"""


@click.command(help=_HELP)
@click.option("-o", "--out", "out", default="demo-out", show_default=True, metavar="OUT",
              help="Output directory.")
@click.option("--arch", type=click.Choice(["cnn", "dscnn"]), default="cnn", show_default=True,
              help="cnn: Conv/Dense; dscnn: Conv-BN, DepthwiseConv-BN, 1x1 Conv-BN, Dense.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary table.")
@click.option("--json", "as_json", is_flag=True, help="Print the compression report.json on stdout.")
def command(out: str, arch: str, quiet: bool, as_json: bool) -> None:
    from tinycompress.cli.compress import print_summary
    from tinycompress.compress.demo import run_demo

    with progress_for(quiet) as progress:
        result = run_demo(out, arch, progress)
    report = result.compressed.report.to_dict()
    if as_json:
        print_json(report)
    elif not quiet:
        stdout.print(f"trained {result.model.path} (Keras 3, float accuracy {100 * result.model.float_accuracy:.2f} %)")
        print_summary(report, str(result.compressed.out_dir))
