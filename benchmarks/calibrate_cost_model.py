"""Fit the per-op instruction cost model (tinycompress/codegen/costmodel.py) to measured layer counts.

Reads measured per-layer instruction counts, classifies each layer into its
kernel path with the cost model's own code, and fits each path's
coefficients by non-negative least squares on the relative error. Prints
the fit error per path, per layer and per model, and writes the
coefficients of the kernel chain into tinycompress/codegen/cost_model.json
(the other chains it holds are kept). No QEMU run here. Two kinds of input:

* the JSON that benchmarks/device_latency.py writes with -o (the benchmark
  models, rebuilt here with the same builders so the layer shapes match;
  its reference-kernel builds are skipped);
* a ``tinycompress run`` or ``demo`` output directory (its report.json and
  compress/model_int8.tflite, compiled with the objective it used).

The lead's re-run, one command per step:

    .venv/bin/python benchmarks/device_latency.py --board qemu-netduinoplus2 --samples 2 -o /tmp/m4.json
    for m in cnn dscnn har; do .venv/bin/tinycompress demo --model $m -o /tmp/demo-$m --limit 3 --quiet; done
    .venv/bin/python benchmarks/calibrate_cost_model.py /tmp/m4.json /tmp/demo-cnn /tmp/demo-dscnn /tmp/demo-har

``--check`` prints the errors of the coefficients in cost_model.json on
the given measurements without fitting (an out-of-sample check);
``--kernels`` picks the chain when the inputs hold several; ``--dry-run``
fits and prints without writing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT.parent), str(ROOT)]


@dataclass(frozen=True)
class Measured:
    """One model measured on a board: its int8 .tflite and the per-layer counts of its inference."""

    name: str
    board: str
    kernels: str
    unit: str
    tflite: bytes
    optimize: str
    layers: list[dict[str, Any]]  # the profile report's per-layer rows: op, median
    total: float  # the measured latency per inference (median)


def load(path: Path) -> list[Measured]:
    """The measurements in a device_latency.py JSON or a run/demo output directory."""
    from tinycompress.project.boards import get_board

    if path.is_dir():
        report = json.loads((path / "report.json").read_text())
        if "device" not in report or not report.get("complete"):
            raise SystemExit(f"{path}: not a complete run or demo output (no device figures in report.json)")
        estimate = report["compress"].get("instructions_estimate") or {}
        return [Measured(Path(report["model"]).stem, report["board"], get_board(report["board"]).runtime_arch
                         or "reference", report["latency"]["unit"],
                         (path / "compress" / "model_int8.tflite").read_bytes(),
                         estimate.get("weights_storage_objective", "balanced"),
                         report["device"]["layers"], float(report["latency"]["median"]))]
    from device_latency import build_tflite

    return [Measured(r["model"], r["board"], r["kernels"], r["latency"]["unit"], build_tflite(r["model"]), "balanced",
                     r["layers"], float(r["latency"]["median"]))
            for r in json.loads(path.read_text()) if r["kernels"] != "reference"]


def collect(measured: list[Measured]) -> list[dict[str, Any]]:
    """One row per measured layer: model, index, op, path, features, measured instructions."""
    from tinycompress.codegen import generate
    from tinycompress.codegen.costmodel import layer_path, packed_ratio
    from tinycompress.codegen.storage import DEFAULT_ARCH, KERNEL_COSTS
    from tinycompress.tflite import read_model

    rows = []
    for m in measured:
        model = read_model(m.tflite)
        # The storage export chose for the measured board: ranked for its kernel chain.
        arch = m.kernels if m.kernels in KERNEL_COSTS else DEFAULT_ARCH
        infos = generate(model, optimize=m.optimize, runtime_arch=arch).layers
        if [info.op for info in infos] != [layer["op"] for layer in m.layers]:
            raise SystemExit(f"{m.name}: the compiled model's layers ({[info.op for info in infos]}) differ from "
                             f"the measured ones ({[layer['op'] for layer in m.layers]}); measure and fit one tree")
        for info, layer in zip(infos, m.layers):
            path, features = layer_path(model, info)
            rows.append({"model": m.name, "index": info.index, "op": info.op, "path": path, "storage": info.storage,
                         "packed": packed_ratio(model, info, arch) if info.storage not in ("s8", "-") else None,
                         "features": features, "measured": float(layer["median"])})
    return rows


def fit_path(names: tuple[str, ...], rows: list[dict[str, Any]]) -> np.ndarray:
    """Non-negative coefficients minimising the squared *relative* error over ``rows``.

    Relative, so a 3,000-instruction layer weighs as much as a 3-million one:
    the small layers of small models are the ones compress reports most.
    """
    from scipy.optimize import nnls

    a = np.array([[row["features"][name] / row["measured"] for name in names] for row in rows])
    scale = a.max(axis=0)
    scale[scale == 0] = 1.0
    solution, _ = nnls(a / scale, np.ones(len(rows)))
    return solution / scale


def fit(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every path's coefficients, fitted on its dense layers, and errors (the data file's ``paths``).

    Layers with packed weights are left out of the fit (their kernels' cost
    comes from the storage model, codegen.storage) but estimated and shown.
    """
    from tinycompress.codegen.costmodel import path_features

    paths: dict[str, Any] = {}
    for path in sorted({row["path"] for row in rows if row["storage"] in ("s8", "-")}):
        names = path_features(path)
        dense = [row for row in rows if row["path"] == path and row["storage"] in ("s8", "-")]
        coefficients = {n: float(f"{c:.6g}") for n, c in zip(names, fit_path(names, dense))}
        paths[path] = {"coefficients": coefficients, **apply(coefficients, dense)}
    for row in rows:
        if row["storage"] not in ("s8", "-"):
            apply((paths.get(row["path"]) or {}).get("coefficients"), [row])
    return paths


def apply(coefficients: dict[str, float] | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Fill each row's ``estimated`` (None without coefficients, or a packed storage without a cost);
    the rows' error figures."""
    for row in rows:
        scale = 1.0 if row["storage"] in ("s8", "-") else row["packed"]
        row["estimated"] = None if coefficients is None or scale is None else scale * float(
            sum(c * row["features"][n] for n, c in coefficients.items()))
    errors = [abs(row["estimated"] / row["measured"] - 1) for row in rows if row["estimated"] is not None]
    return {"layers": len(rows), "mean_abs_error": round(float(np.mean(errors)), 4) if errors else None,
            "max_abs_error": round(float(max(errors)), 4) if errors else None}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def report(arch: str, board: str, measured: list[Measured], rows: list[dict[str, Any]],
           paths: dict[str, Any], calibrated: set[str]) -> dict[str, Any]:
    """Print the errors per path, layer and model; return the ``fit`` entry of the data file.

    ``calibrated``: the paths that have coefficients."""
    from tinycompress.codegen.costmodel import PATH_FEATURES
    from tinycompress.codegen.ops import OPS

    print(f"\n{arch} kernels on {board}: per path ({len(rows)} layers of {len(measured)} models)\n")
    print("| path | layers | coefficients (instructions per unit) | mean abs error | max abs error |")
    print("|---|---:|---|---:|---:|")
    for path, entry in paths.items():
        terms = ", ".join(f"{c:.4g} x {n}" for n, c in (entry.get("coefficients") or {}).items()) or "none"
        print(f"| {path} | {entry['layers']} | {terms} | {_pct(entry['mean_abs_error'])} "
              f"| {_pct(entry['max_abs_error'])} |")
    print("\nper layer (packed weights: not fitted, the dense estimate scaled by codegen.storage):\n\n"
          "| model | # | op | path | storage | measured | estimated | error |\n|---|---:|---|---|---|---:|---:|---:|")
    for row in rows:
        estimated, measured_here = row["estimated"], row["measured"]
        print(f"| {row['model']} | {row['index']} | {row['op']} | {row['path']} | {row['storage']} "
              f"| {measured_here:,.0f} | {'-' if estimated is None else f'{estimated:,.0f}'} "
              f"| {'-' if estimated is None else f'{estimated / measured_here - 1:+.1%}'} |")
    per_model = {}
    print("\nper model (whole inference as measured, estimate = sum of its layers):\n")
    print("| model | measured | estimated | error |\n|---|---:|---:|---:|")
    for m in measured:
        mine = [row["estimated"] for row in rows if row["model"] == m.name]
        estimated = None if None in mine else sum(mine)
        error = None if estimated is None else estimated / m.total - 1
        per_model[m.name] = {"measured": m.total, "estimated": None if estimated is None else round(estimated),
                             "error": None if error is None else round(error, 4)}
        print(f"| {m.name} | {m.total:,.0f} | {'-' if estimated is None else f'{estimated:,.0f}'} "
              f"| {'-' if error is None else f'{error:+.1%}'} |")
    kernels = {spec.kernel.removeprefix("tc_").removesuffix("_s8") for spec in OPS.values()
               if spec.kernel and spec.kernel not in ("tc_conv_s8", "tc_depthwise_conv_s8")}
    unknown = sorted((set(PATH_FEATURES) | kernels) - calibrated)
    if unknown:
        print(f"\nno coefficients for: {', '.join(unknown)} (those layers get no estimate)")
    errors = [abs(row["estimated"] / row["measured"] - 1) for row in rows
              if row["estimated"] is not None and row["storage"] in ("s8", "-")]
    return {"layers": len(errors), "mean_abs_layer_error": round(float(np.mean(errors)), 4),
            "max_abs_layer_error": round(float(max(errors)), 4), "per_model": per_model}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path,
                        help="device_latency.py -o JSON files and/or run/demo output directories")
    parser.add_argument("--kernels", help="the kernel chain to fit (a runtime_arch, e.g. cortex-m-dsp)")
    parser.add_argument("--check", action="store_true",
                        help="print the errors of the stored coefficients on the inputs; fit nothing")
    parser.add_argument("--dry-run", action="store_true", help="fit and print, do not write cost_model.json")
    args = parser.parse_args()

    from tinycompress.codegen.costmodel import DATA_FILE, load_cost_model

    measured = [m for path in args.inputs for m in load(path)]
    arches = sorted({m.kernels for m in measured if m.kernels != "reference"})
    chosen = [args.kernels] if args.kernels else arches
    if not chosen or any(arch not in arches for arch in chosen):
        raise SystemExit(f"no measurements of the {', '.join(chosen) or 'board'} kernels in the inputs "
                         f"(they hold: {', '.join(arches) or 'reference kernels only'})")
    data = json.loads(DATA_FILE.read_text()) if DATA_FILE.exists() else {"calibrations": {}}
    for arch in chosen:
        mine = [m for m in measured if m.kernels == arch]
        boards = sorted({m.board for m in mine})
        if len(boards) != 1:
            raise SystemExit(f"the {arch} measurements come from several boards ({', '.join(boards)}); fit one")
        rows = collect(mine)
        if args.check:
            stored = load_cost_model(arch).coefficients
            paths = {p: {"coefficients": stored.get(p), **apply(stored.get(p), [r for r in rows if r["path"] == p])}
                     for p in sorted({row["path"] for row in rows})}
            report(arch, boards[0], mine, rows, paths, set(stored))
            continue
        paths = fit(rows)
        data["calibrations"][arch] = {
            "board": boards[0], "unit": mine[0].unit, "paths": paths,
            "fit": report(arch, boards[0], mine, rows, paths, set(paths)),
            "measured": {"models": [m.name for m in mine], "fitted": datetime.date.today().isoformat()},
        }
    if args.check or args.dry_run:
        return
    data["about"] = ("Coefficients of tinycompress/codegen/costmodel.py per kernel chain, written by "
                     "benchmarks/calibrate_cost_model.py; edit by re-running it, not by hand.")
    DATA_FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"\nwrote {DATA_FILE.relative_to(ROOT.parent)} ({', '.join(chosen)})")


if __name__ == "__main__":
    main()
