"""Progress reporting without printing from the library.

Library functions take a ``Progress`` and call ``task()``; the CLI passes a
rich-backed implementation, tests and scripts pass ``NullProgress``.
"""

from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    def advance(self, steps: int = 1) -> None: ...

    def close(self) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: int | None) -> Task: ...


class _NullTask:
    def advance(self, steps: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class NullProgress:
    """Reports nothing; the default everywhere in the library."""

    def task(self, description: str, total: int | None) -> Task:
        return _NullTask()
