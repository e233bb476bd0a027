"""The whole chain in one call: compress → export → build → flash → profile.

``tinycompress run`` and ``tinycompress demo`` are thin layers over
:func:`run`. Everything is written into a temporary directory beside OUT
and renamed into place at the end, so OUT holds either a complete earlier
run or this one, never a mix. Once compression has succeeded its work is
kept: a later stage that fails (build, device) or a device lost mid-profile
still leaves the outputs in OUT, with the report marked incomplete. Each
report.json has its report.html beside it (``tinycompress.report``).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress import __version__
from tinycompress.errors import InputError, TinyCompressError, ToolError
from tinycompress.fsutil import atomic_directory, check_output_dir, write_text_atomic
from tinycompress.progress import NullProgress, Progress

REPORT_NAME = "report.json"
COMPRESS_DIR = "compress"
PROJECT_DIR = "project"
COMMAND = "run"


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    report: dict[str, Any]

    @property
    def complete(self) -> bool:
        return bool(self.report["complete"])


def run(
    model_path: str | Path,
    data_spec: str | Path,
    board_name: str,
    out_dir: str | Path,
    recipe: Any = None,
    *,
    port: str | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    keep_model: bool = False,
    trust_model: bool = False,
    optimize: str = "balanced",
    task: str | None = None,
) -> RunResult:
    """Take ``model_path`` to ``board_name`` and measure it there; results in ``out_dir``.

    Cheap checks (board name, output directory, data set) run before any
    training. Emulated boards are started in QEMU by the profiler; a real
    board is flashed through PlatformIO and then reached at ``port``.
    ``keep_model`` copies the model file into OUT, and the reports name
    that copy (the demo's model is trained in a scratch folder).
    ``trust_model`` lets the model file carry code that loading runs.
    ``optimize`` ("size", "speed", "balanced") picks each layer's weight storage
    (tinycompress.codegen.storage). ``task`` overrides the task detected
    from the data (classification, regression, autoencoder).
    """
    from tinycompress.compress.data import load_dataset
    from tinycompress.compress.pipeline import compress
    from tinycompress.link.client import DEFAULT_BAUDRATE, check_port
    from tinycompress.profile import profile_project
    from tinycompress.project import build_project, export_project, flash_project, get_board
    from tinycompress.project.export import project_owned
    from tinycompress.project.model import model_sources_from_tflite
    from tinycompress.report import write_html_beside

    progress = progress or NullProgress()
    out = Path(out_dir)
    board = get_board(board_name)
    if not board.emulated and not port:
        raise InputError(f"board {board.name} is a real board; give its serial port with --port (e.g. /dev/ttyACM0)")
    if port:
        check_port(port, DEFAULT_BAUDRATE)
    out = check_output_dir(out, COMMAND, inputs=(model_path, data_spec))
    dataset = load_dataset(data_spec, task)
    timing: dict[str, float] = {}

    def timed(stage: str, call: Any) -> Any:
        start = time.perf_counter()
        try:
            return call()
        finally:
            timing[stage] = round(time.perf_counter() - start, 3)

    failure: TinyCompressError | None = None
    with atomic_directory(out, COMMAND, owned=[f"{PROJECT_DIR}/{entry}" for entry in project_owned(board)]) as tmp:
        compressed = timed("compress", lambda: compress(model_path, data_spec, tmp / COMPRESS_DIR, recipe, progress,
                                                        trust_model=trust_model, beside_report=write_html_beside,
                                                        task=task, optimize=optimize,
                                                        runtime_arch=board.runtime_arch))
        if keep_model:
            kept = shutil.copyfile(model_path, tmp / Path(model_path).name)
            compressed.report.model = str(out / kept.name)
            write_report(tmp / COMPRESS_DIR / REPORT_NAME, compressed.report.to_dict())
        try:
            sources = model_sources_from_tflite(compressed.tflite_path, runtime_arch=board.runtime_arch,
                                                optimize=optimize)
            exported = timed("export", lambda: export_project(sources, board, tmp / PROJECT_DIR, progress=progress))
            built = timed("build", lambda: build_project(exported.project, progress=progress))
            if not board.emulated:
                status = timed("flash", lambda: flash_project(exported.project, port=port))
                if status != 0:
                    raise ToolError(f"uploading to {board.name} failed (pio exit {status}); "
                                    f"check the cable and --port {port}")
            device = timed("profile", lambda: profile_project(exported.project, dataset, port=port, limit=limit,
                                                               progress=progress))
            report = combined_report(compressed.report.to_dict(), sources, built.memory, device, board.name, timing,
                                     runtime_arch=board.runtime_arch)
        except TinyCompressError as exc:
            # The compression took minutes: keep it, and say where the chain stopped.
            failure = exc
            report = {"tinycompress": __version__, "model": compressed.report.model, "board": board.name,
                      "complete": False, "stopped": str(exc), "timing_s": timing,
                      "versions": compressed.report.versions, "compress": compressed.report.to_dict()}
        write_report(tmp / REPORT_NAME, report)
    if failure is not None:
        # Same object, longer message: its class, exit code and fields stay what the stage raised.
        failure.args = (f"{failure} (the compressed model and a partial report are kept in {out})",)
        raise failure
    return RunResult(out, report)


def write_report(path: Path, report: dict[str, Any]) -> None:
    """``report`` as ``path`` (report.json) and, beside it, drawn as report.html."""
    from tinycompress.report import write_html_beside

    write_text_atomic(path, json.dumps(report, indent=2) + "\n")
    write_html_beside(path, report)


def combined_report(compress_report: dict[str, Any], sources: Any, memory: Any, device: dict[str, Any],
                    board: str, timing: dict[str, float], *, runtime_arch: str | None = None) -> dict[str, Any]:
    """The compression table beside the device figures, plus both full reports.

    Each metric the task reports (``accuracy``, or ``mse``/``mae``/``roc_auc``)
    lists the float stages, host int8 and the device side by side;
    ``estimate_vs_device`` sets compress's estimates beside what the device
    measured (``runtime_arch``: the board's kernel chain).
    """
    metrics = {
        name: {**{stage: compress_report[name][stage] for stage in ("float", "pruned", "clustered")},
               "host_int8": device[name]["host_int8"], "device": device[name]["device"]}
        for name in ("accuracy", "mse", "mae", "roc_auc") if name in compress_report and name in device
    }
    return {
        "tinycompress": __version__,
        "model": compress_report["model"],
        "data": compress_report["data"],
        "board": board,
        "complete": device["complete"],
        "samples": device["samples"],
        "task": compress_report.get("task", "classification"),
        **metrics,
        "outputs_bit_exact": device["outputs_bit_exact"],
        "latency": device["latency"],
        "memory_bytes": {
            "tflite_float32": compress_report["size_bytes"]["float32"],
            "tflite_int8": compress_report["size_bytes"]["int8"],
            "weights": sources.weights_bytes,
            "arena": sources.arena_bytes,
            "tflm_arena": compress_report["arena_bytes"],
            "flash_used": memory.flash_used,
            "flash_total": memory.flash_total,
            "ram_used": memory.ram_used,
            "ram_total": memory.ram_total,
        },
        "weights_storage": list(sources.weights_storage),
        "estimate_vs_device": estimate_vs_device(compress_report, device, memory, runtime_arch),
        "timing_s": timing,
        "versions": device["versions"],
        "compress": compress_report,
        "device": device,
    }


def _ratio(estimated: float | None, measured: float | None) -> float | None:
    return round(estimated / measured, 4) if estimated is not None and measured else None


def estimate_vs_device(compress_report: dict[str, Any], device: dict[str, Any], memory: Any,
                       runtime_arch: str | None) -> dict[str, Any]:
    """Compress's estimates of the int8 model beside the device's measurements, each with estimated / measured.

    ``latency``: the cost model's instructions against the measured latency
    per inference, in the unit the device counts (instructions on an emulated
    board, cycles on silicon); only when the board runs the kernel chain the
    model is calibrated for, else the estimate is None and ``why`` says so.
    ``layers``: the same per layer. ``flash``: the model's weights as stored
    against the firmware's flash use; ``ram``: the planned arena against the
    firmware's RAM use (code, runtime, stack and buffers come on top, so these
    ratios stay below 1).
    """
    estimate = compress_report.get("instructions_estimate")
    int8 = compress_report.get("per_stage", {}).get("int8", {})
    latency = device.get("latency", {})
    applies = estimate is not None and estimate["runtime_arch"] == runtime_arch
    total = estimate["instructions"] if applies else None
    found: dict[str, Any] = {
        "latency": {"estimated": total, "estimated_unit": "instructions", "measured": latency.get("median"),
                    "measured_unit": latency.get("unit"), "ratio": _ratio(total, latency.get("median")),
                    "calibrated_on": estimate["calibrated_on"] if estimate else None,
                    "runtime_arch": estimate["runtime_arch"] if estimate else None},
        "flash": {"estimated": int8.get("weights_device_bytes"), "measured": memory.flash_used,
                  "ratio": _ratio(int8.get("weights_device_bytes"), memory.flash_used)},
        "ram": {"estimated": int8.get("arena_planned_bytes"), "measured": memory.ram_used,
                "ratio": _ratio(int8.get("arena_planned_bytes"), memory.ram_used)},
        "layers": [],
    }
    if estimate is None:
        found["why"] = "the C runtime cannot compile the model, so nothing was estimated"
    elif not applies:
        found["why"] = (f"the cost model is calibrated for the {estimate['runtime_arch']} kernels; this board runs "
                        f"the {runtime_arch or 'reference'} kernels")
    elif total is None:
        found["why"] = ("the cost model has no calibration for "
                        + ", ".join(estimate["layers_without_calibration"]))
    if applies:
        measured = {layer["name"]: layer["median"] for layer in device.get("layers", [])}
        found["layers"] = [{"name": layer["name"], "op": layer["op"], "estimated": layer["instructions"],
                            "measured": measured.get(layer["name"]),
                            "ratio": _ratio(layer["instructions"], measured.get(layer["name"]))}
                           for layer in estimate["layers"]]
    return found


DEMO_BOARD = "qemu-netduinoplus2"


def run_demo(out_dir: str | Path, architecture: str = "cnn", board_name: str = DEMO_BOARD, *,
             limit: int | None = None, progress: Progress | None = None) -> RunResult:
    """The demo: train a model on its data set with Keras 3, then :func:`run` it on ``board_name``.

    The trained ``.keras`` file joins OUT beside the run's outputs, and the
    reports name it there.
    """
    import tempfile

    from tinycompress.compress.demo import DEMO_DATA, DEMO_RECIPE, demo_model_name, train_demo_model
    from tinycompress.project import get_board

    board = get_board(board_name)
    if not board.emulated:
        raise InputError(f"the demo runs on an emulated board, not {board.name}; use --board qemu-netduinoplus2, "
                         "or `tinycompress run` with --port for a real board")
    check_output_dir(out_dir, COMMAND)
    with tempfile.TemporaryDirectory(prefix="tinycompress-demo-") as scratch:
        model = train_demo_model(Path(scratch) / demo_model_name(architecture), architecture, progress=progress)
        return run(model.path, DEMO_DATA[architecture], board_name, out_dir, DEMO_RECIPE, limit=limit, progress=progress,
                   keep_model=True)
