"""``tinycompress boards``: the boards a project can be exported for."""

from __future__ import annotations

import click

from tinycompress.cli._common import print_json, stdout


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the board table as JSON.")
def command(as_json: bool) -> None:
    """List the supported boards with their flash and RAM sizes.

    \b
    Emulated boards (qemu-*) build and run here with no download;
    real boards build through PlatformIO's official platforms.
    \b
    Examples:
      tinycompress boards
      tinycompress boards --json | jq '.[] | select(.emulated)'
    """
    from rich.table import Table

    from tinycompress.project.boards import load_boards

    boards = load_boards()
    if as_json:
        print_json([board.summary() for board in boards.values()])
        return
    table = Table(title="boards (flash / RAM in KiB)")
    for column in ("board", "MHz", "flash", "RAM", "latency", "runs on"):
        table.add_column(column, justify="right" if column in ("MHz", "flash", "RAM") else "left", no_wrap=True)
    for board in boards.values():
        table.add_row(
            board.name,
            f"{board.clock_hz / 1e6:g}",
            f"{board.flash_bytes // 1024:,}",
            f"{board.ram_bytes // 1024:,}",
            board.timer_unit,
            "QEMU" if board.emulator else board.pio_platform,
        )
    stdout.print(table)
