"""The compress stage end to end: float → prune → cluster → int8, measured after each step.

Everything the user can get wrong (recipe, data, model, output directory)
is checked before any training starts, and the outputs appear in OUT only
when the whole run succeeded.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tinycompress.compress.cluster import cluster
from tinycompress.compress.data import load_dataset, match_model
from tinycompress.compress.evaluate import int8_accuracy, int8_weights, keras_accuracy
from tinycompress.compress.keras_io import load_model, save_model
from tinycompress.compress.prune import prune, resolve_schedule
from tinycompress.compress.quantize import calibration_set, quantization_aware_training, to_float32, to_int8
from tinycompress.compress.recipe import Recipe
from tinycompress.compress.report import CompressReport, checks, layer_reports, quantization_info
from tinycompress.compress.train import outputs_are_probabilities
from tinycompress.errors import InputError
from tinycompress.fsutil import atomic_directory, write_bytes_atomic, write_text_atomic
from tinycompress.progress import NullProgress, Progress

TFLITE_NAME = "model_int8.tflite"
FLOAT_MODEL_NAME = "model_float.keras"
REPORT_NAME = "report.json"


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


def check_out_dir(out_dir: Path) -> None:
    """Refuse to replace a directory that is not an earlier compress output."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output {out_dir} is a file; give a directory path for -o")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / REPORT_NAME).exists():
        raise InputError(
            f"output directory {out_dir} is not empty and holds no earlier {REPORT_NAME}; "
            "give a new or empty directory so nothing of yours is replaced"
        )


def compress(
    model_path: str | Path,
    data_spec: str | Path,
    out_dir: str | Path,
    recipe: Recipe | None = None,
    progress: Progress | None = None,
) -> CompressResult:
    """Compress ``model_path`` with ``recipe`` and write the results to ``out_dir``."""
    recipe = recipe or Recipe()
    progress = progress or NullProgress()
    out = Path(out_dir)
    timer = _Timer()
    ft = recipe.finetune
    with timer.stage("load"):
        check_out_dir(out)
        data = load_dataset(data_spec)
        loaded = load_model(model_path)
        data = match_model(data, loaded.input_shape, loaded.num_outputs)
    model = loaded.model
    from_logits = not outputs_are_probabilities(model, data.x_test)
    accuracy: dict[str, float | None] = {"float": None, "pruned": None, "clustered": None, "qat": None, "int8": None}

    with timer.stage("evaluate_float"):
        accuracy["float"] = keras_accuracy(model, data.x_test, data.y_test, progress=progress, description="float model")
        float32_tflite = to_float32(model)

    pruned: dict[str, list[str]] = {}
    notes: list[str] = []
    schedule = None
    if recipe.prune.enabled:
        with timer.stage("prune"):
            schedule = resolve_schedule(recipe.prune, data, ft)
            model, pruned, prune_notes = prune(model, data, recipe.prune, ft, from_logits=from_logits, progress=progress)
            accuracy["pruned"] = keras_accuracy(model, data.x_test, data.y_test, progress=progress, description="pruned model")
            notes += prune_notes

    clustered: dict[str, list[str]] = {}
    if recipe.cluster.enabled:
        with timer.stage("cluster"):
            model, clustered, cluster_notes = cluster(model, data, recipe.cluster, ft, from_logits=from_logits, progress=progress)
            accuracy["clustered"] = keras_accuracy(model, data.x_test, data.y_test, progress=progress, description="clustered model")
            notes += cluster_notes

    to_convert, scheme = model, None
    if recipe.quantize.mode == "qat":
        with timer.stage("qat"):
            to_convert, scheme = quantization_aware_training(
                model, data, ft, pruned=bool(pruned), clustered=bool(clustered),
                from_logits=from_logits, progress=progress,
            )
            accuracy["qat"] = keras_accuracy(to_convert, data.x_test, data.y_test, progress=progress, description="QAT model")

    with timer.stage("convert"):
        tflite = to_int8(to_convert, calibration_set(data, recipe.quantize, ft.seed))
    with timer.stage("evaluate_int8"):
        evaluation = int8_accuracy(tflite, data.x_test, data.y_test, progress=progress)
        accuracy["int8"] = evaluation.accuracy
        weights = int8_weights(tflite)

    layers = layer_reports(model, pruned, clustered, weights)
    report = CompressReport(
        model=str(model_path),
        source_format=loaded.source_format,
        bridged=loaded.bridged,
        data=data.name,
        samples={"train": len(data.x_train), "test": len(data.x_test)},
        accuracy=accuracy,
        size_bytes={"float32": len(float32_tflite), "int8": len(tflite)},
        arena_bytes=evaluation.arena_bytes,
        quantization=quantization_info(recipe.quantize.mode, scheme, evaluation),
        prune_schedule=dataclasses.asdict(schedule) if schedule else None,
        layers=layers,
        int8_weights=weights,
        timing_s=timer.seconds,
        recipe=recipe.to_dict(),
        checks=checks(layers, recipe.prune.target_sparsity, recipe.cluster.clusters),
        notes=notes,
        files={"tflite": TFLITE_NAME, "float_model": FLOAT_MODEL_NAME, "report": REPORT_NAME},
    )
    with timer.stage("write"), atomic_directory(out) as tmp:
        write_bytes_atomic(tmp / TFLITE_NAME, tflite)
        save_model(model, tmp / FLOAT_MODEL_NAME)
        report.timing_s = dict(timer.seconds)
        write_text_atomic(tmp / REPORT_NAME, json.dumps(report.to_dict(), indent=2) + "\n")
    return CompressResult(out.resolve(), report)
