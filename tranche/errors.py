"""Every error tranche raises, and the diagnostics that locate them.

The hierarchy::

    TrancheError                 base of everything tranche raises on purpose
    ├── PolicyError              a scenario (policy files, pipeline CSV) is invalid; carries diagnostics
    ├── UsageError               a command was given a bad argument (unknown item, bad date, unknown fact)
    ├── NotFound                 a named thing (item, regime, case) does not exist
    ├── EvaluationError          a request cannot be decided (no regime in force, ...)
    ├── UnsupportedError         a construct a target (an SQL dialect, ...) cannot express
    ├── StoreError               the database failed or refused a write
    │   └── ConflictError        a concurrent change won (optimistic locking)
    └── PermissionDenied         the actor's role does not allow the action
        └── NotAuthenticated     no valid credentials: who is acting is not known (HTTP 401)

A :class:`Diagnostic` is one finding about user input: a code, a one-line
message, an optional ``help`` (the fix, often "did you mean ..."), a
:class:`Span` locating it and a severity.  ``str(diagnostic)`` renders it for
people with the offending source line underlined; ``to_dict()`` is the form
for machines (``--error-format json`` and the API).

:func:`error_document` is the one JSON shape of a failure, for every command
under ``--error-format json`` and for the API: always the keys of
:data:`ERROR_KEYS`, every diagnostic with the keys of :data:`DIAGNOSTIC_KEYS`.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Sequence

__all__ = [
    "Span",
    "Diagnostic",
    "Severity",
    "TrancheError",
    "PolicyError",
    "UsageError",
    "NotFound",
    "EvaluationError",
    "UnsupportedError",
    "StoreError",
    "ConflictError",
    "PermissionDenied",
    "NotAuthenticated",
    "did_you_mean",
    "error_document",
    "ERROR_KEYS",
    "DIAGNOSTIC_KEYS",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Span:
    """A place in a source file: 1-based line and column, with an optional length."""

    file: str
    line: int = 0
    col: int = 0
    length: int = 1

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"

    def source_line(self) -> str | None:
        """The text of the line this span points at, if the file can be read."""
        if self.line <= 0:
            return None
        try:  # line by line: the file may be a pipeline of millions of lines
            with Path(self.file).open(encoding="utf-8", newline="") as f:
                for number, text in enumerate(f, start=1):
                    if number == self.line:
                        return text.rstrip("\r\n")
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        return None


@dataclass(frozen=True)
class Diagnostic:
    """One finding about user input: where, what, and how to fix it."""

    code: str
    message: str
    span: Span | None = None
    help: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        head = f"{self.severity}[{self.code}]: {self.message}"
        out = [head]
        if self.span is not None:
            out.append(f"  --> {self.span}")
            text = self.span.source_line()
            if text is not None:
                gutter = str(self.span.line)
                pad = " " * len(gutter)
                col = max(self.span.col, 1)
                width = max(1, min(self.span.length, max(1, len(text) - col + 1)))
                out.append(f"{pad} |")
                out.append(f"{gutter} | {text}")
                out.append(f"{pad} | {' ' * (col - 1)}{'^' * width}")
        if self.help:
            out.append(f"  = help: {self.help}")
        return "\n".join(out)

    def plain(self) -> str:
        """One line: ``file:line:col: severity[code]: message (help)``."""
        where = f"{self.span}: " if self.span is not None else ""
        tail = f" (help: {self.help})" if self.help else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "help": self.help,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span and self.span.line > 0 else None,
            "column": self.span.col if self.span and self.span.line > 0 and self.span.col > 0 else None,
        }


class TrancheError(Exception):
    """Base of every error tranche raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, help: str | None = None, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.help = help
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON shape of this error (see :func:`error_document`)."""
        return error_document(self)


class PolicyError(TrancheError):
    """A scenario's files are invalid; ``diagnostics`` lists every problem found."""

    code = "policy"

    def __init__(self, diagnostics: Iterable[Diagnostic], message: str | None = None) -> None:
        diags = tuple(diagnostics)
        errors = [d for d in diags if d.severity == "error"]
        msg = message or f"{len(errors)} error{'s' if len(errors) != 1 else ''} in scenario"
        super().__init__(msg, diagnostics=diags)


class UsageError(TrancheError):
    """A command or call was given an argument that cannot be used."""

    code = "usage"


class NotFound(TrancheError):
    """A named thing (item, regime, fact, case) does not exist."""

    code = "not-found"


class EvaluationError(TrancheError):
    """A request cannot be decided, e.g. no regime is in force on the date."""

    code = "evaluation"


class UnsupportedError(TrancheError):
    """A construct that a target (such as an SQL dialect) cannot express."""

    code = "unsupported"


class StoreError(TrancheError):
    """The database failed or refused a write."""

    code = "store"


class ConflictError(StoreError):
    """A concurrent change to the same record won; reload and retry."""

    code = "conflict"


class PermissionDenied(TrancheError):
    """The actor's role does not allow the action."""

    code = "permission"


class NotAuthenticated(PermissionDenied):
    """No valid credentials were given (a missing, unknown or revoked token; a wrong password)."""

    code = "authentication"


class NameIndex:
    """Known names sorted once, so that "did you mean" over a million ids looks at a few hundred.

    The candidates for a name are its neighbours in sorted order (a typo after the first characters
    keeps a name near its intended one); :func:`did_you_mean` uses an index for any long list.

    >>> did_you_mean("G000124x", NameIndex(f"G{i:06d}" for i in range(100_000)))
    'did you mean `G000124` or `G000324` or `G000314`?'
    """

    WINDOW = 200

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(dict.fromkeys(names))  # in their order: ids often come sorted, and sort in one pass

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def candidates(self, name: str) -> list[str]:
        i = bisect.bisect_left(self.names, name)
        return self.names[max(0, i - self.WINDOW):i + self.WINDOW]


_SMALL = 2_000  # lists longer than this are searched through a NameIndex


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """A help text suggesting the closest known names, or None.

    >>> did_you_mean("end_item", ["end_items", "training"])
    'did you mean `end_items`?'
    """
    if not isinstance(known, NameIndex):
        known = list(known)
        if len(known) > _SMALL:
            known = NameIndex(known)
    candidates = known.candidates(name) if isinstance(known, NameIndex) else sorted(set(known))
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if not close:
        # suffix/prefix matches help with dotted names (`civic_action` -> `end_items.civic_action`)
        close = [c for c in candidates if c.endswith("." + name) or c.split(".")[-1] == name][:3]
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


ERROR_KEYS = ("ok", "error", "code", "help", "status", "errors", "warnings")
"""The keys of every JSON error document, in order."""

DIAGNOSTIC_KEYS = ("code", "severity", "message", "help", "file", "line", "column")
"""The keys of every diagnostic in a JSON error document (``file``, ``line``, ``column`` may be null)."""


def error_document(error: TrancheError | Sequence[Diagnostic], status: int = 1,
                   message: str | None = None) -> dict[str, Any]:
    """The one JSON shape of a failure: for every command under ``--error-format json`` and for the API.

    ``error`` is a :class:`TrancheError` or a list of diagnostics; ``status`` is the exit code (or, for the
    API, the HTTP status).  ``errors`` is never empty for a failure: an error without diagnostics of its own
    appears there as one diagnostic (its code, message and help, no location).  With ``status`` 0 and no
    error diagnostic it reports success with warnings (``ok`` true, ``error`` and ``code`` null).

    >>> doc = error_document(UsageError("`x` is not a date", help="write dates as YYYY-MM-DD"))
    >>> tuple(doc) == ERROR_KEYS, doc["code"], doc["errors"][0]["message"]
    (True, 'usage', '`x` is not a date')
    >>> error_document([Diagnostic("w", "a warning", severity="warning")], status=0)["ok"]
    True
    """
    if isinstance(error, TrancheError):
        diags = list(error.diagnostics)
        code: str | None = error.code
        text: str | None = message or error.message
        help_ = error.help
    else:
        diags = list(error)
        first = next((d for d in diags if d.severity == "error"), None)
        code = "policy" if first is not None else None
        n = sum(1 for d in diags if d.severity == "error")
        text = message or (f"{n} error{'s' if n != 1 else ''}" if n else None)
        help_ = None
    errors = [d for d in diags if d.severity == "error"]
    warnings = [d for d in diags if d.severity == "warning"]
    ok = status == 0 and not errors and not isinstance(error, TrancheError)
    if not ok and not errors:
        errors = [Diagnostic(code or "error", text or "failed", None, help_)]
    return {
        "ok": ok,
        "error": None if ok else text,
        "code": None if ok else code,
        "help": None if ok else help_,
        "status": status,
        "errors": [d.to_dict() for d in errors],
        "warnings": [d.to_dict() for d in warnings],
    }
