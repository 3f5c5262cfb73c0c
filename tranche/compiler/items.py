"""Files of line items for bulk: how a CSV or Parquet file is read, and what is wrong with a bad one.

* :func:`open_items` registers a file as a DuckDB view.  A CSV file is read
  with a fixed dialect (header row; ``,`` -- a tab for ``.tsv`` --; ``"`` quotes
  doubled inside quoted values), every column as text except ``amount``
  (``DECIMAL(18,2)``): nothing is sniffed, so a value never changes type with the
  rows around it (an enum value ``01`` stays ``01``) and a malformed row is an
  error, never a shifted column.
* :func:`diagnose` is called when the engine failed on the file (or a check of
  the items refused it): it reads the file again, and returns one located
  :class:`~tranche.errors.Diagnostic` per problem it finds (up to
  :data:`MAX_PROBLEMS`) -- the CSV line (or the Parquet row), the column, the
  value, and how to write it.  Values are judged by the value domain
  (:mod:`tranche.language.values`): the message is the one the scenario reader
  gives for the same value.

The problems found: rows with too few or too many fields, unterminated quotes
and bytes that are not UTF-8 (DuckDB's CSV rejects); amounts that are not
decimal numbers or are negative; declared decimal (and date) attributes that are
not numbers (dates); set members (flags) that are not identifiers; Parquet
columns of a type that cannot be read as what the scenario declares.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import Diagnostic, Span, UsageError
from ..language.scenario import Scenario
from ..language.values import (ATTRIBUTE_MAX_DIGITS, ATTRIBUTE_PLACES, ValueProblem, parse_amount, parse_decimal,
                               parse_set)

__all__ = ["file_kind", "csv_header", "csv_source", "open_items", "diagnose", "located", "MAX_PROBLEMS",
           "ITEMS_VIEW", "ROW"]

ITEMS_VIEW = "__t_items"
ROW = "__t_row"  # = tranche.compiler.plan.ROW (the narrow layout's item key); kept equal by a test
MAX_PROBLEMS = 20
AMOUNT_SQL_TYPE = "DECIMAL(18,2)"
DELIMITERS = {".csv": ",", ".txt": ",", ".tsv": "\t"}
_CHUNK = 1 << 20


def file_kind(path: Path) -> str:
    """``parquet`` or ``csv``, from the file's suffix."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in DELIMITERS:
        return "csv"
    raise UsageError(f"`{path}`: unknown file type `{suffix or '(none)'}`",
                     help="give a .parquet or .csv file of line items")


def _delimiter(path: Path) -> str:
    return DELIMITERS.get(path.suffix.lower(), ",")


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's header row (read by Python's csv module: no sniffing)."""
    delim = _delimiter(path)
    try:
        with path.open("rb") as f:
            line = f.readline(1 << 20)  # the header is the first line: the rows are DuckDB's to read
        first = next(csv.reader([line.decode("utf-8-sig")], delimiter=delim), None)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}:1: the header is not UTF-8 (byte {exc.start + 1})",
                         help="save the file as UTF-8") from None
    except csv.Error as exc:
        raise UsageError(f"{path}:1: the header cannot be read: {exc}", help="write a header row of column names, "
                         "e.g. id,recipient,program,channel,category,amount,flags") from None
    except OSError as exc:
        raise UsageError(f"`{path}` cannot be read: {exc.strerror or exc}") from None
    if not first or not any(h.strip() for h in first):
        raise UsageError(f"`{path}` is empty: expected a header row",
                         help="write a header row of column names, e.g. id,recipient,program,channel,category,amount")
    names = [h.strip() for h in first]
    seen: set[str] = set()
    for h in names:
        if not h:
            raise UsageError(f"{path}:1: a column of the header has no name", help="name every column of the header")
        if h in seen:
            raise UsageError(f"{path}:1: duplicate column `{h}`", help="give each column one name")
        seen.add(h)
    return names


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_source(path: Path, header: Sequence[str], types: dict[str, str] | None = None, *,
               rejects: bool = False) -> str:
    """``read_csv(...)`` for ``path`` with a fixed dialect and the given column types (default VARCHAR)."""
    types = types or {}
    columns = "{" + ", ".join(f"{_quote(h)}: {_quote(types.get(h, 'VARCHAR'))}" for h in header) + "}"
    options = (f"header = true, delim = {_quote(_delimiter(path))}, quote = '\"', escape = '\"', "
               f"auto_detect = false, columns = {columns}")
    if rejects:
        options += ", store_rejects = true"
    return f"read_csv({_quote(str(path))}, {options})"


def open_items(con: Any, path: Path, *, row_numbers: bool = False) -> tuple[str, ...]:
    """Register ``path`` as the view ``__t_items`` on ``con``; return its columns.

    ``row_numbers``: the view also has a column ``__t_row``, the row's number in the
    file (Parquet: its position; CSV: numbered once, as read), the narrow layout's item key.
    Raises ``duckdb.Error`` for a file DuckDB cannot open (the caller locates it with :func:`diagnose`).
    """
    if not path.exists():
        raise UsageError(f"`{path}`: no such file", help="check the path given to --items")
    if path.is_dir():
        raise UsageError(f"`{path}` is a folder, not a file of items")
    kind = file_kind(path)
    if kind == "parquet":
        rel = con.read_parquet(str(path), file_row_number=row_numbers)
        if row_numbers:
            rel = rel.select(f'file_row_number AS "{ROW}", * EXCLUDE (file_row_number)')
        rel.create_view(ITEMS_VIEW, replace=True)
        return tuple(c for c in rel.columns if c != ROW)
    header = csv_header(path)
    source = csv_source(path, header, {"amount": AMOUNT_SQL_TYPE})
    if row_numbers:  # numbered once, into a table: every later scan sees the same numbers
        con.execute(f'CREATE TEMP TABLE "__t_numbered" AS SELECT row_number() OVER () - 1 AS "{ROW}", * '
                    f"FROM {source}")
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{ITEMS_VIEW}" AS SELECT * FROM "__t_numbered"')
    else:
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{ITEMS_VIEW}" AS SELECT * FROM {source}')
    return tuple(header)


# ---------------------------------------------------------------------------------------------------------
# diagnosis


@dataclass(frozen=True)
class _Problem:
    """One problem before it is located: a data row (0-based) or a byte position, a column, a message."""

    code: str
    message: str
    help: str | None
    row: int | None = None  # 0-based data row (Parquet row, CSV record)
    byte: int | None = None  # CSV: where the record starts (DuckDB's rejects)
    column: str | None = None
    value: str | None = None
    text: str | None = None  # the raw record, when known


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value_checks(scenario: Scenario | None, columns: Sequence[str]) -> list[tuple[str, str, Callable[[str], Any]]]:
    """(column, SQL type, parser) of each column read as a typed value: amount, declared decimals and dates."""
    checks: list[tuple[str, str, Callable[[str], Any]]] = []
    if "amount" in columns:
        checks.append(("amount", AMOUNT_SQL_TYPE, parse_amount))
    if scenario is None:
        return checks
    for name, a in scenario.attributes.items():
        if a.builtin or name not in columns:
            continue
        if a.type == "decimal":
            checks.append((name, "DECIMAL(38,10)",
                           lambda v: parse_decimal(v, places=ATTRIBUTE_PLACES, digits=ATTRIBUTE_MAX_DIGITS)))
        elif a.type == "date":
            checks.append((name, "DATE", _parse_day))
    return checks


def _parse_day(value: str) -> Any:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueProblem(f"`{value}` is not a date", help="write dates as YYYY-MM-DD, e.g. 2001-12-31") from None


def _set_columns(scenario: Scenario | None, columns: Sequence[str]) -> list[str]:
    declared = {"flags"} | ({n for n, a in scenario.attributes.items() if a.type == "set"} if scenario else set())
    return [c for c in columns if c in declared]


_TEXT_BUILTINS = ("recipient", "program", "channel", "category")


def _text_columns(scenario: Scenario | None, columns: Sequence[str]) -> list[str]:
    names = set(_TEXT_BUILTINS) | set(_set_columns(scenario, columns))
    if scenario is not None:
        names |= {n for n, a in scenario.attributes.items() if not a.builtin and a.type in ("enum", "string", "set")}
    return [c for c in columns if c in names]


def _structure(con: Any, path: Path, header: Sequence[str]) -> list[_Problem]:
    """The rows DuckDB's CSV reader rejects: field counts, quotes, encoding."""
    con.execute(f"SELECT count(*) FROM {csv_source(path, header, rejects=True)}").fetchall()
    found = con.execute("SELECT line_byte_position, column_idx, column_name, error_type, csv_line, error_message "
                        "FROM reject_errors ORDER BY line_byte_position, column_idx").fetchall()
    out: list[_Problem] = []
    seen: set[int] = set()
    delim = _delimiter(path)
    for byte, idx, column, kind, raw, message in found:
        if byte in seen:
            continue  # one problem per record (a short row is rejected once per missing column)
        seen.add(byte)
        raw = (raw or "").rstrip("\r\n")
        if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            fields = len(next(csv.reader([raw], delimiter=delim), []))
            lacking = list(header[fields:])
            if fields < len(header):
                help_ = ("give every column of the header, empty ones too: end the row with a "
                         f"`{'tab' if delim == chr(9) else delim}` per missing column "
                         f"({', '.join(f'`{c}`' for c in lacking)} missing)")
            else:
                help_ = 'quote values that contain commas, e.g. `"a,b"`'
            out.append(_Problem("csv-field-count", f"the row has {fields} field{'s' if fields != 1 else ''}, "
                                f"the header {len(header)}", help_, byte=byte, text=raw))
        elif kind == "UNQUOTED VALUE":
            out.append(_Problem("csv-quote", f"column `{column}`: a value with an unterminated quote" if column else
                                "a value with an unterminated quote", 'close the quote, and write a quote inside a '
                                'quoted value twice, e.g. `"12"" gun"`', byte=byte, column=column, text=raw))
        elif kind == "INVALID ENCODING":
            out.append(_Problem("csv-encoding", "the line is not UTF-8", "save the file as UTF-8", byte=byte))
        else:
            out.append(_Problem("csv-syntax", f"{(kind or 'error').lower()}: {message}", None, byte=byte, text=raw))
        if len(out) >= MAX_PROBLEMS:
            break
    return out


def _values(con: Any, relation: str, row: str, scenario: Scenario | None, columns: Sequence[str],
            types: dict[str, str]) -> list[_Problem]:
    """Values that cannot be read as their column's type (``relation`` numbers its rows in ``row``)."""
    out: list[_Problem] = []
    for column, sql_type, parse in _value_checks(scenario, columns):
        kind = types.get(column, "VARCHAR")
        c = _ident(column)
        if kind == "VARCHAR":
            bad = f"{c} IS NOT NULL AND (TRY_CAST({c} AS {sql_type}) IS NULL"
            bad += f" OR TRY_CAST({c} AS {sql_type}) < 0)" if column == "amount" else ")"
        elif _numeric(kind) or (kind == "DATE" and sql_type == "DATE"):
            if column != "amount":
                continue
            bad = f"{c} < 0"
        else:
            out.append(_type_problem(column, kind, "a decimal number" if sql_type != "DATE" else "a date"))
            continue
        rows = con.execute(f"SELECT {row}, CAST({c} AS VARCHAR) FROM {relation} WHERE {bad} "
                           f"ORDER BY {row} LIMIT {MAX_PROBLEMS}").fetchall()
        for r, value in rows:
            try:
                parse(value)
            except ValueProblem as problem:
                out.append(_Problem("bad-value", f"column `{column}`: {problem.message}", problem.help, row=int(r),
                                    column=column, value=value))
                continue
            except Exception:  # noqa: BLE001 -- a value the engine refuses is reported whatever the parser says
                pass
            out.append(_Problem("bad-value", f"column `{column}`: `{value}` cannot be read as {sql_type}",
                                None, row=int(r), column=column, value=value))
    for column in _set_columns(scenario, columns):
        kind = types.get(column, "VARCHAR")
        if kind != "VARCHAR":
            out.append(_type_problem(column, kind, "text (members separated by `,`)"))
            continue
        c = _ident(column)
        refused: list[tuple[str, ValueProblem]] = []
        for (value,) in con.execute(f"SELECT DISTINCT {c} FROM {relation} WHERE {c} IS NOT NULL").fetchall():
            try:
                parse_set(str(value))
            except ValueProblem as problem:
                refused.append((str(value), problem))
        if not refused:
            continue
        problems = dict(refused)
        listed = ", ".join(_literal(v) for v in problems)
        for r, value in con.execute(f"SELECT {row}, {c} FROM {relation} WHERE {c} IN ({listed}) ORDER BY {row} "
                                    f"LIMIT {MAX_PROBLEMS}").fetchall():
            refusal = problems[value]
            out.append(_Problem("bad-value", f"column `{column}`: {refusal.message}", refusal.help, row=int(r),
                                column=column, value=value))
    return out


def _literal(value: str) -> str:
    return _quote(value)


def _numeric(kind: str) -> bool:
    k = kind.upper()
    return k.startswith("DECIMAL") or k in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                                            "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE")


def _type_problem(column: str, kind: str, expected: str) -> _Problem:
    return _Problem("bad-type", f"column `{column}` holds {kind} values; expected {expected}",
                    f"write `{column}` as {expected}", column=column)


def _text_types(scenario: Scenario | None, columns: Sequence[str], types: dict[str, str]) -> list[_Problem]:
    return [_type_problem(c, types[c], "text") for c in _text_columns(scenario, columns)
            if c in types and types[c] != "VARCHAR" and not types[c].startswith("ENUM")]


def diagnose(path: str | Path, scenario: Scenario | None = None) -> list[Diagnostic]:
    """Every problem of the items file ``path`` that can be located (at most :data:`MAX_PROBLEMS`).

    CSV problems carry the file, the line and the column (a span of the value); Parquet ones
    the file, and the row (1-based) in the message.  An empty list: no problem found here.
    """
    import duckdb

    path = Path(path)
    kind = file_kind(path)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar_print = false")  # DuckDB's own bar would go to stdout
        if kind == "csv":
            header = csv_header(path)
            problems = _structure(con, path, header)
            if problems:  # rows that cannot be split into the header's columns: report those first
                return _locate_csv(path, problems, header)
            # numbered once, in file order; only the columns judged here are kept (memory stays small)
            judged = [c for c, _, _ in _value_checks(scenario, header)] + _set_columns(scenario, header)
            if not judged:
                return []
            kept = ", ".join(_ident(c) for c in dict.fromkeys(judged))
            con.execute(f"CREATE TEMP TABLE rows AS SELECT row_number() OVER () - 1 AS {_ident(ROW)}, {kept} "
                        f"FROM {csv_source(path, header)}")
            problems = _values(con, "rows", _ident(ROW), scenario, judged, {})
            return _locate_csv(path, problems, header)
        rel = con.read_parquet(str(path), file_row_number=True)
        columns = [c for c in rel.columns if c != "file_row_number"]
        types = {c: str(t) for c, t in zip(rel.columns, rel.types)}
        rel.create_view("rows")
        problems = _values(con, "rows", "file_row_number", scenario, columns, types)
        if not problems:
            problems = _text_types(scenario, columns, types)
        return [_locate_parquet(path, p) for p in _first(problems)]
    except duckdb.Error:
        return []
    finally:
        con.close()


def _first(problems: Iterable[_Problem]) -> list[_Problem]:
    ordered = sorted(problems, key=lambda p: (p.row if p.row is not None else -1, p.column or ""))
    return ordered[:MAX_PROBLEMS]


def _locate_parquet(path: Path, p: _Problem) -> Diagnostic:
    where = f"row {p.row + 1}: " if p.row is not None else ""
    return Diagnostic(p.code, f"{where}{p.message}", Span(str(path)), p.help)


def _locate_csv(path: Path, problems: list[_Problem], header: Sequence[str]) -> list[Diagnostic]:
    """Diagnostics at the physical line (and the value's column) of each problem."""
    if not problems:
        return []
    by_row = {p.row for p in problems if p.row is not None}
    lines = _record_lines(path, by_row) if by_row else {}
    texts = _line_texts(path, {lines[r][0] for r in by_row if r in lines})
    out: list[tuple[int, int, Diagnostic]] = []
    delim = _delimiter(path)
    for p in problems:
        if p.byte is not None:
            line = _line_at(path, p.byte)
            text = p.text
        elif p.row is not None and p.row in lines:
            line, text = lines[p.row][0], lines[p.row][1] or texts.get(lines[p.row][0])
        else:
            line, text = 0, None
        col, length = 1, 1
        if p.column is not None and text is not None and p.column in header:
            offsets = _field_offsets(text, delim)
            i = list(header).index(p.column)
            if i < len(offsets):
                col = offsets[i]
                length = max(1, len(p.value or "") + (2 if text[col - 1:col] == '"' else 0))
        elif text is not None:
            length = max(1, len(text))
        out.append((line, col, Diagnostic(p.code, p.message, Span(str(path), line, col, length), p.help)))
    out.sort(key=lambda t: (t[0], t[1]))
    return [d for _, _, d in out[:MAX_PROBLEMS]]


def _field_offsets(line: str, delim: str) -> list[int]:
    """1-based start columns of each field, honouring double quotes."""
    starts = [1]
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            starts.append(i + 2)
    return starts


def _line_at(path: Path, byte: int) -> int:
    """The 1-based line that starts at (or contains) byte offset ``byte``."""
    newlines, read = 0, 0
    with path.open("rb") as f:
        while read < byte:
            chunk = f.read(min(_CHUNK, byte - read))
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            read += len(chunk)
    return newlines + 1


def _newlines(path: Path) -> tuple[int, bool]:
    """(number of newlines, whether the file ends with one)."""
    count, last = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count, last == b"\n"


def _record_lines(path: Path, rows: set[int]) -> dict[int, tuple[int, str | None]]:
    """(physical line, raw text or None) of each wanted data record (0-based, blank lines skipped as DuckDB does)."""
    newlines, ends = _newlines(path)
    physical = newlines + (0 if ends else 1)
    records = _count_records(path)
    if physical == records + 1:  # no blank line and no value spanning lines: record r is on line r + 2
        return {r: (r + 2, None) for r in rows}
    out: dict[int, tuple[int, str | None]] = {}
    last = max(rows)
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        raw: list[str] = []

        def lines() -> Iterable[str]:
            for line in f:
                raw.append(line)
                yield line

        reader = csv.reader(lines(), delimiter=_delimiter(path))
        next(reader, None)
        index = -1
        for record in reader:
            start = reader.line_num - len(raw) + 1
            text = "".join(raw).rstrip("\r\n")
            raw.clear()
            if not record or (len(record) == 1 and not record[0]):
                continue
            index += 1
            if index in rows:
                out[index] = (start, text)
            if index >= last:
                break
    return out


def _count_records(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar_print = false")
        header = csv_header(path)
        return int(con.execute(f"SELECT count(*) FROM {csv_source(path, header)}").fetchall()[0][0]) + 0
    finally:
        con.close()


def _line_texts(path: Path, lines: set[int]) -> dict[int, str]:
    """The text of the wanted physical lines (1-based), read in one pass that stops after the last."""
    if not lines:
        return {}
    out: dict[int, str] = {}
    last = max(lines)
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            if number in lines:
                out[number] = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if number >= last:
                break
    return out


def located(path: str | Path, scenario: Scenario | None, fallback: UsageError) -> UsageError:
    """The error to raise for a bad items file: its located problems (:func:`diagnose`), else ``fallback``."""
    try:
        found = diagnose(path, scenario)
    except UsageError:  # not a file diagnose reads (a folder of part files, say): the engine's message stands
        return fallback
    if not found:
        return fallback
    first = found[0]
    where = f"{first.span}" if first.span is not None and first.span.line > 0 else f"`{path}`"
    if first.span is not None and first.span.line > 0:
        where = f"{first.span.file}:{first.span.line}"
    more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''}" \
           f"{', perhaps more' if len(found) >= MAX_PROBLEMS else ''})" if len(found) > 1 else ""
    return UsageError(f"{where}: {first.message}{more}", help=first.help, diagnostics=found)
