"""The compress stage end to end: float → prune → cluster → int8, measured after each step.

Everything the user can get wrong (recipe, data, model, output directory)
is checked before any training starts, and the outputs appear in OUT only
when the whole run succeeded.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress.compress.channels import plan as plan_channels
from tinycompress.compress.channels import prune_channels
from tinycompress.compress.cluster import cluster
from tinycompress.compress.data import load_dataset, match_model
from tinycompress.compress.distill import soft_targets
from tinycompress.compress.evaluate import int8_accuracy, int8_weight_values, int8_weights, keras_metrics
from tinycompress.compress.keras_io import load_model, save_model
from tinycompress.compress.lowrank import lowrank
from tinycompress.compress.lowrank import plan as plan_lowrank
from tinycompress.compress.metrics import CLASSIFICATION, metric_names
from tinycompress.compress.prune import block_size, prune, resolve_schedule
from tinycompress.compress.quantize import calibration_set, quantization_aware_training, to_float32, to_int8
from tinycompress.compress.recipe import Recipe
from tinycompress.compress.report import (CompressReport, checks, device_figures, keras_costs, layer_reports,
                                          measured_sizes, quantization_info)
from tinycompress.compress.train import outputs_are_probabilities
from tinycompress.fsutil import atomic_directory, check_output_dir, write_bytes_atomic, write_text_atomic
from tinycompress.progress import NullProgress, Progress

TFLITE_NAME = "model_int8.tflite"
FLOAT_MODEL_NAME = "model_float.keras"
REPORT_NAME = "report.json"
COMMAND = "compress"
STAGES = ("float", "channels", "lowrank", "pruned", "clustered", "qat", "int8")  # in report order


@dataclass(frozen=True)
class CompressResult:
    out_dir: Path
    report: CompressReport

    @property
    def tflite_path(self) -> Path:
        return self.out_dir / TFLITE_NAME


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


@contextmanager
def _spinner(progress: Progress, description: str) -> Iterator[None]:
    """A task with no total around a step that reports nothing (the converter): the user sees what runs."""
    task = progress.task(description, None)
    try:
        yield
    finally:
        task.close()


def compress(
    model_path: str | Path,
    data_spec: str | Path,
    out_dir: str | Path,
    recipe: Recipe | None = None,
    progress: Progress | None = None,
    *,
    trust_model: bool = False,
    beside_report: Callable[[Path, dict[str, Any]], object] | None = None,
    task: str | None = None,
    optimize: str = "balanced",
    runtime_arch: str | None = None,
) -> CompressResult:
    """Compress ``model_path`` with ``recipe`` and write the results to ``out_dir``.

    ``trust_model`` lets a model file carry code (a ``Lambda`` layer, custom
    objects) that loading runs; without it such a file is refused.
    ``beside_report(path, report)`` is called with report.json's path and
    content while the output is still temporary, so what it writes beside
    it (the CLI's HTML report) is part of the output and of its marker.
    ``task`` (classification, regression, autoencoder) overrides the task
    detected from the data; it picks the fine-tuning loss and the metrics.
    ``optimize`` is the weight storage objective (codegen.storage) the int8
    model's device figures in the report assume, as ``export`` will store it;
    ``runtime_arch`` the kernel chain its instruction estimate is for (a
    board's, when the cost model is calibrated for it; default the M4's).
    """
    from tinycompress.codegen.storage import check_objective  # a later stage, asked only to check the name

    check_objective(optimize)
    recipe = recipe or Recipe()
    progress = progress or NullProgress()
    out = Path(out_dir)
    timer = _Timer()
    ft = recipe.finetune
    with timer.stage("load"):
        check_output_dir(out, COMMAND, inputs=(model_path, data_spec))
        data = load_dataset(data_spec, task)
        loaded = load_model(model_path, trust_model=trust_model)
        data = match_model(data, loaded.input_shape, loaded.num_outputs,
                           output_shape=tuple(int(d) for d in loaded.model.output_shape[1:]))
        if recipe.channels.enabled:
            plan_channels(loaded.model, recipe.channels)  # a bad keep or an untraceable model fails before training
        if recipe.lowrank.enabled:
            plan_lowrank(loaded.model, recipe.lowrank)  # so does a rank larger than a layer allows
    model = loaded.model
    from_logits = data.task == CLASSIFICATION and not outputs_are_probabilities(model, data.x_test)
    teacher = None
    if recipe.distill.enabled:  # before any training: a model with no class scores to distil fails here
        with timer.stage("teacher"):
            teacher = soft_targets(model, data, recipe.distill, from_logits=from_logits)
    distilled: dict[str, dict[str, float]] = {}
    scores = {name: dict.fromkeys(STAGES) for name in metric_names(data.task, data.anomaly_test is not None)}
    per_stage: dict[str, dict[str, Any]] = {}

    def measure(stage: str, measured: Any, description: str) -> None:
        """The task's metrics of the float model after ``stage``, into ``scores``."""
        found = keras_metrics(measured, data.x_test, data.y_test, progress=progress, description=description,
                              task=data.task, anomaly=data.anomaly_test)
        for name, value in found.items():
            scores[name][stage] = value
        if stage != "qat":  # the QAT model wraps every layer; its architecture is the stage's before
            per_stage[stage] = keras_costs(measured)

    with timer.stage("evaluate_float"):
        measure("float", model, "float model")
        with _spinner(progress, "converting to float32 .tflite"):
            float32_tflite = to_float32(model)

    pruned: dict[str, list[str]] = {}
    notes: list[str] = []
    channels = None
    if recipe.channels.enabled:
        with timer.stage("channels"):
            model, channels = prune_channels(model, data, recipe.channels, ft, from_logits=from_logits,
                                             progress=progress, teacher=teacher)
            if teacher:
                distilled["channels"] = teacher.to_dict()
            measure("channels", model, "channel-pruned model")
            notes += channels.notes
    if recipe.lowrank.enabled:
        with timer.stage("lowrank"):
            model, factorised = lowrank(model, data, recipe.lowrank, ft, from_logits=from_logits,
                                        progress=progress, teacher=teacher)
            if teacher and factorised.factors:
                distilled["lowrank"] = teacher.to_dict()
            measure("lowrank", model, "low-rank model")
            notes += factorised.notes + [
                f"layer {f.layer} factorised at rank {f.rank} ({f.energy:.1%} of its energy): "
                f"{f.weights_before} -> {f.weights_after} weights and MACs per position"
                for f in factorised.factors.values()
            ]
    schedule = None
    if recipe.prune.enabled:
        with timer.stage("prune"):
            schedule = resolve_schedule(recipe.prune, data, ft)
            model, pruned, prune_notes = prune(model, data, recipe.prune, ft, from_logits=from_logits,
                                               progress=progress, teacher=teacher)
            if teacher:
                distilled["pruned"] = teacher.to_dict()
            measure("pruned", model, "pruned model")
            notes += prune_notes

    clustered: dict[str, list[str]] = {}
    if recipe.cluster.enabled:
        with timer.stage("cluster"):
            model, clustered, cluster_notes = cluster(model, data, recipe.cluster, ft, from_logits=from_logits,
                                                      progress=progress, teacher=teacher)
            if teacher:
                distilled["clustered"] = teacher.to_dict()
            measure("clustered", model, "clustered model")
            notes += cluster_notes

    to_convert, scheme = model, None
    if recipe.quantize.mode == "qat":
        with timer.stage("qat"):
            to_convert, scheme = quantization_aware_training(
                model, data, ft, pruned=bool(pruned), clustered=bool(clustered),
                from_logits=from_logits, progress=progress, teacher=teacher,
            )
            if teacher:
                distilled["qat"] = teacher.to_dict()
            measure("qat", to_convert, "QAT model")

    with timer.stage("convert"), _spinner(progress, "converting to int8 (TFLite converter, calibration)"):
        tflite = to_int8(to_convert, calibration_set(data, recipe.quantize, ft.seed),
                         dense_per_tensor=bool(clustered))
    with timer.stage("evaluate_int8"):
        evaluation = int8_accuracy(tflite, data.x_test, data.y_test, progress=progress, task=data.task,
                                   anomaly=data.anomaly_test)
        for name, value in evaluation.metrics.items():
            scores[name]["int8"] = value
        weights = int8_weights(tflite)
    with timer.stage("codegen"):
        device = device_figures(tflite, optimize, runtime_arch)
        per_stage["int8"] = device.costs

    blocks = {name: block_size(model.get_layer(name), recipe.prune) for name in pruned}
    layers = layer_reports(model, pruned, clustered, weights, int8_weight_values(tflite), blocks)
    report = CompressReport(
        model=str(model_path),
        source_format=loaded.source_format,
        bridged=loaded.bridged,
        data=data.name,
        samples={"train": len(data.x_train), "test": len(data.x_test)},
        task=data.task,
        **scores,
        size_bytes=measured_sizes(float32_tflite, tflite, device.weights_bytes),
        arena_bytes=evaluation.arena_bytes,
        quantization=quantization_info(recipe.quantize.mode, scheme, evaluation),
        prune_schedule=dataclasses.asdict(schedule) if schedule else None,
        channels=channels.to_dict() if channels else None,
        per_stage=per_stage,
        instructions_estimate=device.estimate,
        distillation=distilled if teacher else None,
        layers=layers,
        int8_weights=weights,
        timing_s=timer.seconds,
        recipe=recipe.to_dict(),
        checks=checks(layers, recipe.prune.target_sparsity, recipe.cluster.clusters),
        notes=notes,
        files={"tflite": TFLITE_NAME, "float_model": FLOAT_MODEL_NAME, "report": REPORT_NAME},
    )
    with timer.stage("write"), atomic_directory(out, COMMAND) as tmp:
        write_bytes_atomic(tmp / TFLITE_NAME, tflite)
        save_model(model, tmp / FLOAT_MODEL_NAME)
        report.timing_s = dict(timer.seconds)
        written = report.to_dict()
        write_text_atomic(tmp / REPORT_NAME, json.dumps(written, indent=2) + "\n")
        if beside_report is not None:
            beside_report(tmp / REPORT_NAME, written)
    return CompressResult(out.resolve(), report)
