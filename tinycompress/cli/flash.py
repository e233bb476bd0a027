"""``tinycompress flash``: put the firmware on the board, or run it in QEMU."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("project", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--port", "-p", default=None,
              help="Real board: serial/upload port. Emulated board: TCP port QEMU's serial listens on.")
def command(project: Path, port: str | None) -> None:
    """Upload PROJECT's firmware (`pio run -t upload`).

    For an emulated board this runs the firmware in QEMU
    (-icount shift=0,sleep=off): without --port its serial output is
    printed here and the exit status is the firmware's; with --port QEMU
    waits for a client (e.g. `tinycompress profile`) on that TCP port.

    \b
    Examples:
      tinycompress flash proj/
      tinycompress flash proj/ --port 5555
      tinycompress flash l4/ --port /dev/ttyACM0
    """
    from tinycompress.project.build import flash_project

    code = flash_project(project, port=port)
    if code != 0:
        sys.exit(code)
