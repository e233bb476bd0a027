"""Shared CLI plumbing: error mapping, console, progress bars, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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
        return _RichTask(self._bar, self._bar.add_task(description, total=total))


def progress_for(quiet: bool) -> Any:
    """A context manager yielding a ``Progress``: rich bars, or nothing when quiet."""
    if quiet or not stderr.is_terminal:
        return _NullContext()
    return RichProgressReporter()


class _NullContext:
    def __enter__(self) -> Progress:
        return NullProgress()

    def __exit__(self, *exc: object) -> None:
        pass
