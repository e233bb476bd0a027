"""Arena, weights, MACs and code size per model: tinycompress vs TFLM.

Builds the MLPerf Tiny reference architectures (random weights, calibrated
int8; VWW at its full 96x96 input) and a small CNN, compiles each to C, checks
it bit-exact against the TFLM interpreter on random inputs and prints one
row per model. TFLM's arena is the total its print_allocations() reports
(64-bit host); ours is the single static arena the planner laid out. Code
size is .text of a Cortex-M4 -Os link of the model and the kernels it calls.

    .venv/bin/python benchmarks/arena.py [--samples N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import keras_int8  # noqa: E402
from tinycompress.codegen import generate  # noqa: E402
from tinycompress.codegen.size import cortex_m4_size  # noqa: E402
from tinycompress.codegen.verify import verify_tflite  # noqa: E402
from tinycompress.tflite import read_model  # noqa: E402

MODELS = {
    "kws_ds_cnn": lambda: keras_int8.ds_cnn_kws(),
    "vww_mobilenet_96": lambda: keras_int8.mobilenet_vww(size=96),
    "ic_resnet8": lambda: keras_int8.resnet8(),
    "ad_autoencoder": lambda: keras_int8.dense_autoencoder(),
    "small_cnn": lambda: keras_int8.small_cnn(),
}


def measure(name: str, samples: int) -> dict[str, object]:
    tflite = keras_int8.convert_int8(MODELS[name]())
    result = verify_tflite(tflite, samples=samples)
    size = cortex_m4_size(generate(read_model(tflite)))
    return {
        "model": name,
        "bit_exact": f"{result.samples - result.mismatched_samples}/{result.samples}",
        "arena_bytes": result.arena_bytes,
        "tflm_arena_bytes": result.tflm_arena_bytes,
        "ratio": round(result.arena_bytes / result.tflm_arena_bytes, 3),
        "weights_bytes": result.weights_bytes,
        "macs": result.macs,
        "code_text_bytes": size.text,
        "flash_bytes": size.text + size.rodata,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(name, args.samples) for name in MODELS]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    header = f"{'model':18} {'exact':>7} {'arena':>8} {'TFLM':>8} {'ratio':>6} {'weights':>9} {'MACs':>12} {'code':>7}"
    print(header)
    for r in rows:
        print(f"{r['model']:18} {r['bit_exact']:>7} {r['arena_bytes']:>8} {r['tflm_arena_bytes']:>8} "
              f"{r['ratio']:>6} {r['weights_bytes']:>9} {r['macs']:>12,} {r['code_text_bytes']:>7}")


if __name__ == "__main__":
    main()
