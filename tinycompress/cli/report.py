"""``tinycompress report``: draw a report.json as one self-contained HTML page with plots."""

from __future__ import annotations

from pathlib import Path

import click

from tinycompress.cli._common import stdout

_HELP = """Draw REPORT.json (from compress, profile, run or demo) as an HTML page.

\b
The kind of report is found from its keys. The page shows accuracy per
stage, flash and RAM against the board's totals, latency and MACs per
instruction (or per cycle) for each layer, and tables of the key figures.
A partial report (a run or profile cut short, "complete": false) is drawn
with a note saying what is missing.

\b
One file, plotly's JavaScript inlined: it opens offline, from a mail or
an archive, and makes no network request. compress, profile, run and demo
already write report.html beside each report.json; this command draws it
again (after an upgrade, or from a copied report.json).

\b
Examples:
  tinycompress report out/report.json                  # writes out/report.html
  tinycompress report proj/report.json -o profile.html
  tinycompress report demo-out/compress/report.json -o compress.html
"""


@click.command(help=_HELP)
@click.argument("report", metavar="REPORT.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file to write [default: REPORT.json with the suffix .html].")
@click.option("--quiet", is_flag=True, help="Do not print the path written.")
def command(report: Path, output: Path | None, quiet: bool) -> None:
    from tinycompress.errors import InputError
    from tinycompress.fsutil import check_writable, write_text_atomic
    from tinycompress.report import html_path, render_file

    target = output or html_path(report)
    if target.resolve() == report.resolve():
        raise InputError(f"the HTML would replace the report {report} itself; give another path with -o")
    check_writable(target)
    write_text_atomic(target, render_file(report))
    if not quiet:
        stdout.print(f"wrote {target}", highlight=False, soft_wrap=True)
