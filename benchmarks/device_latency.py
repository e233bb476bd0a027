"""Instructions per inference and MACs per instruction on an emulated board.

The baseline optimized kernels are measured against. For each test model
(built with random weights and calibrated int8 quantization, as in the
tests): export + build for the board, run it in QEMU under -icount (TIM2
counts one per instruction on qemu-netduinoplus2), stream a few random
inputs through the serial protocol, and check every output byte against
the TFLM interpreter. Each model is built twice: with the reference kernels
(firmware/runtime/src) and with the board's ``runtime_arch`` kernels when it
has one. Prints a markdown table, and writes the full reports (per-layer
counts included) as JSON when OUT is given.

    .venv/bin/python benchmarks/device_latency.py [--board qemu-netduinoplus2] [--samples 3]
                                                  [--models a,b] [-o OUT.json]

Figures under QEMU are instructions, not cycles: there is no pipeline,
wait state or cache model, so they rank kernels but are not board latency.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "link")]

MODELS = ("small_cnn", "ds_cnn_kws", "mobilenet_vww", "resnet8", "dense_autoencoder")


def build_tflite(name: str) -> bytes:
    import keras_int8

    return keras_int8.convert_int8(getattr(keras_int8, name)(0), samples=16)


def measure(name: str, board: str, samples: int, work: Path, runtime_arch: str | None) -> dict:
    from protocol_project import export_and_build

    from tinycompress.link import DeviceLink
    from tinycompress.oracle import TflmOracle
    from tinycompress.profile.device import profile_link
    from tinycompress.profile.project import load_project
    from tinycompress.project.qemu import start_qemu

    tflite = work / f"{name}.tflite"
    if not tflite.exists():
        tflite.write_bytes(build_tflite(name))
    built = export_and_build(tflite, board, work / f"{name}-{runtime_arch or 'reference'}", runtime_arch=runtime_arch)
    profiled = load_project(built.project.path, tflite)
    target = profiled.target()
    shape = TflmOracle(profiled.tflite).input.shape
    x = np.random.default_rng(0).normal(0.0, 1.0, (samples, *shape[1:])).astype(np.float32)
    with start_qemu(built.project.board, built.firmware) as session, \
            DeviceLink(session.open_serial(), session.url, timeout=120) as link:
        report = profile_link(link, profiled.tflite, x, None, target)
    macs = sum(layer.macs for layer in target.layers)
    report["model"] = name
    report["kernels"] = runtime_arch or "reference"
    report["macs"] = macs
    report["macs_per_unit"] = macs / report["latency"]["median"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="qemu-netduinoplus2")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    from tinycompress.project.boards import get_board

    arches = [None] + ([get_board(args.board).runtime_arch] if get_board(args.board).runtime_arch else [])
    reports = []
    with tempfile.TemporaryDirectory(prefix="tc-bench-") as tmp:
        for name in args.models.split(","):
            for arch in arches:
                reports.append(measure(name, args.board, args.samples, Path(tmp), arch))
                r = reports[-1]
                print(f"{name} ({r['kernels']}): {r['latency']['median']:,.0f} {r['latency']['unit']}", file=sys.stderr)
    print(f"| model ({args.board}) | kernels | MACs | instructions / inference (median) | MACs / instruction "
          "| arena B | flash B | RAM B | bit-exact (samples) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in reports:
        print(f"| {r['model']} | {r['kernels']} | {r['macs']:,} | {r['latency']['median']:,.0f} "
              f"| {r['macs_per_unit']:.4f} | {r['arena_bytes']:,} | {r['flash_bytes']:,} | {r['ram_bytes']:,} "
              f"| {'yes' if r['outputs_bit_exact'] else 'NO'} ({r['samples']}) |")
    if args.output:
        args.output.write_text(json.dumps(reports, indent=2) + "\n")


if __name__ == "__main__":
    main()
