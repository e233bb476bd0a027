"""Shared CLI plumbing: error mapping, console, progress bars, JSON output."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress as RichProgress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tinycompress.errors import TinyCompressError
from tinycompress.progress import NullProgress, Progress, Task

EXIT_INTERNAL = 70

stderr = Console(stderr=True)
stdout = Console()


def run_guarded(ctx: click.Context, call: Callable[[], Any]) -> Any:
    """Run a subcommand, turning library errors into one line and an exit code."""
    try:
        return call()
    except TinyCompressError as exc:
        if _debug(ctx):
            raise
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        stderr.print("[bold red]error:[/] interrupted; outputs were left as they were")
        sys.exit(130)
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
        raise
    except Exception as exc:  # a bug: say so, keep the trace for --debug
        if _debug(ctx):
            raise
        stderr.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
            "(a bug in tinycompress; rerun with --debug for the traceback and report it)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERNAL)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a job scheduler) stops a command like Ctrl-C: a profile writes the samples measured so far."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("terminated by SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.obj and root.obj.get("debug"))


def print_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout (for ``--json``)."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


class _RichTask:
    def __init__(self, bar: RichProgress, task_id: int) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, steps: int = 1) -> None:
        self._bar.advance(self._id, steps)

    def close(self) -> None:
        self._bar.update(self._id, visible=False)
        self._bar.remove_task(self._id)


class RichProgressReporter:
    """``Progress`` implementation drawing rich bars on stderr."""

    def __init__(self) -> None:
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
        )

    def __enter__(self) -> RichProgressReporter:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def task(self, description: str, total: int | None) -> Task:
        task = _RichTask(self._bar, self._bar.add_task(description, total=total))
        self._bar.refresh()  # drawn now: the step may block, with TF's stderr dropped, before the next refresh
        return task


def progress_for(quiet: bool) -> Any:
    """A context manager yielding a ``Progress``: rich bars on a terminal, plain lines otherwise, nothing when quiet."""
    if quiet:
        return _NullContext()
    if not stderr.is_terminal:
        return LineProgressReporter()
    return RichProgressReporter()


PROGRESS_LINE_INTERVAL_S = 5.0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class _LineTask:
    """One task's progress as a stderr line every ``interval`` seconds (and once at the end, if it printed)."""

    def __init__(self, description: str, total: int | None, interval: float) -> None:
        self._description = description
        self._total = total
        self._interval = interval
        self._done = 0
        self._start = time.monotonic()
        self._last = self._start
        self._printed = False

    def advance(self, steps: int = 1) -> None:
        self._done += steps
        now = time.monotonic()
        finished = self._total is not None and self._done >= self._total
        if now - self._last >= self._interval or (finished and self._printed):
            self._last = now
            self._printed = True
            click.echo(self._line(now - self._start), err=True)

    def _line(self, elapsed: float) -> str:
        if not self._total:
            return f"{self._description}: {self._done} done, {_duration(elapsed)} elapsed"
        left = elapsed / self._done * (self._total - self._done) if self._done else 0.0
        return (f"{self._description}: {self._done}/{self._total} ({100 * self._done // self._total} %), "
                f"{_duration(elapsed)} elapsed, ETA {_duration(left)}")

    def close(self) -> None:
        pass


class LineProgressReporter:
    """``Progress`` for logs and pipes (CI, ``nohup``, ``| tee``): a plain line every few seconds.

    A rich bar draws nothing off a terminal, so a long profile run looked
    hung in a log; quick steps print nothing.
    """

    def __init__(self) -> None:
        self._interval = PROGRESS_LINE_INTERVAL_S

    def __enter__(self) -> LineProgressReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def task(self, description: str, total: int | None) -> Task:
        return _LineTask(description, total, self._interval)


class _NullContext:
    def __enter__(self) -> Progress:
        return NullProgress()

    def __exit__(self, *exc: object) -> None:
        pass


def print_table(title: str, columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> None:
    """Print a table whose figures are never cut: ``columns`` are (header, right-aligned).

    On a terminal, a rich table where right-aligned (figure) columns never
    wrap or shrink below their widest cell and text columns fold. Piped to a
    file or a program, or on a terminal too narrow for the figures, plain
    aligned text with no box drawing or colour, at whatever width the cells
    need.
    """
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, (header, _) in enumerate(columns)]
    folded = [width if right else min(width, 12) for width, (_, right) in zip(widths, columns)]
    # each cell is padded by one space on either side, and n + 1 rules separate n columns
    if stdout.is_terminal and sum(folded) + 3 * len(columns) + 1 <= stdout.width:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title)
        for (header, right), width in zip(columns, folded):
            if right:
                table.add_column(header, justify="right", no_wrap=True, min_width=width)
            else:
                table.add_column(header, overflow="fold", min_width=width)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        stdout.print(table)
        return
    click.echo(title)
    for cells in ([header for header, _ in columns], *rows):
        click.echo("  ".join(cell.rjust(width) if right else cell.ljust(width)
                             for cell, width, (_, right) in zip(cells, widths, columns)).rstrip())


# `export`, `run` and `inspect`: how each layer's weights are stored (tinycompress.codegen.storage).
optimize_option = click.option(
    "--optimize", type=click.Choice(["size", "speed", "balanced"]), default="balanced", show_default=True,
    help="Weight storage per layer. size: the fewest flash bytes; speed: the fewest instructions; "
         "balanced: the fewest bytes among storages within 1.15x the fastest. A packed conv decodes "
         "its weights once per call into an arena scratch where one fits without growing the arena, "
         "else packed layers run a generic path 5-10x slower than dense.")
