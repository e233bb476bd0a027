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

After the per-model table comes one table per build with each layer's op,
input and output shapes, MACs, instructions and MACs per instruction. The
CMSIS-NN column is not measured here: it is the published figure of issue 9
(Arm's CMSIS-NN kernels called directly, no interpreter, on the same
emulator, -icount shift=0, GCC 12.2 -O2), kept as a constant reference.

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


# Instructions per inference of the MLPerf Tiny models with Arm's CMSIS-NN
# kernels on qemu-netduinoplus2 (Cortex-M4, -icount shift=0, GCC 12.2 -O2):
# the published reference figures of issue 9, not measured by this script.
CMSIS_NN_BOARD = "qemu-netduinoplus2"
CMSIS_NN_INSTRUCTIONS = {
    "ds_cnn_kws": 7_700_000,
    "resnet8": 29_860_000,
    "mobilenet_vww": 24_090_000,
    "dense_autoencoder": 580_000,
}


# Builder arguments that give the MLPerf Tiny reference shapes (the tests use smaller inputs).
MLPERF_SHAPES = {"mobilenet_vww": {"size": 96}}


def build_tflite(name: str) -> bytes:
    import keras_int8

    model = getattr(keras_int8, name)(0, **MLPERF_SHAPES.get(name, {}))
    return keras_int8.convert_int8(model, samples=16)


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
    shapes = layer_shapes(tflite.read_bytes())
    for layer in report["layers"]:
        layer["shape"] = shapes.get(layer.get("tensor", layer["name"]), "")
    report["model"] = name
    report["kernels"] = runtime_arch or "reference"
    report["macs"] = macs
    report["macs_per_unit"] = macs / report["latency"]["median"]
    return report


def layer_shapes(tflite: bytes) -> dict[str, str]:
    """Output tensor name -> "input -> output" shape (batch dim dropped), for the per-layer table."""
    from tinycompress.tflite import read_model

    model = read_model(tflite)

    def dims(index: int) -> str:
        return "x".join(map(str, model.tensors[index].shape[1:])) or "1"

    return {model.tensors[op.outputs[0]].name: f"{dims(op.inputs[0])} -> {dims(op.outputs[0])}"
            for op in model.operators}


def cmsis_columns(report: dict, board: str) -> tuple[str, str]:
    """The published CMSIS-NN figure and ours / CMSIS-NN, or dashes for models or boards it does not cover."""
    reference = CMSIS_NN_INSTRUCTIONS.get(report["model"])
    if reference is None or board != CMSIS_NN_BOARD:
        return "-", "-"
    return f"{reference:,}", f"{report['latency']['median'] / reference:.2f}x"


def print_layers(report: dict, board: str) -> None:
    """One markdown table of a build's layers, from the report's per-layer counts."""
    print(f"\n{report['model']} ({report['kernels']}, {board}), per layer:\n")
    print("| # | op | shape | MACs | instructions | MACs / instruction |")
    print("|---:|---|---|---:|---:|---:|")
    for i, layer in enumerate(report["layers"]):
        per = layer["macs"] / layer["median"] if layer["median"] else 0.0
        print(f"| {i} | {layer['op']} | {layer.get('shape', '')} | {layer['macs']:,} | {layer['median']:,.0f} "
              f"| {per:.3f} |")


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
          "| CMSIS-NN instructions (published, issue 9) | ours / CMSIS-NN "
          "| arena B | flash B | RAM B | bit-exact (samples) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in reports:
        cmsis, ratio = cmsis_columns(r, args.board)
        print(f"| {r['model']} | {r['kernels']} | {r['macs']:,} | {r['latency']['median']:,.0f} "
              f"| {r['macs_per_unit']:.4f} | {cmsis} | {ratio} "
              f"| {r['arena_bytes']:,} | {r['flash_bytes']:,} | {r['ram_bytes']:,} "
              f"| {'yes' if r['outputs_bit_exact'] else 'NO'} ({r['samples']}) |")
    for r in reports:
        print_layers(r, args.board)
    if args.output:
        args.output.write_text(json.dumps(reports, indent=2) + "\n")


if __name__ == "__main__":
    main()
