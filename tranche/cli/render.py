"""Output: Rich tables for people, JSON and CSV for machines, diagnostics in three forms."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from enum import Enum
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import Diagnostic, TrancheError, error_document

__all__ = ["state", "Format", "ErrorFormat", "console", "err_console", "emit_json", "emit_json_err", "emit_csv", "table", "escape",
           "print_diagnostics", "report_error", "OUTCOME_STYLE", "styled_outcome"]


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ErrorFormat(str, Enum):
    human = "human"
    plain = "plain"
    json = "json"


def _width() -> int | None:
    return None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "120"))


class _State:
    """Global options set by the root callback."""

    error_format: ErrorFormat = ErrorFormat.human
    db: str | None = None  # --db / TRANCHE_DB: the store's URL (None: tranche.db in the working folder)


state = _State()

console = Console(width=_width(), highlight=False, soft_wrap=False)
err_console = Console(stderr=True, width=_width(), highlight=False)

OUTCOME_STYLE = {"permitted": "green", "review": "yellow", "blocked": "magenta", "prohibited": "red"}


def styled_outcome(outcome: str) -> Text:
    return Text(outcome, style=f"bold {OUTCOME_STYLE.get(outcome, '')}")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def emit_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    sys.stdout.write(buf.getvalue())


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
          right: Sequence[str] = (), caption: str | None = None) -> Table:
    t = Table(title=title, caption=caption, title_justify="left", caption_justify="left", show_lines=False)
    for c in columns:
        if c in right:  # figures never wrap
            t.add_column(c, justify="right", no_wrap=True)
        else:
            t.add_column(c, justify="left", overflow="fold")
    for r in rows:
        t.add_row(*[v if isinstance(v, Text) else ("" if v is None else str(v)) for v in r])
    return t


def print_diagnostics(diags: Sequence[Diagnostic], fmt: ErrorFormat, limit: int = 50) -> None:
    """Diagnostics to stderr: human (with source excerpt), plain (one line each) or json.

    In json, this is for warnings of a command that succeeds: one document with ``ok`` true (the same keys as
    an error, see :func:`tranche.errors.error_document`).  Failures go through :func:`report_error`.
    """
    if fmt is ErrorFormat.json:
        if diags:
            emit_json_err(error_document(list(diags), status=0))
        return
    shown = list(diags)[:limit]
    for d in shown:
        if fmt is ErrorFormat.plain:
            sys.stderr.write(d.plain() + "\n")
        else:
            style = "red" if d.severity == "error" else "yellow"
            text = str(d)
            head, _, rest = text.partition("\n")
            err_console.print(Text(head, style=f"bold {style}"))
            if rest:
                err_console.print(Text(rest))
            err_console.print()
    if len(diags) > limit:
        sys.stderr.write(f"... and {len(diags) - limit} more\n")


def report_error(exc: TrancheError, fmt: ErrorFormat, status: int) -> None:
    """A failure on stderr: its diagnostics and its message (human, plain), or one JSON document (json)."""
    if fmt is ErrorFormat.json:
        emit_json_err(error_document(exc, status))
        return
    if exc.diagnostics:
        print_diagnostics(exc.diagnostics, fmt)
    if fmt is ErrorFormat.plain:
        if not exc.diagnostics:
            sys.stderr.write(f"error: {exc.message}" + (f" (help: {exc.help})" if exc.help else "") + "\n")
        else:
            sys.stderr.write(f"{exc.message}\n")
        return
    if exc.diagnostics:
        err_console.print(Text(exc.message, style="bold red"))
        return
    err_console.print(Text("error: ", style="bold red") + Text(exc.message))
    if exc.help:
        err_console.print(Text(f"  = help: {exc.help}"))


def emit_json_err(data: Any) -> None:
    sys.stderr.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def escape(text: str) -> str:
    """Escape Rich markup in user text."""
    from rich.markup import escape as _escape

    return _escape(text)
