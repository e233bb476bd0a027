"""Arena, weights, MACs and code size per model: tinycompress vs TFLM.

Builds the MLPerf Tiny reference architectures (random weights, calibrated
int8; VWW at its full 96x96 input) and a small CNN, compiles each to C, checks
it bit-exact against the TFLM interpreter on random inputs and prints one
row per model. TFLM's arena is the total its print_allocations() reports
(64-bit host); ours is the single static arena the planner laid out. Code
size is .text of a Cortex-M4 -Os link of the model and the kernels it calls.

    .venv/bin/python benchmarks/arena.py [--samples N] [--json] [--compress]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(_ROOT), str(_ROOT / "tests")]  # the package and the shared Keras test models

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


def compress_stage_models(workdir: Path) -> dict[str, bytes]:
    """The demo digits CNN and DS-CNN after `tinycompress compress` (prune 0.5, 16 clusters, PTQ)."""
    from tinycompress.compress.demo import DEMO_RECIPE, train_demo_model
    from tinycompress.compress.pipeline import compress

    models = {}
    for arch in ("cnn", "dscnn"):
        demo = train_demo_model(workdir / f"{arch}.keras", arch, epochs=5)
        compress(demo.path, "digits", workdir / arch, DEMO_RECIPE)
        models[f"digits_{arch}_compressed"] = (workdir / arch / "model_int8.tflite").read_bytes()
    return models


def measure(name: str, tflite: bytes, samples: int) -> dict[str, object]:
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
    parser.add_argument("--compress", action="store_true",
                        help="also train and compress the demo digits models (a minute or two)")
    args = parser.parse_args()
    rows = [measure(name, keras_int8.convert_int8(build()), args.samples) for name, build in MODELS.items()]
    if args.compress:
        with tempfile.TemporaryDirectory() as tmp:
            rows += [measure(name, data, args.samples)
                     for name, data in compress_stage_models(Path(tmp)).items()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    header = (f"{'model':24} {'exact':>7} {'arena':>8} {'TFLM':>8} {'ratio':>6} {'weights':>9} "
              f"{'MACs':>12} {'code':>7}")
    print(header)
    for r in rows:
        print(f"{r['model']:24} {r['bit_exact']:>7} {r['arena_bytes']:>8} {r['tflm_arena_bytes']:>8} "
              f"{r['ratio']:>6} {r['weights_bytes']:>9} {r['macs']:>12,} {r['code_text_bytes']:>7}")


if __name__ == "__main__":
    main()
