"""Flash of a model's firmware with the runtime's weight formats cut to the model's, on each emulated board.

Every kernel carries the decode code of every packed weight format (4-bit
palette, sparse bitmap, kept blocks), selected at run time, so --gc-sections
cannot drop it. A generated project builds the runtime with
-DTC_WEIGHT_FORMATS=<the model's mask> (model.h's <PREFIX>_WEIGHT_FORMATS).
For each model and board this script builds the selftest firmware twice,
with every format compiled in (what every build linked before) and with the
model's mask, and prints the ELF's .text and flash used by both.

  small_cnn     the test CNN (conv, depthwise, dense), all dense: mask 0x1
  packed_dense  Dense layers as a shared palette and sparse rows (--optimize size): 0x7
  packed_cnn    a clustered 3x3 conv (palette) and a pruned 1x1 conv (sparse): 0x7

    .venv/bin/python benchmarks/weight_formats_flash.py [--models a,b] [--boards x,y]

Sizes are deterministic for a given toolchain; nothing is run on the boards
(tests/project/test_dsp_kernels_emulated.py checks these builds against TFLM).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_ROOT), str(_ROOT / "tests")]  # the package and the shared Keras test models

import keras_int8  # noqa: E402
from tinycompress.project.boards import get_board  # noqa: E402
from tinycompress.project.build import build_project  # noqa: E402
from tinycompress.project.export import export_project  # noqa: E402
from tinycompress.project.model import ModelSources, model_sources_from_tflite  # noqa: E402

ALL_FORMATS = 0x1F  # TC_FORMAT_ALL of tc_runtime.h: the runtime's default
BOARDS = ("qemu-netduinoplus2", "qemu-mps3-an547", "qemu-riscv32")
# name -> (int8 .tflite, --optimize objective)
MODELS: dict[str, tuple[Callable[[], bytes], str]] = {
    "small_cnn": (lambda: keras_int8.convert_int8(keras_int8.small_cnn(0)), "balanced"),
    "packed_dense": (lambda: keras_int8.convert_int8(keras_int8.packed_dense(), samples=16, per_channel=False),
                     "size"),
    "packed_cnn": (lambda: keras_int8.convert_int8(keras_int8.packed_cnn(), samples=16), "balanced"),
}


def firmware_sizes(model: ModelSources, board_name: str, folder: Path) -> tuple[int, int]:
    """(.text, flash used) of the selftest firmware of ``model`` built for ``board_name``."""
    project = export_project(model, get_board(board_name), folder, app="selftest").project
    memory = build_project(project).memory
    return memory.sections.get(".text", 0), memory.flash_used


def main(models: list[str], boards: list[str], work: Path) -> None:
    print("| model | formats | board | .text, every format → model's | flash used, every format → model's |")
    print("|---|---|---|---:|---:|")
    for name in models:
        make, objective = MODELS[name]
        tflite = work / f"{name}.tflite"
        tflite.write_bytes(make())
        for board in boards:
            own = model_sources_from_tflite(tflite, runtime_arch=get_board(board).runtime_arch, optimize=objective)
            every = dataclasses.replace(own, weight_formats=ALL_FORMATS)
            print(f"{name} on {board}: building twice", file=sys.stderr, flush=True)
            text_all, flash_all = firmware_sizes(every, board, work / f"{name}-{board}-all")
            text, flash = firmware_sizes(own, board, work / f"{name}-{board}-own")
            storages = sorted({row["storage"] for row in own.weights_storage})
            print(f"| {name} | 0x{own.weight_formats:X} ({', '.join(storages)}) | {board} "
                  f"| {text_all:,} → {text:,} (−{text_all - text:,}) "
                  f"| {flash_all:,} → {flash:,} (−{flash_all - flash:,}) |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), metavar="A,B",
                        help=f"comma-separated subset of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--boards", default=",".join(BOARDS), metavar="X,Y",
                        help=f"comma-separated subset of {', '.join(BOARDS)} (default: all)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.models.split(",") if name.strip()]
    boards = [name.strip() for name in args.boards.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(MODELS)) + sorted(set(boards) - set(BOARDS))
    if unknown:
        parser.error(f"unknown model or board {', '.join(unknown)}; models: {', '.join(MODELS)}; "
                     f"boards: {', '.join(BOARDS)}")
    with tempfile.TemporaryDirectory(prefix="weight-formats-") as tmp:
        main(chosen, boards, Path(tmp))
