"""Reading `pipeline.csv` column by column: a million rows checked in seconds, in bounded memory.

The row path (:func:`tranche.language.validate.parse_item_row`) reads one row at a time into a dict and
reports each problem where it is.  Here the rows are read in chunks of lists of fields
(:meth:`~tranche.language.syntax.CsvFile.chunks`), and each column's values are read once per distinct
value by the reader of the column (:func:`readers`): for a declared attribute, the entry of its type in
:data:`TYPES`.  A reader gives the value the item holds -- by the definitions of values.py and the
scenario's vocabulary, as the row path reads it -- or :data:`BAD` where the row path reports a problem.

Rows found wrong (a bad value, an empty id, a program of another recipient) and every row of an id used
twice are then read again by the row path, in line order with the file's own problems, so that the
messages are the row path's; after :data:`MAX_ROWS_LISTED` rows with errors the others are counted in
one message.  The other rows become a :class:`~tranche.language.scenario.Pipeline` whose items equal
what the row path makes of the same rows (tests/language/test_pipeline.py holds both properties on
random rows and hostile values).

A new attribute type slots in with one entry in :data:`TYPES` (how a value is read, or BAD).  A type
without one is read again by the row path wherever its value is not empty: right, at the row path's
speed.
"""

from __future__ import annotations

import contextlib
import gc
import re
import sys
from itertools import compress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Final, Iterable, Iterator, Mapping, Sequence

from ..errors import Diagnostic, Span
from .scenario import (BASES, MARKINGS, MONEY_STAGES, PIPELINE_STAGES, UNCLASSIFIED, AttributeSchema, LineItem,
                       Pipeline, Program, Same, Taxonomy, ITEM_FIELDS)
from .syntax import CsvFile, CsvRow
from .values import (ATTRIBUTE_MAX_DIGITS, ATTRIBUTE_PLACES, ValueProblem, parse_amount, parse_day, parse_decimal,
                     parse_set)

__all__ = ["BAD", "TYPES", "MAX_ROWS_LISTED", "Reader", "readers", "read_pipeline", "PLAIN_COLUMNS"]

MAX_ROWS_LISTED = 100
"""Rows with errors listed one by one; the rest are counted."""

PLAIN_COLUMNS = ("id", "description", "basis", "sources", "marking")
"""Columns that are not attributes; any other column the scenario does not declare is kept as text."""

_CACHE_MOST = 65_536  # distinct values remembered per column between chunks


class _Bad:
    """The value of a reader where the row path reports a problem."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BAD"


BAD: Final = _Bad()

Reader = Callable[[str], Any]
"""A column's reader: a value as written (stripped) -> the value the item holds, or :data:`BAD`."""


def _enum(a: AttributeSchema) -> Reader:
    known = frozenset(a.values)

    def read(v: str) -> Any:
        if not v:
            return None
        return sys.intern(v) if v in known else BAD
    return read


def _string(a: AttributeSchema) -> Reader:
    def read(v: str) -> Any:
        return sys.intern(v) if v else None
    return read


def _set(a: AttributeSchema) -> Reader:
    known = frozenset(a.values)

    def read(v: str) -> Any:
        try:
            members = parse_set(v)
        except ValueProblem:
            return BAD
        return members if members <= known else BAD
    return read


_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,%d}(?:\.[0-9]{1,%d})?\Z" % (ATTRIBUTE_MAX_DIGITS - ATTRIBUTE_PLACES,
                                                                    ATTRIBUTE_PLACES))


def _decimal(a: AttributeSchema) -> Reader:
    def read(v: str) -> Any:
        if v == "":
            return None
        if _PLAIN_DECIMAL.match(v):  # what parse_decimal surely accepts, as it reads it
            return Decimal(v)
        try:
            return parse_decimal(v, places=ATTRIBUTE_PLACES, digits=ATTRIBUTE_MAX_DIGITS)
        except ValueProblem:
            return BAD
    return read


def _date(a: AttributeSchema) -> Reader:
    def read(v: str) -> Any:
        if not v:
            return None  # the stage was not reached (or its date is not known)
        try:
            return parse_day(v)
        except ValueProblem:
            return BAD
    return read


TYPES: dict[str, Callable[[AttributeSchema], Reader]] = {
    "enum": _enum,
    "string": _string,
    "decimal": _decimal,
    "set": _set,
    "date": _date,
}
"""The reader of a declared attribute's column, by the attribute's type (as the row path reads it)."""


def _text(v: str) -> Any:
    """A column the scenario does not declare: its text."""
    return v


def _members(known: Iterable[str]) -> Reader:
    """A builtin column of a vocabulary: the value must be one of ``known`` (empty is not)."""
    names = frozenset(known)

    def read(v: str) -> Any:
        return sys.intern(v) if v in names else BAD
    return read


_PLAIN_AMOUNT = re.compile(r"[0-9]{1,16}(?:\.[0-9]{1,2})?\Z")  # what parse_amount surely accepts, as it reads it


def _amount(v: str) -> Any:
    if _PLAIN_AMOUNT.match(v):
        return Decimal(v)
    try:
        return parse_amount(v)
    except ValueProblem:
        return BAD


def _flags(known: Iterable[str]) -> Reader:
    names = frozenset(known)

    def read(v: str) -> Any:
        try:
            members = parse_set(v)
        except ValueProblem:
            return BAD
        return members if members <= names else BAD
    return read


def _basis(v: str) -> Any:
    return None if not v else v if v in BASES else BAD


def _sources(known: Iterable[str] | None) -> Reader:
    names = frozenset(known) if known is not None else None

    def read(v: str) -> Any:
        refs = tuple(x for x in re.split(r"[,\s]+", v) if x)
        return BAD if names is not None and not names.issuperset(refs) else refs
    return read


def _marking(v: str) -> Any:
    v = v or UNCLASSIFIED
    return sys.intern(v) if v in MARKINGS else BAD


def readers(attributes: Mapping[str, AttributeSchema], taxonomy: Taxonomy, programs: Mapping[str, Program],
            source_ids: Sequence[str] | None, header: Sequence[str] = ()) -> dict[str, tuple[str, Reader | None]]:
    """What the row path reads, by key: (the column, its reader; ``None``: a declared type without an entry
    in :data:`TYPES`).  Keys: a builtin column's name; ``@NAME`` a declared attribute (a column may be
    both: an attribute may be called `basis`); ``+NAME`` a column of ``header`` that is neither, kept as text.
    ``source_ids``: the sources an item may cite (None: not checked)."""
    out: dict[str, tuple[str, Reader | None]] = {
        "recipient": ("recipient", _members(attributes["recipient"].values)),
        "program": ("program", _members(programs)),
        "channel": ("channel", _members(attributes["channel"].values)),
        "category": ("category", _members(taxonomy.nodes)),
        "amount": ("amount", _amount),
        "flags": ("flags", _flags(attributes["flags"].values)),
        "description": ("description", _text),
        "basis": ("basis", _basis),
        "sources": ("sources", _sources(source_ids)),
        "marking": ("marking", _marking),
    }
    for name, a in attributes.items():
        if not a.builtin:
            make = TYPES.get(a.type)
            out[f"@{name}"] = (name, make(a) if make is not None else None)
    for name in dict.fromkeys(header):
        if name not in attributes and name not in PLAIN_COLUMNS:
            out[f"+{name}"] = (name, _text)
    return out


class _Read(dict[str, Any]):
    """A column's fields as read (stripped first, then by the column's reader), each distinct field once;
    ``bad``: the fields read as BAD."""

    def __init__(self, read: Reader) -> None:
        super().__init__()
        self.read = read
        self.bad: set[str] = set()

    def __missing__(self, field: str) -> Any:
        value = self[field] = self.read(field.strip())
        if value is BAD:
            self.bad.add(field)
        return value

    def column(self, raw: Sequence[str]) -> tuple[list[Any], bool]:
        """``raw`` read, and whether a field of it is BAD."""
        if len(self) > _CACHE_MOST:
            self.clear()
            self.bad.clear()
        values = list(map(self.__getitem__, raw))
        return values, bool(self.bad) and not self.bad.isdisjoint(raw)


@dataclass
class _Columns:
    """What the column pass keeps of every row (values as the item holds them), and which rows to read again."""

    ids: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)
    bad: set[int] = field(default_factory=set)  # rows the row path surely rejects
    unsure: set[int] = field(default_factory=set)  # rows only the row path can decide (a type without a reader)


def read_pipeline(csv_file: CsvFile, attributes: Mapping[str, AttributeSchema], taxonomy: Taxonomy,
                  programs: Mapping[str, Program], source_ids: Sequence[str] | None,
                  replay: Callable[[CsvRow], LineItem | None], report: Callable[[Diagnostic], None],
                  progress: Callable[[int, int], None] | None = None) -> tuple[Pipeline, set[str]]:
    """The items of the pipeline ``csv_file`` (its header read and checked), and the ids of rows with
    errors that were not listed.

    ``replay`` is the row path: it reads one row, reports its problems, and gives the item or None (a bad
    row, or an id used before); ``report`` takes the file's own problems (field counts, quoting, limits),
    given in line order with the rows read again.  ``progress(lines read, lines in all)`` counts the file's
    physical lines, its header included: it is called at the start, after each chunk (small enough that a
    file moves about a hundred times) and at the end.
    """
    with _collector_paused():
        return _read(csv_file, attributes, taxonomy, programs, source_ids, replay, report, progress)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a file is read: the pass makes millions of short-lived lists
    and no cycle, and the collections they set off would take half its time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(csv_file: CsvFile, attributes: Mapping[str, AttributeSchema], taxonomy: Taxonomy,
          programs: Mapping[str, Program], source_ids: Sequence[str] | None,
          replay: Callable[[CsvRow], LineItem | None], report: Callable[[Diagnostic], None],
          progress: Callable[[int, int], None] | None) -> tuple[Pipeline, set[str]]:
    header = csv_file.header
    at = {h: j for j, h in enumerate(header)}  # a repeated column: the last one, as in the row path's dict
    jobs = {k: job for k, job in readers(attributes, taxonomy, programs, source_ids, header).items() if job[0] in at}
    cols = _Columns(values={k: [] for k in jobs})
    caches = {k: _Read(read or _text) for k, (_, read) in jobs.items()}
    first_problem = len(csv_file.diagnostics)
    lines = csv_file.physical_lines
    if progress is not None:
        progress(0, lines)
    size = max(1024, min(50_000, lines // 100)) if progress is not None else 50_000
    for records, starts in csv_file.chunks(size):
        base = len(cols.ids)
        fields = list(zip(*records))
        ids = list(map(str.strip, fields[at["id"]]))
        if "" in ids:
            cols.bad.update(base + i for i, v in enumerate(ids) if not v)
        cols.ids += ids
        cols.lines += starts
        read_now: dict[str, list[Any]] = {}
        for key, (column, read) in jobs.items():
            raw = fields[at[column]]
            if read is None:  # only the row path can read it (empty too: it may read "" as None)
                cols.unsure.update(range(base, base + len(raw)))
                cols.values[key] += map(str.strip, raw)
                continue
            if key == "description":  # text, mostly different on each row: nothing to share
                cols.values[key] += map(str.strip, raw)
                continue
            cache = caches[key]
            values, bad = cache.column(raw)
            if bad:
                wrong = cache.bad
                cols.bad.update(base + i for i, v in enumerate(raw) if v in wrong)
            cols.values[key] += values
            read_now[key] = values
        # a program of another recipient (a recipient that is not known is reported as such)
        if "recipient" in read_now and "program" in read_now:
            pairs = zip(read_now["program"], read_now["recipient"])
            wrong_pairs = {(p, r) for p, r in set(pairs)
                           if p is not BAD and r is not BAD and programs[p].recipient != r}
            if wrong_pairs:
                cols.bad.update(base + i for i, pair in enumerate(zip(read_now["program"], read_now["recipient"]))
                                if pair in wrong_pairs)
        _stages_out_of_order(read_now, base, cols.unsure)
        if progress is not None and starts:
            progress(starts[-1], max(lines, starts[-1]))
    if progress is not None:
        progress(lines, lines)
    structural = csv_file.diagnostics[first_problem:]
    keep, unlisted = _recheck(csv_file, cols, replay, report, structural)
    csv_file.close()
    return _pipeline(cols, keep, programs), unlisted


def _stages_out_of_order(read_now: Mapping[str, list[Any]], base: int, unsure: set[int]) -> None:
    """Rows whose stage dates are out of order (delivered before shipped, ...) go to the row path, which warns."""
    for stages in (PIPELINE_STAGES, MONEY_STAGES):
        present = [read_now[f"@{s}"] for s in stages if f"@{s}" in read_now]
        if len(present) < 2:
            continue
        for i, days in enumerate(zip(*present)):
            reached = [d for d in days if d is not None and d is not BAD]
            if any(later < earlier for earlier, later in zip(reached, reached[1:])):
                unsure.add(base + i)


def _recheck(csv_file: CsvFile, cols: _Columns, replay: Callable[[CsvRow], LineItem | None],
             report: Callable[[Diagnostic], None],
             structural: list[Diagnostic]) -> tuple[dict[int, LineItem | None], set[str]]:
    """Read the doubtful rows again by the row path, in line order with the file's problems: what became
    of each (its item, or None), and the ids of the rows with errors beyond :data:`MAX_ROWS_LISTED`."""
    ids = cols.ids
    again = cols.bad | cols.unsure
    first_ok: dict[str, int] = {}  # of an id used twice: the row that keeps it
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        twice: set[str] = set()
        for ident in ids:
            (twice if ident in seen else seen).add(ident)
        for i, ident in enumerate(ids):
            if ident in twice:
                again.add(i)
                if i not in cols.bad and ident not in first_ok:
                    first_ok[ident] = i
    if not again:
        for d in structural:
            report(d)
        return {}, set()
    order = sorted(again)
    most = MAX_ROWS_LISTED if not cols.unsure else len(order)  # rows only the row path can decide: all of them
    pending = iter(structural)
    waiting = next(pending, None)
    done: dict[int, LineItem | None] = {}
    listed = 0
    stop = len(order)
    for n, (i, row) in enumerate(csv_file.rows_at(order)):
        while waiting is not None and waiting.span is not None and waiting.span.line < row.line:
            report(waiting)
            waiting = next(pending, None)
        if listed >= most:
            stop = n
            break
        done[i] = item = replay(row)
        listed += item is None
    unlisted: set[str] = set()
    rest = [i for i in order[stop:] if i in cols.bad or first_ok.get(ids[i], i) != i]  # the rows kept: not
    if rest:
        unlisted = {ids[i] for i in rest}
        done.update((i, None) for i in rest)
        report(Diagnostic("more-errors", f"{len(rest):,} more rows of the pipeline have errors; the first "
                          f"{listed} are listed", Span(csv_file.name, cols.lines[rest[0]], 1),
                          help="correct the rows listed and check again"))
    while waiting is not None:
        report(waiting)
        waiting = next(pending, None)
    return done, unlisted


class _Attributes(dict[tuple[Any, ...], dict[str, Any]]):
    """The attributes of an item by their values (in the order of ``keys``), made once for equal values."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__()
        self.keys_ = keys

    def __missing__(self, values: tuple[Any, ...]) -> dict[str, Any]:
        made = self[values] = dict(zip(self.keys_, values))
        return made


def _column(values: list[Any]) -> Sequence[Any]:
    """``values``, or one :class:`Same` value where they are all equal (not for numbers: ``100`` and
    ``100.00`` are equal, and written differently)."""
    if values and not isinstance(values[0], Decimal) and values.count(values[0]) == len(values):
        return Same(values[0], len(values))
    return values


def _pipeline(cols: _Columns, done: Mapping[int, LineItem | None], programs: Mapping[str, Program]) -> Pipeline:
    """The items of the rows kept: read by columns, or (rows read again) as the row path made them."""
    n = len(cols.ids)
    values = cols.values
    columns: dict[str, Sequence[Any]] = {"id": cols.ids}
    for name in ("recipient", "program", "channel", "category", "amount"):
        columns[name] = values[name]
    columns["flags"] = values.get("flags") or Same(frozenset(), n)
    columns["description"] = values.get("description") or Same("", n)
    status: dict[Any, str] = {p: programs[p].status for p in set(values["program"]) if p is not BAD}
    status[BAD] = "approved"
    columns["program_status"] = list(map(status.__getitem__, values["program"]))
    keys = [k for k in values if k[0] in "@+"]  # declared attributes in their order, then other columns
    if keys:  # one dict for the rows with the same attributes
        shared = _Attributes([k[1:] for k in keys])
        columns["attrs"] = list(map(shared.__getitem__, zip(*(values[k] for k in keys))))
        shared.clear()
    else:
        columns["attrs"] = Same({}, n)
    columns["line"] = cols.lines
    columns["basis"] = values.get("basis") or Same(None, n)
    columns["sources"] = values.get("sources") or Same((), n)
    columns["marking"] = values.get("marking") or Same(UNCLASSIFIED, n)
    if done:  # rows read again: their items as the row path made them; the others are dropped
        patched = {f: list(c) for f, c in columns.items()}
        for i, item in done.items():
            if item is not None:
                for f in ITEM_FIELDS:
                    patched[f][i] = getattr(item, f)
        kept = bytes(i not in done or done[i] is not None for i in range(n))
        columns = {f: list(compress(c, kept)) for f, c in patched.items()}
        n = sum(kept)
    out = {f: _column(c) if isinstance(c, list) and f not in ("id", "description", "line") else c
           for f, c in columns.items()}
    if n and isinstance(out["line"], list) and out["line"][-1] - out["line"][0] == n - 1:
        out["line"] = range(out["line"][0], out["line"][0] + n)
    return Pipeline(out, n)
