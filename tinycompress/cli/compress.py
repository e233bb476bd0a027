"""``tinycompress compress``: prune, cluster and int8-quantize a trained Keras model."""

from __future__ import annotations

from typing import Any

import click

from tinycompress.cli._common import print_json, progress_for, stdout

_HELP = """Compress MODEL into a full-int8 .tflite, measuring accuracy after every step.

\b
MODEL  a Keras 3 .keras file, a Keras 2 .h5 file or a SavedModel directory
DATA   a .npz with x_train, y_train, x_test, y_test (integer labels),
       or the builtin name "digits" (scikit-learn's 8x8 digits)

\b
Stages: float eval -> prune + fine-tune -> cluster + fine-tune ->
int8 conversion (PTQ, or QAT with --recipe) -> int8 eval on the TFLM
interpreter (what the microcontroller computes).

\b
OUT receives model_int8.tflite, model_float.keras (stripped float model)
and report.json, all at once when the run succeeds.

\b
Examples:
  tinycompress compress model.keras --data digits -o out/
  tinycompress compress model.h5 --data data.npz --recipe recipe.toml -o out/
  tinycompress compress model.keras --data digits -o out/ --quiet --json

\b
A recipe (TOML, every key optional, unknown keys are errors):
  [prune]    target_sparsity = 0.5   # 0 disables pruning
             schedule = "polynomial" # or "constant"; end_epoch = 1.5 or end_step = 60
             depthwise = false       # true: prune DepthwiseConv2D too (tfmot skips it)
  [cluster]  clusters = 16           # 0 disables; init = "kmeans++"; preserve_sparsity = true
             depthwise = false       # true: cluster DepthwiseConv2D too
  [quantize] mode = "ptq"            # or "qat" (PQAT/CQAT/PCQAT); calibration_samples = 200
  [finetune] epochs = 2              # per stage; batch_size = 32; learning_rate = 0.001

Full reference: docs/compress.md.
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL")
@click.option("--data", "data", required=True, metavar="DATA", help='.npz file or "digits".')
@click.option("--recipe", "recipe_path", metavar="RECIPE.toml", help="Compression recipe (defaults when absent).")
@click.option("-o", "--out", "out", required=True, metavar="OUT", help="Output directory.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary table.")
@click.option("--json", "as_json", is_flag=True, help="Print report.json on stdout.")
def command(model: str, data: str, recipe_path: str | None, out: str, quiet: bool, as_json: bool) -> None:
    from tinycompress.compress.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    from tinycompress.compress.pipeline import compress

    with progress_for(quiet) as progress:
        result = compress(model, data, out, recipe, progress)
    report = result.report.to_dict()
    if as_json:
        print_json(report)
    elif not quiet:
        print_summary(report, str(result.out_dir))


def print_summary(report: dict[str, Any], out_dir: str) -> None:
    """The human view of report.json: accuracy per stage, sizes, per-layer weights."""
    from rich import box
    from rich.table import Table

    stages = Table(title="accuracy (test set)", title_justify="left", box=box.SIMPLE_HEAD)
    stages.add_column("stage")
    stages.add_column("accuracy", justify="right")
    for stage, value in report["accuracy"].items():
        if value is not None:
            label = "int8 (TFLM)" if stage == "int8" else stage
            stages.add_row(label, f"{100 * value:.2f} %")
    stdout.print(stages)

    layers = Table(title="layers (zeros, unique values per channel: int8 .tflite weights)", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("layer", "type", "params", "pruned", "clustered", "zeros", "uniq/ch"):
        layers.add_column(column, justify="left" if column in ("layer", "type") else "right")
    for layer in report["layers"]:
        layers.add_row(
            layer["name"], layer["type"], str(layer["params"]),
            "yes" if layer["pruned"] else "-", "yes" if layer["clustered"] else "-",
            _pct(layer["int8_sparsity"]),
            "-" if layer["max_unique_per_channel"] is None else str(layer["max_unique_per_channel"]),
        )
    stdout.print(layers)
    for note in report["notes"]:
        stdout.print(f"note: {note}", highlight=False)
    for check, ok in report["checks"].items():
        stdout.print(f"check {check.replace('_', ' ')}: {'yes' if ok else '[bold red]NO[/]'}")
    size = report["size_bytes"]
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in report["timing_s"].items())
    stdout.print(
        f"size: float32 {size['float32']:,} B -> int8 {size['int8']:,} B; TFLM arena {report['arena_bytes']:,} B\n"
        f"time: {timing}\nwrote {out_dir}/ (model_int8.tflite, model_float.keras, report.json)",
        highlight=False,
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"
