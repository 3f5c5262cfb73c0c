"""The progress bar of long commands (bulk, check, load): on stderr, only on a terminal, never with --quiet.

:func:`bar` yields a :data:`tranche.language.progress.Progress` callback (or None when nothing is
shown: the work then skips its reporting altogether).  Each phase (``what``: lines, items,
decisions) gets its own line: units done of those known, the rate, the time elapsed and left.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Iterator

from . import render

__all__ = ["bar", "shown"]

VERBS = {"decisions": "deciding", "lines": "reading", "items": "writing", "rows": "reading"}


def shown(quiet: bool) -> bool:
    """Whether a bar is shown: not with --quiet, and only when stderr is a terminal (as Rich sees it: a tty,
    or FORCE_COLOR / TTY_COMPATIBLE set; Rich is not imported to learn that stderr is a file or a pipe)."""
    if quiet:
        return False
    if not sys.stderr.isatty() and not os.environ.get("FORCE_COLOR") and not os.environ.get("TTY_COMPATIBLE"):
        return False
    return render.err_console.is_terminal


def _rate(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:,.1f}{unit}/s"
    return f"{n:,.0f}/s"


DELAY = 0.5  # seconds of work before a bar appears: a short command shows none (and does not import Rich)


@contextlib.contextmanager
def bar(show: bool) -> Iterator[Any]:
    """A progress bar on stderr while the block runs (removed at the end); yields the callback, or None.

    The bar appears only once the work has run :data:`DELAY` seconds, with the phase then under way: a
    check of a small scenario draws nothing, where a bar would only flicker."""
    if not show:
        yield None  # no bar, no polling of the engine's progress, no counting of lines
        return
    began = time.perf_counter()
    phases: dict[str, float] = {}  # when each phase was first reported
    tasks: dict[str, Any] = {}  # the bar's task of each phase shown
    with contextlib.ExitStack() as stack:
        widget: Any = None

        def report(what: str, done: int, total: int | None) -> None:
            nonlocal widget
            now = time.perf_counter()
            phases.setdefault(what, now)
            if widget is None:
                if now - began < DELAY:
                    return
                widget = stack.enter_context(_widget())
            if what not in tasks:
                for task in tasks.values():  # an earlier phase is over
                    widget.update(task, visible=False)
                tasks[what] = widget.add_task(what, total=total, rate="", verb=VERBS.get(what, "working"))
            elapsed = now - phases[what]
            widget.update(tasks[what], completed=done, total=total,
                          rate=_rate(done / elapsed) if elapsed > 0 and done else "")

        yield report


def _widget() -> Any:
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    return Progress(TextColumn("[bold]{task.fields[verb]}[/]"), BarColumn(), TaskProgressColumn(),
                    MofNCompleteColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[rate]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=render.err_console, transient=True)
