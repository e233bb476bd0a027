"""Channel pruning measured on the device: MACs, weight flash and instructions per inference.

For each model: train the demo model (Keras 3) on its data set, then take it
through `tinycompress run` on qemu-netduinoplus2 (Cortex-M4) twice, with
the same magnitude pruning, clustering, int8 conversion and --optimize
objective: once with [channels] (the recipe of the table, from BENCHES
below) and once without it. Every figure of the table is read from the
reports of those two runs:

  float acc          accuracy.float (the trained float model, host)
  int8 acc (host)    compress.accuracy.int8: the int8 model in the TFLM interpreter, whole test set
                     (in brackets: the same without channel pruning)
  device acc         accuracy.device, on the test samples the device ran (all unless --limit)
  bit-exact          outputs_bit_exact of both runs (every output byte equal to TFLM's), and
                     the device accuracy equal to accuracy.host_int8 on the same samples
  MACs               compress.channels.macs before -> after (conv, depthwise, dense)
  weight flash       memory_bytes.weights: the int8 constants as the device stores them
                     (per layer dense, palette or sparse, as --optimize chose, with biases
                     and requantisation tables), against the float model's weights and
                     biases after batch-norm folding at 4 B each (compress.per_stage.int8.params
                     of the run without channels: the layers the device runs, at full width)
  instructions       latency.median on the board, without -> with channel pruning
                     (under QEMU -icount, one count per guest instruction)

Rows (demo architectures of tinycompress.compress.demo, see `tinycompress demo -h`):

  cnn            the digits demo CNN (Conv 16, Conv 32, Dense 64, Dense 10)
  dscnn-wide     MLPerf Tiny's KWS DS-CNN layout on digits (64 filters, 4 DS blocks)
  dscnn-wide-x8  the same, the kept widths rounded to a multiple of 8 ([channels] multiple)
  har-wide       Conv1D 32, 64 + Dense on aeon:JapaneseVowels (12 channels x 25 steps,
                 9 speakers, 370 test series)

Examples:

    .venv/bin/python benchmarks/channel_pruning.py
    .venv/bin/python benchmarks/channel_pruning.py --models cnn --limit 50 -o /tmp/chp

The table goes to stdout, progress to stderr; the wall time follows the table
(about 7 minutes for all four on two cores: training is a few seconds per
model, fine-tuning a few epochs per stage, and QEMU runs the whole test set).
Figures under QEMU are instructions, not cycles (no pipeline or wait states).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinycompress.compress.recipe import (
    ChannelsConfig,
    ClusterConfig,
    DistillConfig,
    FinetuneConfig,
    PruneConfig,
    Recipe,
)

BOARD = "qemu-netduinoplus2"


@dataclass(frozen=True)
class Bench:
    """One table row: a demo architecture, its data set and the recipe with channel pruning."""

    architecture: str
    data: str
    recipe: Recipe


def _recipe(channels: ChannelsConfig, epochs: int, learning_rate: float, distill: float = 0.0,
            temperature: float = 4.0) -> Recipe:
    return Recipe(channels=channels, prune=PruneConfig(target_sparsity=0.5), cluster=ClusterConfig(clusters=16),
                  distill=DistillConfig(alpha=distill, temperature=temperature),
                  finetune=FinetuneConfig(epochs=epochs, learning_rate=learning_rate))


BENCHES = {
    "cnn": Bench("cnn", "digits", _recipe(ChannelsConfig(keep=0.5), 4, 1e-3)),
    # Narrowed to 26 filters the DS-CNN needs the float model's soft targets to recover (see docs/compress.md).
    "dscnn-wide": Bench("dscnn-wide", "digits", _recipe(ChannelsConfig(keep=0.4), 20, 3e-3, distill=0.5)),
    # The same rounded to 24 filters, the widths the Cortex-M kernels run fastest.
    "dscnn-wide-x8": Bench("dscnn-wide", "digits",
                           _recipe(ChannelsConfig(keep=0.4, multiple=8), 20, 3e-3, distill=0.7, temperature=2.0)),
    "har-wide": Bench("har-wide", "aeon:JapaneseVowels", _recipe(ChannelsConfig(keep=0.5), 20, 3e-3)),
}


def describe(recipe: Recipe) -> str:
    """The recipe in one table cell."""
    c, f = recipe.channels, recipe.finetune
    parts = [f"keep {c.keep:g}", c.criterion]
    if c.steps > 1:
        parts.append(f"{c.steps} steps")
    if c.multiple > 1:
        parts.append(f"multiple {c.multiple}")
    if recipe.distill.enabled:
        parts.append(f"distill {recipe.distill.alpha:g}/T{recipe.distill.temperature:g}")
    parts += [f"sparsity {recipe.prune.target_sparsity:g}", f"{recipe.cluster.clusters} clusters",
              f"{f.epochs} ep @ {f.learning_rate:g}"]
    return ", ".join(parts)


def measure(name: str, bench: Bench, out: Path, *, limit: int | None, optimize: str) -> dict[str, Any]:
    """Train, then run with and without [channels]; the two combined reports."""
    from tinycompress.compress.data import load_dataset
    from tinycompress.compress.demo import train_demo_model
    from tinycompress.run import run

    print(f"{name}: training {bench.architecture} on {bench.data}", file=sys.stderr, flush=True)
    model = train_demo_model(out / f"{name}.keras", bench.architecture, data=load_dataset(bench.data))
    reports = {}
    without = dataclasses.replace(bench.recipe, channels=ChannelsConfig())
    for label, recipe in (("channels", bench.recipe), ("baseline", without)):
        print(f"{name}: compress + run on {BOARD} ({label})", file=sys.stderr, flush=True)
        reports[label] = run(model.path, bench.data, BOARD, out / f"{name}-{label}", recipe, limit=limit,
                             optimize=optimize).report
    return reports


def row(name: str, bench: Bench, reports: dict[str, dict[str, Any]]) -> str:
    """One markdown row from the two reports."""
    pruned, baseline = reports["channels"], reports["baseline"]
    accuracy = pruned["accuracy"]
    macs = pruned["compress"]["channels"]["macs"]
    flash, float32 = pruned["memory_bytes"]["weights"], 4 * baseline["compress"]["per_stage"]["int8"]["params"]
    before, after = baseline["latency"]["median"], pruned["latency"]["median"]
    exact = all(r["outputs_bit_exact"] and r["accuracy"]["device"] == r["accuracy"]["host_int8"]
                for r in (pruned, baseline))
    cells = [
        f"{name} ({bench.data})",
        describe(bench.recipe),
        f"{accuracy['float']:.2%}",
        f"{pruned['compress']['accuracy']['int8']:.2%} ({baseline['compress']['accuracy']['int8']:.2%} without)",
        f"{accuracy['device']:.2%} ({pruned['samples']})",
        "yes" if exact else "NO",
        f"{macs['before']:,} → {macs['after']:,} (−{1 - macs['after'] / macs['before']:.0%})",
        f"{flash:,} B / {float32:,} B ({float32 / flash:.1f}x)",
        f"{before:,.0f} → {after:,.0f}",
        f"{before / after:.2f}x",
    ]
    return "| " + " | ".join(cells).replace("%", " %") + " |"


HEADER = (
    "| model (data) | recipe | float acc | int8 acc (host) | device acc (samples) | bit-exact | MACs (cut) "
    "| weight flash on device / float32 weights | instructions per inference, without → with channels | speed-up |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def main(names: list[str], out: Path, *, limit: int | None, optimize: str) -> None:
    start = time.perf_counter()
    rows = [row(name, BENCHES[name], measure(name, BENCHES[name], out, limit=limit, optimize=optimize))
            for name in names]
    print(HEADER)
    print("\n".join(rows))
    print(f"\nboard {BOARD}, --optimize {optimize}; wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(BENCHES), metavar="A,B",
                        help=f"comma-separated subset of {', '.join(BENCHES)} (default: all)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="profile only the first N test samples on the device (default: the whole test set)")
    parser.add_argument("--optimize", choices=("size", "speed", "balanced"), default="balanced",
                        help="weight storage objective of both runs (default: balanced)")
    parser.add_argument("-o", "--out", type=Path, default=None, metavar="OUT",
                        help="keep the trained models and run outputs here (default: a temporary directory)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"unknown model {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    if args.out is not None:
        main(chosen, args.out, limit=args.limit, optimize=args.optimize)
    else:
        with tempfile.TemporaryDirectory(prefix="channel-pruning-") as tmp:
            main(chosen, Path(tmp), limit=args.limit, optimize=args.optimize)
