"""Output: Rich tables for people, JSON and CSV for machines, diagnostics in three forms."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from ..errors import Diagnostic, TrancheError, error_document

if TYPE_CHECKING:  # Rich is imported when something is printed with it, not by `tranche --help`
    from rich.console import Console, RenderableType
    from rich.text import Text

    console: Console
    err_console: Console

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

_consoles: dict[str, Console] = {}
on_broken_pipe: Callable[[], None] | None = None  # given to the stdout console (Rich's own would exit 1)


def _console(name: str) -> Console:
    """The console ``name`` (`console`: stdout, `err_console`: stderr), made (and Rich imported) on first use."""
    made = _consoles.get(name)
    if made is None:
        from rich.console import Console

        if name == "console":
            made = Console(width=_width(), highlight=False, soft_wrap=False)
            if on_broken_pipe is not None:
                made.on_broken_pipe = on_broken_pipe  # type: ignore[method-assign]
        else:
            made = Console(stderr=True, width=_width(), highlight=False)
        _consoles[name] = made
    return made


def __getattr__(name: str) -> Any:
    """`render.console` and `render.err_console`, made when first used (PEP 562)."""
    if name in ("console", "err_console"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def setup() -> None:
    """Forget the consoles, so that the next ones read the terminal width (or `COLUMNS`) of this invocation."""
    _consoles.clear()

OUTCOME_STYLE = {"permitted": "green", "review": "yellow", "blocked": "magenta", "prohibited": "red"}


def styled_outcome(outcome: str) -> Text:
    from rich.text import Text

    return Text(outcome, style=f"bold {OUTCOME_STYLE.get(outcome, '')}")


_SGR = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "magenta": "35"}  # the styles `say` writes itself
_PRINTABLE = re.compile(r"[ -~]*")  # ASCII without controls: one cell a character
_EMOJI_CODE = re.compile(r":\S+?:")  # what Rich would read as an emoji code


def say(*parts: str | tuple[str, str]) -> None:
    """One line on stdout, as ``console.print`` prints it: plain text and ``(text, style)`` pairs, the style
    among ``bold``, ``red``, ``green``, ``yellow``, ``magenta`` (space separated), wrapped at the console's
    width the way Rich wraps words.

    A short command's status line (`check`'s ``ok``) is written here without importing Rich (a tenth of
    the command's time) whenever the bytes are sure to be Rich's: printable ASCII text, no Rich console
    made yet, and a terminal that Rich would colour with ANSI codes or no terminal at all.  Anything else
    goes to Rich.  tests/cli/test_say.py compares the two on random texts and widths.
    """
    texts = [(p, "") if isinstance(p, str) else p for p in parts]
    plain = "".join(t for t, _ in texts)
    tty = sys.stdout.isatty()
    env = os.environ
    if ("console" in _consoles or not _PRINTABLE.fullmatch(plain) or _EMOJI_CODE.search(plain)
            or any(st and _codes(st) is None for _, st in texts)
            or any(env.get(k) is not None for k in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
                                                   "NO_COLOR", "JUPYTER_COLUMNS"))
            or (tty and (os.name != "posix" or env.get("TERM", "") in ("dumb", "unknown")))):
        from rich.text import Text

        _console("console").print(Text.assemble(*texts), markup=False)
        return
    width = _tty_width() if tty else _width()
    assert width is not None
    out = []
    for start, end in _wrap(plain, width):
        line, at = [], 0
        for text, style in texts:  # the parts' pieces on this line, each in its style
            lo, hi = max(start, at), min(end, at + len(text))
            if lo < hi:
                piece = plain[lo:hi]
                line.append(f"\x1b[{_codes(style)}m{piece}\x1b[0m" if tty and style else piece)
            at += len(text)
        out.append("".join(line))
    sys.stdout.write("\n".join(out) + "\n")


def _codes(style: str) -> str | None:
    """The SGR parameters of ``style`` in Rich's order (bold, then the colour), or None if `say` does not
    write it itself (an unknown word, two colours)."""
    words = style.split()
    colours = [w for w in words if w != "bold"]
    if len(colours) > 1 or any(w not in _SGR for w in words):
        return None
    return ";".join((["1"] if "bold" in words else []) + [_SGR[c] for c in colours])


def _tty_width() -> int:
    """The terminal's width as Rich reads it: stdin's, stdout's or stderr's size, `COLUMNS` first, else 80."""
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
            break
        except (AttributeError, ValueError, OSError):
            pass
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


def _wrap(text: str, width: int) -> list[tuple[int, int]]:
    """``text`` (printable ASCII) cut into lines at most ``width`` wide, as Rich cuts them: at the start of
    the word (with the spaces after it) that does not fit, a word longer than a line folded; spaces past
    the width dropped.  The (start, end) of each line."""
    breaks: list[int] = []
    offset = 0
    for word in re.finditer(r"\s*\S+\s*", text):
        start, end = word.span()
        length = len(word.group().rstrip())
        if width - offset >= length:
            offset += end - start
        elif length > width:  # folded across lines of `width` characters
            chunks = range(start, end, width)
            for i, at in enumerate(chunks):
                if at:
                    breaks.append(at)
                if i == len(chunks) - 1:
                    offset = end - at
        elif offset and start:
            breaks.append(start)
            offset = end - start
    bounds = [0, *breaks, len(text)]
    lines = []
    for start, end in zip(bounds, bounds[1:]):
        while end > start and end - start > width and text[end - 1].isspace():
            end -= 1  # Rich's rstrip_end: whitespace beyond the width
        lines.append((start, end))
    return lines


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def emit_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    sys.stdout.write(buf.getvalue())


TEXT_MIN = 10  # a text column may wrap down to this width; figures never wrap or shrink


def cell_width(value: Any) -> int:
    """The widest line of a cell, in terminal cells."""
    from rich.cells import cell_len
    from rich.text import Text

    text = value.plain if isinstance(value, Text) else ("" if value is None else str(value))
    return max((cell_len(line) for line in text.split("\n")), default=0)


def fits(widths: Sequence[int]) -> int:
    """The width of a table whose columns need ``widths`` (heavy box: a border and one space each side)."""
    return sum(widths) + 3 * len(widths) + 1


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
          right: Sequence[str] = (), caption: str | None = None) -> RenderableType:
    """A table whose figures (the ``right`` columns) are never truncated or wrapped.

    Text columns wrap.  When the figures do not fit the terminal side by side, the table is split into
    several tables stacked vertically, each repeating the first column (the narrow layout).
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    cells = [[v if isinstance(v, Text) else ("" if v is None else str(v)) for v in r] for r in rows]
    need = []
    for i, c in enumerate(columns):
        widest = max([cell_width(c), *(cell_width(r[i]) for r in cells)])
        need.append(widest if c in right else min(widest, max(TEXT_MIN, 1)))
    groups = _groups(need, _console("console").width)
    tables = []
    for k, group in enumerate(groups):
        t = Table(title=title if k == 0 else None, caption=caption if k == len(groups) - 1 else None,
                  title_justify="left", caption_justify="left", show_lines=False)
        for i in group:
            if columns[i] in right:  # figures never wrap, never shrink
                t.add_column(columns[i], justify="right", no_wrap=True, min_width=need[i])
            else:
                t.add_column(columns[i], justify="left", overflow="fold")
        for r in cells:
            t.add_row(*[r[i] for i in group])
        tables.append(t)
    return tables[0] if len(tables) == 1 else Group(*tables)


def _groups(need: Sequence[int], width: int) -> list[list[int]]:
    """Column indexes per stacked table: all in one when they fit, else the first column plus as many of the
    others as fit, in order."""
    if fits(need) <= width or len(need) <= 2:
        return [list(range(len(need)))]
    groups: list[list[int]] = []
    current = [0]
    for i in range(1, len(need)):
        if len(current) > 1 and fits([need[j] for j in current] + [need[i]]) > width:
            groups.append(current)
            current = [0]
        current.append(i)
    groups.append(current)
    return groups


def print_diagnostics(diags: Sequence[Diagnostic], fmt: ErrorFormat, limit: int = 50) -> None:
    """Diagnostics to stderr: human (with source excerpt), plain (one line each) or json.

    In json, this is for warnings of a command that succeeds: one document with ``ok`` true (the same keys as
    an error, see :func:`tranche.errors.error_document`).  Failures go through :func:`report_error`.
    """
    if not diags:
        return
    if fmt is ErrorFormat.json:
        emit_json_err(error_document(list(diags), status=0))
        return
    from rich.text import Text

    err_console = _console("err_console")
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
    from rich.text import Text

    err_console = _console("err_console")
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
