"""``tinycompress profile``: run the test set on the device, report what it computes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tinycompress.cli._common import print_json, progress_for, sigterm_as_interrupt, stdout
from tinycompress.cli.compress import task_option


@click.command()
@click.argument("project", type=click.Path(file_okay=False, path_type=Path))
@click.option("--data", required=True, metavar="DATA",
              help="Test set: a .npz with x_test/y_test (and y_test_anomaly for an autoencoder), "
                   "or a builtin name (digits).")
@click.option("--port", metavar="URL", default=None,
              help="Serial port or pyserial URL (/dev/ttyACM0, COM3, socket://HOST:PORT). "
                   "Default for emulated boards: start QEMU and connect to it.")
@click.option("--model", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="The project's .tflite, if the project does not record it.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Profile only the first N test samples.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write report.json (default: PROJECT/report.json); report.html goes beside it.")
@click.option("--baud", type=click.IntRange(min=1), default=None,
              help="Baud rate of a real serial port [default: the board file's baud, as the firmware was built; "
                   "115200 when it has none].")
@click.option("--timeout", type=click.FloatRange(min=0.05), default=5.0, show_default=True,
              help="Seconds to wait for each answer before repeating the request (3 repeats).")
@click.option("--boot-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds to wait for the device's first answer (it may be booting).")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@task_option
def command(project: Path, data: str, port: str | None, model: Path | None, limit: int | None,
            output: Path | None, baud: int | None, timeout: float, boot_timeout: float, quiet: bool,
            as_json: bool, task: str | None) -> None:
    """Stream a test set to the device and report accuracy, agreement and latency.

    The host quantizes each sample with the model's input scale and zero
    point, sends it over the serial link, and collects the device's int8
    output and latency count. The report compares the device with the TFLM
    interpreter on the host byte for byte, and gives latency (median, p90,
    min, max) in the board's unit, a per-layer table, and flash/RAM use.
    If the device is lost part-way, the samples measured so far are written
    and the report is marked incomplete (exit code 6); if any output differs
    from TFLM, the report is written and the exit code is 8. The report is
    also drawn, with plots, as report.html beside report.json (one file that
    opens offline; see `tinycompress report -h`).

    \b
    Examples:
      tinycompress profile proj/ --data digits                  # emulated board: starts QEMU
      tinycompress profile proj/ --data test.npz --port /dev/ttyACM0 --limit 200
      tinycompress profile proj/ --data digits --port socket://127.0.0.1:4444 -o out/report.json
    """
    from tinycompress.fsutil import check_writable, write_with_fallback
    from tinycompress.profile import profile_project
    from tinycompress.report import write_html_beside

    report_path = output or project / "report.json"
    check_writable(report_path)
    with progress_for(quiet or as_json) as progress, sigterm_as_interrupt():
        report = profile_project(project, data, port=port, model=model, limit=limit, progress=progress,
                                 baudrate=baud, timeout=timeout, boot_timeout=boot_timeout, task=task)
    write_with_fallback(report_path, json.dumps(report, indent=2) + "\n", "report")
    write_html_beside(report_path, report)
    if as_json:
        print_json(report)
    elif not quiet:
        print_summary(report, report_path)
    check_trusted(report, report_path)


def check_trusted(report: dict[str, Any], report_path: Path) -> None:
    """Fail (after the report is written) unless every sample ran and matched TFLM byte for byte.

    A wrong output is the worst result the tool can give, so it outranks a
    run cut short: exit 8 for outputs that differ, 6 for a lost device.
    """
    from tinycompress.errors import LinkError, VerificationError

    mismatched = report["mismatched_samples"]
    if mismatched:
        raise VerificationError(
            f"{len(mismatched)} of {report['samples']} device outputs differ from the TFLM interpreter "
            f"(first: test sample {mismatched[0]}), listed in {report_path}; the firmware does not compute "
            "the model: check the host build with `tinycompress verify MODEL.tflite --data DATA`, "
            "then rebuild and flash the project"
        )
    if not report["complete"]:
        raise LinkError(
            f"device lost after {report['samples']} of {report['samples_requested']} samples "
            f"({report['stopped']}); the partial report {report_path} is marked incomplete"
        )


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


_UNIT_LABELS = {"instructions": "instr"}


def print_summary(report: dict[str, Any], path: Path) -> None:
    """The human view of a profile report: headline figures, then the per-layer table."""
    from rich.table import Table

    lat = report["latency"]
    unit = lat["unit"]
    head = Table(title=f"profile on {report['board']} ({report['samples']} samples)", show_header=False)
    for metric, label in (("accuracy", "accuracy"), ("mse", "MSE"), ("mae", "MAE"), ("roc_auc", "ROC AUC")):
        if metric in report:
            show = _percent if metric == "accuracy" else _fmt
            head.add_row(f"{label} on device", show(report[metric]["device"]))
            head.add_row(f"{label} host int8 (TFLM)", show(report[metric]["host_int8"]))
    exact = "yes" if report["outputs_bit_exact"] else f"NO ({len(report['mismatched_samples'])} samples differ)"
    head.add_row("every output byte equal to the host", exact)
    if "median" in lat:
        head.add_row(f"latency median / p90 ({unit})", f"{_fmt(lat['median'])} / {_fmt(lat['p90'])}")
        head.add_row(f"latency min / max ({unit})", f"{_fmt(lat['min'])} / {_fmt(lat['max'])}")
    clock = lat.get("clock_hz")
    head.add_row("core clock (reported by the device)",
                 f"{clock / 1e6:g} MHz" if clock else f"not reported (latency in {unit})")
    if "ms" in lat:
        head.add_row("latency median (ms at that clock)", _fmt(lat["ms"]["median"]))
    for source, label in (("elf", "from the ELF"), ("device", "reported by the device")):
        used = report["memory"][source]
        if used:
            head.add_row(f"flash / RAM used (bytes, {label})",
                         f"{_fmt(used['flash_bytes'])} / {_fmt(used['ram_bytes'])}")
    for role in ("input", "output"):
        tensor = report["quantization"][role]
        if tensor and tensor["scale"] is not None:
            head.add_row(f"{role} on device (shape, scale, zero point)",
                         f"{tensor['shape']}, {tensor['scale']:.9g}, {tensor['zero_point']}")
    stdout.print(head)
    if report["layers"]:
        short_unit = _UNIT_LABELS.get(unit, unit)
        rows = [(layer["name"], _fmt(layer["macs"]), _fmt(layer["median"]),
                 f"{layer['share']:.1%}", _fmt(layer["macs_per_unit"], 3)) for layer in report["layers"]]
        table = Table(title=f"per layer (median {unit})", show_edge=False)
        table.add_column("layer", overflow="fold", min_width=min(12, max(len(row[0]) for row in rows)))
        for position, header in enumerate(("MACs", short_unit, "share", f"MACs/{short_unit}"), start=1):
            width = max(len(header), *(len(row[position]) for row in rows))
            table.add_column(header, justify="right", no_wrap=True, min_width=width)
        for row in rows:
            table.add_row(*row)
        stdout.print(table)
    if not report["complete"]:
        stdout.print(f"[bold yellow]incomplete:[/] {report['stopped']}")
    stdout.print(f"report: {path}")
