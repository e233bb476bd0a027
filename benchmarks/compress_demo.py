"""Figures and stage timings of the compress stage on the demo models.

Trains the demo CNN and DS-CNN (Keras 3, digits), compresses each with
sparsity 0.5 and 16 clusters in PTQ and QAT mode (and the DS-CNN once more
with DepthwiseConv2D opted in), and prints one JSON
object per run: accuracies (int8 from the TFLM interpreter), sizes, TFLM
arena, per-layer int8 sparsity and unique values per channel, timings.

    .venv/bin/python benchmarks/compress_demo.py [OUT_DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from tinycompress.compress.demo import DEMO_RECIPE, train_demo_model
from tinycompress.compress.pipeline import compress
from tinycompress.compress.recipe import QuantizeConfig


def main(out_dir: Path) -> None:
    for arch in ("cnn", "dscnn"):
        start = time.perf_counter()
        model = train_demo_model(out_dir / f"digits_{arch}.keras", arch)
        train_s = round(time.perf_counter() - start, 2)
        runs = [("ptq", False), ("qat", False)] + ([("ptq", True)] if arch == "dscnn" else [])
        for mode, with_depthwise in runs:
            recipe = dataclasses.replace(
                DEMO_RECIPE,
                prune=dataclasses.replace(DEMO_RECIPE.prune, depthwise=with_depthwise),
                cluster=dataclasses.replace(DEMO_RECIPE.cluster, depthwise=with_depthwise),
                quantize=QuantizeConfig(mode=mode),
            )
            name = f"{arch}-{mode}{'-depthwise' if with_depthwise else ''}"
            report = compress(model.path, "digits", out_dir / name, recipe).report.to_dict()
            summary = {
                "model": arch,
                "depthwise_opt_in": with_depthwise,
                "mode": report["quantization"]["mode"],
                "qat_scheme": report["quantization"]["qat_scheme"],
                "train_s": train_s,
                "accuracy": report["accuracy"],
                "int8_minus_float_points": round(100 * (report["accuracy"]["int8"] - report["accuracy"]["float"]), 2),
                "size_bytes": report["size_bytes"],
                "arena_bytes": report["arena_bytes"],
                "layers": {
                    layer["name"]: {
                        "pruned": layer["pruned"],
                        "clustered": layer["clustered"],
                        "int8_sparsity": layer["int8_sparsity"],
                        "max_unique_per_channel": layer["max_unique_per_channel"],
                    }
                    for layer in report["layers"]
                    if layer["int8_ops"]
                },
                "checks": report["checks"],
                "timing_s": report["timing_s"],
            }
            print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", type=Path, metavar="OUT_DIR",
                        help="keep the trained models and compress outputs here (default: a temporary directory)")
    args = parser.parse_args()
    if args.out_dir is not None:
        main(args.out_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
