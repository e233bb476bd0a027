"""Instructions per layer: reference kernels vs firmware/runtime/arch/ variants.

Builds firmware/runtime/tests/tc_arch_check.c for each emulated core (the
same build tests/codegen/test_runtime_arch.py checks for bit-exactness), runs
it in QEMU under -icount and prints one row per layer: instructions of the
reference kernel, of the arch variant, and the ratio. Under QEMU these are
guest instructions, not cycles (no pipeline, wait states or caches); the
an547 port counts SysTick ticks, so its figures have a resolution of ~31
instructions; the RISC-V port reads minstret.

After each core's rows come the packed layers against their dense twins
(same shape and data): convolutions decoded once into a scratch (issue 9
bounds them at 1.15x), fully connected layers with one shared palette
(bound 1.5x), sparse at 50, 25 and 12.5 % nonzeros, and block-pruned
(TC_WEIGHTS_BLOCK8, bound 1.5x) and block-pruned and clustered
(TC_WEIGHTS_BLOCK4, 4-bit indices, bound 1.5x) with blocks of 16, 8 and 4
at 50 % kept, 25 % kept and all kept.

    .venv/bin/python benchmarks/arch_kernels.py [--json] [--targets cortex-m4-dsp,...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "codegen"))

from test_runtime_arch import LINE, TARGETS, build_checker, run_checker  # noqa: E402

# A packed case and the name of its dense twin: conv_..._palette4_scratch -> conv_..., and
# fc_512to32_palette4_shared / fc_512to32_sparse8[_25pct] / fc_512to32_block{8,4}[_b4][_25pct|_all] -> fc_512to32.
PACKED_TWIN = re.compile(r"_(?:palette4|sparse8)_scratch$|_palette4_shared$|_sparse8(?:_\d+pct)?$"
                         r"|_block[84](?:_b\d+)?(?:_\d+pct|_all)?$")


def measure(name: str) -> list[dict[str, object]]:
    target = TARGETS[name]
    with tempfile.TemporaryDirectory() as tmp:
        run = run_checker(target, build_checker(target, Path(tmp)))
    if "TC_ARCH_CHECK PASS" not in run.stdout:
        raise SystemExit(f"{name}: arch kernels differ from the reference:\n{run.stdout}")
    rows = []
    for match in filter(None, map(LINE.match, run.stdout.splitlines())):
        layer, ref, arch, size, _ = match.groups()
        rows.append({"target": name, "layer": layer, "output_bytes": int(size),
                     "reference_instructions": int(ref), "arch_instructions": int(arch),
                     "speedup": round(int(ref) / int(arch), 2)})
    return rows


def twins(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each packed layer whose dense twin was measured too: both counts and their ratio."""
    arch = {row["layer"]: row["arch_instructions"] for row in rows}
    found = []
    for row in rows:
        twin = PACKED_TWIN.sub("", str(row["layer"]))
        if twin != row["layer"] and twin in arch:
            found.append({"target": row["target"], "packed": row["layer"], "dense": twin,
                          "packed_instructions": row["arch_instructions"], "dense_instructions": arch[twin],
                          "ratio": round(int(row["arch_instructions"]) / int(arch[twin]), 2)})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--targets", default=",".join(sorted(TARGETS)),
                        help=f"comma-separated cores (default: all of {', '.join(sorted(TARGETS))})")
    args = parser.parse_args()
    for name in args.targets.split(","):
        rows = measure(name)
        for row in rows:
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{row['target']:18} {row['layer']:24} ref {row['reference_instructions']:>9,}  "
                      f"arch {row['arch_instructions']:>9,}  x{row['speedup']}")
        for pair in twins(rows):
            if args.json:
                print(json.dumps(pair))
            else:
                print(f"{pair['target']:18} {pair['packed']:36} {pair['packed_instructions']:>9,} vs dense "
                      f"{pair['dense']} {pair['dense_instructions']:>9,}  {pair['ratio']}x")


if __name__ == "__main__":
    main()
