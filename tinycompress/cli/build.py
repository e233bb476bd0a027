"""``tinycompress build``: compile a generated project with PlatformIO."""

from __future__ import annotations

from pathlib import Path

import click

from tinycompress.cli._common import print_json, progress_for, stdout


@click.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--verbose", "-v", is_flag=True, help="Show PlatformIO's full build log.")
@click.option("--json", "as_json", is_flag=True, help="Print flash/RAM usage as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def command(project: Path, verbose: bool, as_json: bool, quiet: bool) -> None:
    """Build PROJECT (`pio run`) and report the flash and RAM it uses.

    PlatformIO's core dir stays inside the project (.pio-core); emulated
    boards build with no download.

    \b
    Examples:
      tinycompress build proj/
      tinycompress build proj/ --json
    """
    from tinycompress.project.build import build_project

    with progress_for(quiet or as_json) as progress:
        result = build_project(project, verbose=verbose, progress=progress)
    if verbose:
        stdout.print(result.log, highlight=False, markup=False)
    usage = result.memory
    if as_json:
        print_json({"firmware": str(result.firmware), "board": result.project.board_name} | usage.as_dict())
        return
    stdout.print(f"built {result.firmware}")
    stdout.print(f"  flash {usage.flash_used:,} B used, {usage.flash_free:,} B free of {usage.flash_total:,} B")
    stdout.print(f"  RAM   {usage.ram_used:,} B used, {usage.ram_free:,} B free of {usage.ram_total:,} B")
