"""``tinycompress export``: an int8 .tflite + a board -> a PlatformIO project."""

from __future__ import annotations

from pathlib import Path

import click

from tinycompress.cli._common import optimize_option, print_json, progress_for, stdout


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", required=True, help="Board name (see `tinycompress boards`).")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Project folder to create (an earlier export there is replaced; other folders are refused).")
@click.option("--prefix", default="tc_model", show_default=True, help="C symbol prefix of the generated model.")
@click.option("--app", type=click.Choice(["protocol", "selftest"]), default="protocol", show_default=True,
              help="Application: answer the serial protocol (for `profile`), or run the model once on a "
                   "built-in input, print the output checksum and latency, and exit.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(1, 2**32 - 1),
              help="Seed of the built-in input the selftest application runs the model on.")
@optimize_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(model: Path, board: str, output: Path, prefix: str, app: str, seed: int, optimize: str,
            as_json: bool, quiet: bool) -> None:
    """Generate a PlatformIO firmware project for MODEL on a board.

    The project holds the generated model, the C runtime, the board port
    and an application; the fit check refuses a model too big for the board.

    \b
    Examples:
      tinycompress export out/model_int8.tflite --board qemu-netduinoplus2 -o proj/
      tinycompress build proj/ && tinycompress profile proj/ --data digits
      tinycompress export model.tflite -b qemu-riscv32 -o st/ --app selftest
      tinycompress build st/ && tinycompress flash st/      # prints the output checksum and exits
      tinycompress export model.tflite --board nucleo_l4r5zi -o l4/
      tinycompress export model.tflite -b qemu-netduinoplus2 -o small/ --optimize size
    """
    from tinycompress.project.boards import get_board
    from tinycompress.project.export import export_project
    from tinycompress.project.model import model_sources_from_tflite

    target = get_board(board)
    sources = model_sources_from_tflite(model, prefix=prefix, runtime_arch=target.runtime_arch,
                                        optimize=optimize)
    with progress_for(quiet or as_json) as progress:
        result = export_project(sources, target, output, seed=seed, app=app, progress=progress, inputs=(model,))
    if as_json:
        print_json({"project": str(result.project), "board": target.name, "fit": result.fit.as_dict()})
        return
    fit = result.fit
    partition = f" (app partition, {fit.app_partition.table})" if fit.app_partition else ""
    stdout.print(f"wrote {result.project} for {target.name}")
    stdout.print(
        f"  flash estimate {fit.flash_needed:,} / {fit.flash_available:,} B{partition}, "
        f"RAM estimate {fit.ram_needed:,} / {fit.ram_bytes:,} B (arena {fit.arena_bytes:,} B)"
    )
    stdout.print(f"  next: tinycompress build {output}")
