"""``tinycompress verify``: generated C vs the TFLM interpreter, byte for byte."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tinycompress.cli._common import print_json, progress_for, stdout

if TYPE_CHECKING:
    import numpy as np

    from tinycompress.tflite.ir import Model

_HELP = """Compile MODEL.tflite to C, run it on the host and compare with TFLM.

\b
The generated model.c and the runtime are built with
gcc -std=c99 -Wall -Wextra -Werror; N inputs (random int8 by default, or the
test set of DATA quantized with the model's input scale; float32 for a model
with float input and output) go through the C
and through the TFLM interpreter, and every output byte is compared. On a
mismatch the first layer whose output differs is named and the exit code
is 8.

\b
DATA  a .npz with x_test (and x_train, y_train, y_test) or "digits".

\b
Examples:
  tinycompress verify out/model_int8.tflite
  tinycompress verify out/model_int8.tflite --data digits --samples 200
  tinycompress verify model.tflite --json
"""


@click.command(help=_HELP)
@click.argument("model", metavar="MODEL.tflite", type=click.Path(dir_okay=False))
@click.option("--data", metavar="DATA", default=None, help='Test set: .npz file or "digits".')
@click.option("--samples", "-n", type=click.IntRange(1, 100_000), default=20, show_default=True,
              help="Number of inputs to compare.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random inputs.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def command(model: str, data: str | None, samples: int, seed: int, quiet: bool, as_json: bool) -> None:
    from pathlib import Path

    from tinycompress.codegen.verify import verify_tflite
    from tinycompress.errors import VerificationError
    from tinycompress.tflite import read_model
    from tinycompress.tflite.reader import load_bytes

    tflite, what = load_bytes(Path(model))
    graph = read_model(tflite, what)  # errors name the file; the oracle verifies again before TFLM sees the bytes
    inputs = _test_inputs(graph, data, samples) if data else None
    with progress_for(quiet or as_json) as progress:
        result = verify_tflite(tflite, inputs=inputs, samples=samples, seed=seed, progress=progress)
    if as_json:
        print_json(result.as_dict())
    else:
        verdict = "[green]bit-exact[/]" if result.bit_exact else "[red]MISMATCH[/]"
        stdout.print(
            f"{verdict}: {result.samples - result.mismatched_samples}/{result.samples} samples equal "
            f"on every output byte; arena {result.arena_bytes:,} B (TFLM {result.tflm_arena_bytes:,} B), "
            f"weights {result.weights_bytes:,} B, {result.macs:,} MACs"
        )
    if not result.bit_exact:
        raise VerificationError(
            f"{result.mismatched_samples} of {result.samples} samples differ from TFLM "
            f"(max difference {result.max_abs_diff}); first diverging layer: {result.first_diverging_layer}; "
            "please report this with the model"
        )


def _test_inputs(graph: Model, spec: str, samples: int) -> np.ndarray:
    """The first ``samples`` test inputs of ``spec``, quantized like the model's input (float32 as
    they are for a float-I/O model).

    The quantization comes from our IR, so TFLM first runs inside verify_tflite,
    after the C is generated (an unsupported op is named there, not a TFLM failure).
    """
    import numpy as np

    from tinycompress.compress.data import load_dataset
    from tinycompress.errors import DataError
    from tinycompress.oracle import TensorQuant

    quant = TensorQuant.of(graph.input)
    x = load_dataset(spec).x_test[:samples]
    per = int(np.prod(quant.shape))
    if x[0].size != per:
        raise DataError(
            f"data samples have shape {list(x.shape[1:])} but the model input is {list(quant.shape)}; "
            "give data that matches the model"
        )
    x = x.reshape(len(x), *quant.shape[1:]) if quant.shape[0] == 1 else x
    if graph.input.dtype == "float32":  # a float-I/O model quantizes its input itself
        return x.astype(np.float32)
    return quant.quantize(x)
