"""Link throughput on an emulated board: per-exchange latency, input upload, seconds per sample.

Builds MobileNet VWW at the MLPerf Tiny input size (96x96x3 = 27,648 input
bytes, random weights, as in the tests), exports and builds it for the
board, starts QEMU as ``tinycompress profile`` does, and times over the
serial link:

- HELLO round trips (the cost of one request/answer exchange),
- the whole input through the UART (SET_INPUT frames) and through a file
  QEMU reads for the guest (LOAD_INPUT, what ``tinycompress profile`` uses
  when it starts QEMU itself),
- INVOKE alone (the emulated inference, which the transfer should not
  exceed),
- whole samples as the profiler streams them (input + INVOKE +
  LAYER_PROFILE), both ways, checked bit-exact against the TFLM interpreter.

    .venv/bin/python benchmarks/link_throughput.py [--board qemu-netduinoplus2] [--hellos 50] [--samples 5]
                                                   [--work DIR]

``--work`` keeps the model and the project there (the model is converted
once, the project exported and built again each run).

Figures depend on the machine and its load; they are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "link")]


def build_tflite(work: Path) -> Path:
    """MobileNet VWW 96x96x3, int8 (the 27 KB input of issue 12)."""
    import keras_int8

    path = work / "mobilenet_vww.tflite"
    if not path.exists():
        path.write_bytes(keras_int8.convert_int8(keras_int8.mobilenet_vww(0, size=96), samples=8))
    return path


def timed(call, repeat: int) -> list[float]:
    """Wall seconds of each of ``repeat`` calls."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="qemu-netduinoplus2")
    parser.add_argument("--hellos", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--work", type=Path, help="keep the model and project here")
    args = parser.parse_args()

    from protocol_project import export_and_build

    from tinycompress.link import DeviceLink
    from tinycompress.oracle import TflmOracle
    from tinycompress.profile.session import connect, invoke_on
    from tinycompress.project.qemu import start_qemu

    with tempfile.TemporaryDirectory(prefix="tc-link-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        tflite = build_tflite(work)
        built = export_and_build(tflite, args.board, work / "project")
        oracle = TflmOracle(tflite.read_bytes())
        rng = np.random.default_rng(0)
        inputs = rng.integers(-128, 128, (args.samples, *oracle.input.shape[1:]), dtype=np.int8)
        shared = work / "input.bin"
        with start_qemu(built.project.board, built.firmware) as session, \
                DeviceLink(session.open_serial(), session.url, timeout=60) as link:
            info = connect(link, boot_timeout=30)
            data = inputs[0].tobytes()
            hello = timed(link.connect, args.hellos)
            upload = timed(lambda: link.set_input(data), 3)
            link.input_file = shared
            load = timed(lambda: link.set_input(data), 3)
            invoke = timed(link.invoke, 1)  # after an upload: an INVOKE may overwrite its input
            outputs: dict[str, list[bytes]] = {"file": [], "uart": []}
            samples: dict[str, list[float]] = {"file": [], "uart": []}
            requests: dict[str, float] = {}

            def sample(x: np.ndarray, way: str) -> None:
                outputs[way].append(invoke_on(link, x.tobytes()).output)
                link.layer_profile()

            for way in ("file", "uart"):
                link.input_file = shared if way == "file" else None
                before = link.stats.requests
                samples[way] = [timed(lambda x=x: sample(x, way), 1)[0] for x in inputs]
                requests[way] = (link.stats.requests - before) / len(inputs)
            retries = link.stats.retries
        expected = [np.asarray(ref, dtype=np.int8).tobytes() for ref in oracle.run_batch(inputs)]
        exact = all(got == expected for got in outputs.values())

    ms = 1000.0
    print(f"board {args.board}, input {len(data):,} bytes, rx_max {info.rx_max}, "
          f"{int(np.ceil(len(data) / (info.rx_max - 4)))} SET_INPUT frames per input")
    print(f"exchange (HELLO round trip): median {statistics.median(hello) * ms:.2f} ms, "
          f"min {min(hello) * ms:.2f} ms over {len(hello)}")
    print(f"input by SET_INPUT through the UART: median {statistics.median(upload):.3f} s "
          f"({len(data) / statistics.median(upload) / 1024:.1f} KiB/s)")
    print(f"input by LOAD_INPUT through a file: median {statistics.median(load) * ms:.2f} ms")
    print(f"INVOKE (emulated inference + answer): {invoke[0]:.3f} s")
    for way, label in (("file", "LOAD_INPUT"), ("uart", "SET_INPUT")):
        print(f"sample ({label} + INVOKE + LAYER_PROFILE): median {statistics.median(samples[way]):.3f} s, "
              f"{requests[way]:.0f} requests per sample")
    print(f"{retries} retries, every output bit-exact with TFLM: {'yes' if exact else 'NO'}")


if __name__ == "__main__":
    main()
