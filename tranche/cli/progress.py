"""The progress bar of long commands (bulk, check, load): on stderr, only on a terminal, never with --quiet.

:func:`bar` yields a :data:`tranche.language.progress.Progress` callback (or None when nothing is
shown: the work then skips its reporting altogether).  Each phase (``what``: lines, items,
decisions) gets its own line: units done of those known, the rate, the time elapsed and left.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

from . import render

__all__ = ["bar", "shown"]

VERBS = {"decisions": "deciding", "lines": "reading", "items": "writing", "rows": "reading"}


def shown(quiet: bool) -> bool:
    """Whether a bar is shown: not with --quiet, and only when stderr is a terminal."""
    return not quiet and render.err_console.is_terminal


def _rate(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:,.1f}{unit}/s"
    return f"{n:,.0f}/s"


@contextlib.contextmanager
def bar(show: bool) -> Iterator[Any]:
    """A progress bar on stderr while the block runs (removed at the end); yields the callback, or None."""
    if not show:
        yield None  # no bar, no polling of the engine's progress, no counting of lines
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskID, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    with Progress(TextColumn("[bold]{task.fields[verb]}[/]"), BarColumn(), TaskProgressColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=render.err_console, transient=True) as widget:
        tasks: dict[str, tuple[TaskID, float]] = {}

        def report(what: str, done: int, total: int | None) -> None:
            if what not in tasks:
                for task, _ in tasks.values():  # an earlier phase is over
                    widget.update(task, visible=False)
                tasks[what] = (widget.add_task(what, total=total, rate="", verb=VERBS.get(what, "working")),
                               time.perf_counter())
            task, began = tasks[what]
            elapsed = time.perf_counter() - began
            widget.update(task, completed=done, total=total, rate=_rate(done / elapsed) if elapsed > 0 and done else "")

        yield report
