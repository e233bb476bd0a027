"""Instructions per layer: reference kernels vs firmware/runtime/arch/ variants.

Builds firmware/runtime/tests/tc_arch_check.c for each emulated core (the
same build tests/codegen/test_runtime_arch.py checks for bit-exactness), runs
it in QEMU under -icount and prints one row per layer: instructions of the
reference kernel, of the arch variant, and the ratio. Under QEMU these are
guest instructions, not cycles (no pipeline, wait states or caches); the
an547 port counts SysTick ticks, so its figures have a resolution of ~31
instructions; the RISC-V port reads minstret.

    .venv/bin/python benchmarks/arch_kernels.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "codegen"))

from test_runtime_arch import LINE, TARGETS, build_checker, run_checker  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args()
    for name in sorted(TARGETS):
        for row in measure(name):
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{row['target']:18} {row['layer']:24} ref {row['reference_instructions']:>9,}  "
                      f"arch {row['arch_instructions']:>9,}  x{row['speedup']}")


if __name__ == "__main__":
    main()
