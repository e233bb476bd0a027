"""``tinycompress compress``: prune, cluster and int8-quantize a trained Keras model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from tinycompress.cli._common import optimize_option, print_json, progress_for, stdout
from tinycompress.compress.metrics import TASKS
from tinycompress.errors import CheckFailedError

if TYPE_CHECKING:
    from tinycompress.compress.pipeline import CompressResult

_HELP = """Compress MODEL into a full-int8 .tflite, measuring accuracy after every step.

\b
MODEL  a Keras 3 .keras file, a Keras 2 .h5 file or a SavedModel directory
DATA   a .npz with x_train, y_train, x_test, y_test (integer labels:
       classification; float targets shaped like the output: regression;
       no y, or y equal to x: autoencoder, optionally with y_test_anomaly
       0/1 per test sample for ROC AUC),
       or the builtin name "digits" (scikit-learn's 8x8 digits), or
       aeon:NAME, a time-series set shipped in the aeon wheel (aeon:BasicMotions)

\b
Stages: float eval -> prune + fine-tune -> cluster + fine-tune ->
int8 conversion (PTQ, or QAT with --recipe) -> int8 eval on the TFLM
interpreter (what the microcontroller computes).

\b
OUT receives model_int8.tflite, model_float.keras (stripped float model),
report.json and report.html (the same figures with plots, self-contained;
see `tinycompress report -h`), all at once when the run succeeds.

\b
Per stage the summary gives parameters, MACs and weight bytes (float32
for the Keras stages; for int8, as the code generator stores them with
--optimize), and for the int8 model the planned arena and the
instructions per inference estimated by a cost model calibrated on
qemu-netduinoplus2 (`tinycompress run` measures them on the board).

\b
The summary ends with checks on the int8 weights (sparsity reached,
clusters kept): yes, NO with the layers that missed, or not requested.
A failed check exits with code 9, after OUT is written.

\b
Examples:
  tinycompress compress model.keras --data digits -o out/
  tinycompress compress model.h5 --data data.npz --recipe recipe.toml -o out/
  tinycompress compress model.keras --data digits -o out/ --quiet --json

\b
A recipe (TOML, every key optional, unknown keys are errors):
  [lowrank]  energy = 0.9            # or rank = 8: SVD-split Dense/1x1 Conv layers; layers = ["fc1"]
  [prune]    target_sparsity = 0.5   # 0 disables pruning
             schedule = "polynomial" # or "constant"; end_epoch = 1.5 or end_step = 60
             depthwise = false       # true: prune DepthwiseConv2D too (tfmot skips it)
             block = 1               # 16: Dense in runs of 16 inputs (faster on the chip)
  [cluster]  clusters = 16           # 0 disables; init = "kmeans++"; preserve_sparsity = true
             depthwise = false       # true: cluster DepthwiseConv2D too
  [quantize] mode = "ptq"            # or "qat" (PQAT/CQAT/PCQAT); calibration_samples = 200
  [finetune] epochs = 2              # per stage; batch_size = 32; learning_rate = 0.001

Full reference: docs/compress.md.
"""


task_option = click.option(
    "--task", type=click.Choice(TASKS), default=None,
    help="What the model does [default: detected from DATA]: picks the metric reported (accuracy, or "
         "MSE/MAE/ROC AUC) and, when compressing, the fine-tuning loss (cross-entropy or MSE).")


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL")
@click.option("--data", "data", required=True, metavar="DATA", help='.npz file, "digits" or aeon:NAME.')
@click.option("--recipe", "recipe_path", metavar="RECIPE.toml", help="Compression recipe (defaults when absent).")
@click.option("-o", "--out", "out", required=True, metavar="OUT", help="Output directory.")
@click.option("--quiet", is_flag=True, help="No progress bars and no summary table.")
@click.option("--json", "as_json", is_flag=True, help="Print report.json on stdout.")
@click.option("--trust-model", is_flag=True,
              help="Load MODEL even if it carries code (Lambda layers, custom objects); only for files you trust.")
@task_option
@optimize_option
def command(model: str, data: str, recipe_path: str | None, out: str, quiet: bool, as_json: bool,
            trust_model: bool, task: str | None, optimize: str) -> None:
    from tinycompress.compress.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    from tinycompress.compress.pipeline import compress
    from tinycompress.report import write_html_beside

    with progress_for(quiet) as progress:
        result = compress(model, data, out, recipe, progress, trust_model=trust_model,
                          beside_report=write_html_beside, task=task, optimize=optimize)
    finish(result, quiet=quiet, as_json=as_json)


def finish(result: CompressResult, *, quiet: bool, as_json: bool) -> None:
    """Print the report (JSON or tables), then fail if a check failed: its outputs are written but wrong."""
    report = result.report.to_dict()
    if as_json:
        print_json(report)
    elif not quiet:
        print_summary(report, str(result.out_dir))
    raise_failed_checks(report, result.out_dir)


def raise_failed_checks(report: dict[str, Any], out_dir: Path) -> None:
    """A CheckFailedError naming every failed check of a compress report (``run`` shares it)."""
    failed = {name: check for name, check in report["checks"].items() if check["status"] == "failed"}
    if not failed:
        return
    reasons = "; ".join(f"check {name.replace('_', ' ')} failed: {check['detail']}" for name, check in failed.items())
    cluster = report["recipe"]["cluster"]
    fix = ("set [cluster] preserve_sparsity = true so clustering keeps the pruned zeros"
           if "sparsity_reached" in failed and cluster["clusters"] > 0 and not cluster["preserve_sparsity"]
           else "give the fine-tuning more epochs or change the recipe")
    raise CheckFailedError(
        f"{reasons}; the outputs were written to {out_dir} (see checks in report.json): {fix}, then compress again"
    )


def print_summary(report: dict[str, Any], out_dir: str) -> None:
    """The human view of report.json: accuracy per stage, sizes, per-layer weights, checks."""
    from rich import box
    from rich.table import Table

    from tinycompress.compress.report import CHECK_FAILED, CHECK_NOT_REQUESTED, CHECK_PASSED

    verdicts = {CHECK_PASSED: "yes", CHECK_FAILED: "[bold red]NO[/]", CHECK_NOT_REQUESTED: "not requested"}

    stdout.print(metric_table(report, f"{report.get('task', 'classification')} metrics (test set)"))
    if report.get("channels"):
        cut = report["channels"]
        stdout.print(
            f"channel pruning: parameters {cut['params']['before']:,} -> {cut['params']['after']:,}, "
            f"MACs {cut['macs']['before']:,} -> {cut['macs']['after']:,}",
            highlight=False,
        )
    if report.get("per_stage"):
        stdout.print(stage_table(report))
    missing = (report.get("instructions_estimate") or {}).get("layers_without_calibration")
    if missing:
        stdout.print(f"no instruction estimate: the cost model has no calibration for {', '.join(missing)}",
                     highlight=False)

    layers = Table(title="layers (zeros, unique values per channel: int8 .tflite weights)", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("layer", "type", "params", "pruned", "clustered", "zeros", "uniq/ch"):
        layers.add_column(column, justify="left" if column in ("layer", "type") else "right")
    for layer in report["layers"]:
        layers.add_row(
            layer["name"], layer["type"], str(layer["params"]),
            _pruned(layer) if layer["pruned"] else "-", "yes" if layer["clustered"] else "-",
            _pct(layer["int8_sparsity"]),
            "-" if layer["max_unique_per_channel"] is None else str(layer["max_unique_per_channel"]),
        )
    stdout.print(layers)
    for note in report["notes"]:
        stdout.print(f"note: {note}", highlight=False)
    for name, check in report["checks"].items():
        verdict = verdicts[check["status"]]
        detail = f" ({escape(check['detail'])})" if check["status"] != CHECK_NOT_REQUESTED else ""
        stdout.print(f"check {name.replace('_', ' ')}: {verdict}{detail}", highlight=False, soft_wrap=True)
    size = report["size_bytes"]
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in report["timing_s"].items())
    device = "unknown (the C runtime cannot compile this model)" if size["weights"] is None else f"{size['weights']:,} B"
    stdout.print(
        f"size: .tflite float32 {size['float32']:,} B -> int8 {size['int8']:,} B; TFLM arena {report['arena_bytes']:,} B\n"
        f"weights as stored on the device: {device}\n"
        f"time: {timing}\nwrote {out_dir}/ (model_int8.tflite, model_float.keras, report.json, report.html)",
        highlight=False,
    )


def stage_table(report: dict[str, Any]) -> Any:
    """Per stage: parameters, MACs, weight bytes (float32, or int8 as stored), planned arena, estimated instructions."""
    from rich import box
    from rich.table import Table

    estimate = report.get("instructions_estimate") or {}
    where = f"; instructions estimated for {estimate['calibrated_on']}" if estimate else ""
    table = Table(title=f"per stage (weights: float32; int8: as stored on the device{where})",
                  title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("stage", "params", "MACs", "weights", "arena", "instructions"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage, figures in report["per_stage"].items():
        weights = figures.get("weights_float32_bytes", figures.get("weights_device_bytes"))
        table.add_row(stage, _count(figures.get("params")), _count(figures.get("macs")),
                      "-" if weights is None else f"{weights:,} B",
                      "-" if figures.get("arena_planned_bytes") is None else f"{figures['arena_planned_bytes']:,} B",
                      _count(figures.get("instructions_estimated")))
    return table


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


METRIC_LABELS = {"accuracy": "accuracy", "mse": "MSE", "mae": "MAE", "roc_auc": "ROC AUC"}
_STAGE_LABELS = {"int8": "int8 (TFLM)", "host_int8": "int8, host (TFLM)"}


def metric_table(report: dict[str, Any], title: str, device: str | None = None) -> Any:
    """One row per measured stage, one column per metric the report holds (accuracy in %, errors as numbers)."""
    from rich import box
    from rich.table import Table

    metrics = [name for name in METRIC_LABELS if report.get(name)]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("stage")
    for name in metrics:
        table.add_column(METRIC_LABELS[name], justify="right")
    labels = {**_STAGE_LABELS, **({"device": f"int8, on {device}"} if device else {})}
    for stage in dict.fromkeys(stage for name in metrics for stage in report[name]):
        values = [report[name].get(stage) for name in metrics]
        if any(value is not None for value in values):
            table.add_row(labels.get(stage, stage), *(_metric(name, value) for name, value in zip(metrics, values)))
    return table


def _metric(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.2f} %" if name == "accuracy" else f"{value:.6g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _pruned(layer: dict[str, Any]) -> str:
    """"yes", or the block a block-pruned Dense layer was pruned in ([prune] block)."""
    block = layer.get("prune_block", 1)
    return f"blocks of {block}" if block > 1 else "yes"
