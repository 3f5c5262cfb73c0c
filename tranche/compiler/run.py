"""Running a plan: DuckDB over files, SQLite and PostgreSQL over a table, Spark over files.

* :func:`bulk` -- DuckDB: a Parquet or CSV file of items in, a Parquet file of
  decisions out.  DuckDB streams the file through the query (it never becomes
  Python objects); the output is written to a temporary file beside the target
  and renamed into place only when complete.
* :func:`bulk_spark` -- the same compiled query through Spark SQL (PySpark);
  the output is a Parquet folder, as Spark writes it.
* :func:`decisions_in_db` and :func:`summarize_in_db` -- a table of items in
  SQLite or PostgreSQL (a DB-API connection such as ``sqlite3`` or
  ``psycopg``, or a SQLAlchemy engine or connection), evaluated inside the
  database; sums are exact (``Decimal``).

Errors from the engines are translated into tranche errors here, at the
boundary: a bad file, a missing column or a value that cannot be read is a
:class:`~tranche.errors.UsageError` naming the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlglot import exp

from ..errors import Diagnostic, Span, TrancheError, UsageError
from ..language.progress import Progress
from ..language.scenario import OUTCOMES, Scenario
from ..language.values import ValueProblem, parse_set
from .dialects import generate, target
from .groups import GroupRow, check_by, group_column, group_rows, groups_select
from .items import ITEMS_VIEW, file_kind, located, open_items
from .plan import AMOUNT_TYPE, REQUIRED_COLUMNS, ROW, Context, Plan, col, contexts, lit, plan

__all__ = [
    "SummaryRow",
    "GroupRow",
    "BulkResult",
    "Progress",
    "bulk",
    "check_sets",
    "bulk_spark",
    "duckdb_plan",
    "create_tables",
    "write_narrow",
    "narrow_views",
    "decisions_in_db",
    "summarize_in_db",
    "group_in_db",
    "dates_between",
]

# Progress: called with (what, done, total) while a query runs: ``decisions`` written of those known


@dataclass(frozen=True)
class SummaryRow:
    """Items and exact amount per (option, as_of, program, outcome)."""

    option: str | None
    as_of: dt.date
    program: str | None
    outcome: str
    amount: Decimal
    items: int

    def to_dict(self) -> dict[str, Any]:
        return {"option": self.option, "as_of": self.as_of.isoformat(), "program": self.program,
                "outcome": self.outcome, "amount": f"{self.amount:.2f}", "items": self.items}


@dataclass
class BulkResult:
    """What a bulk run wrote and its summary."""

    out: Path
    rows: int
    items: int
    contexts: tuple[Context, ...]
    summary: list[SummaryRow]
    seconds: float
    sql: str = field(repr=False, default="")
    layout: str = "wide"
    form: str = "case"
    warnings: tuple[Diagnostic, ...] = ()  # e.g. an optional declared attribute the items lack
    by: str | None = None  # the attribute of ``groups`` (``by=``)
    groups: list[GroupRow] = field(default_factory=list)


MAX_DATES = 10_000


def dates_between(start: dt.date, end: dt.date, every: str) -> list[dt.date]:
    """``start``, ``start + every``, ... up to ``end`` (``every`` like ``7d``, ``2w``, ``1d``).

    >>> dates_between(dt.date(1962, 10, 1), dt.date(1962, 10, 20), "7d")
    [datetime.date(1962, 10, 1), datetime.date(1962, 10, 8), datetime.date(1962, 10, 15)]
    """
    text = every.strip().lower()
    unit = text[-1:] if text[-1:] in ("d", "w") else "d"
    number = text[:-1] if text[-1:] in ("d", "w") else text
    if not number.isdigit() or int(number) <= 0:
        raise UsageError(f"--every: `{every}` is not a period", help="write a number of days or weeks, e.g. 7d or 2w")
    if end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    days = int(number) * (7 if unit == "w" else 1)
    if days > (dt.date.max - dt.date.min).days:
        raise UsageError(f"--every: `{every}` is longer than the calendar", help="write a period of days or weeks "
                                                                               "within the range, e.g. 7d or 2w")
    count = (end - start).days // days + 1  # counted first: a million dates are never built
    if count > MAX_DATES:
        raise UsageError(f"--every {every} from {start} to {end} is {count:,} dates, more than {MAX_DATES:,}",
                         help="use a longer period or a shorter range")
    step = dt.timedelta(days=days)
    return [start + step * i for i in range(count)]


# ---------------------------------------------------------------------------------------------------------
# DuckDB over files


def _duckdb() -> Any:
    import duckdb

    return duckdb


class _BadItems(UsageError):
    """A value of the items that a check refused (located by :func:`tranche.compiler.items.diagnose`)."""


def _open_items(con: Any, path: Path, *, row_numbers: bool = False) -> tuple[str, ...]:
    """Register ``path`` as the view of items (:func:`tranche.compiler.items.open_items`); return its columns."""
    duckdb = _duckdb()
    try:
        return open_items(con, path, row_numbers=row_numbers)
    except duckdb.Error as exc:
        kind = file_kind(path)
        raise _BadItems(f"`{path}` cannot be read as {kind}: {_first_line(exc)}",
                        help="check that the file is a valid " + kind + " file of line items") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _set_columns(scenario: Scenario, columns: Sequence[str]) -> list[str]:
    declared = {name for name, a in scenario.attributes.items() if a.type == "set"} | {"flags"}
    return [c for c in columns if c in declared]


def check_sets(scenario: Scenario, columns: Sequence[str], distinct: Callable[[str], Iterable[Any]],
               where: object) -> None:
    """Read every distinct value of each set-valued column (flags) as the scenario reader does.

    ``distinct(column)`` yields the column's distinct values.  A value that
    :func:`tranche.language.values.parse_set` refuses (another separator, a member
    that is not an identifier) is refused here too, so that bulk never decides an
    item the scenario reader would not accept.
    """
    for column in _set_columns(scenario, columns):
        for value in distinct(column):
            if value is None:
                continue
            try:
                parse_set(str(value))
            except ValueProblem as problem:
                raise UsageError(f"`{where}`: column `{column}`: {problem.message}", help=problem.help) from None


def _not_null(con: Any, columns: Sequence[str], view: str = ITEMS_VIEW) -> frozenset[str]:
    """The columns that hold no NULL (from Parquet statistics, or a scan of a CSV file)."""
    if not columns:
        return frozenset()
    total = exp.Count(this=exp.Star())
    tests = [exp.alias_(exp.EQ(this=exp.Count(this=col(c)), expression=total), f"c{i}", quoted=True)
             for i, c in enumerate(columns)]
    found = con.execute(generate(exp.select(*tests).from_(view), "duckdb")).fetchall()
    return frozenset(c for c, ok in zip(columns, found[0]) if ok) if found else frozenset()


def _temp_beside(out: Path, suffix: str) -> Path:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent)
    except OSError as exc:
        raise UsageError(f"--out `{out}`: cannot write there: {exc.strerror or exc}",
                         help="choose a file in a folder you can write to") from None
    os.close(fd)
    os.unlink(name)
    return Path(name)


def _remove(path: Path) -> None:
    if path.is_dir():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _summary_row(r: Sequence[Any], scale: int = 0) -> SummaryRow:
    amount = Decimal(0) if r[4] is None else Decimal(str(r[4]))
    if scale:
        amount = amount.scaleb(-scale)
    day = r[1] if isinstance(r[1], dt.date) else dt.date.fromisoformat(str(r[1]))
    return SummaryRow(r[0], day, r[2], str(r[3]), amount.quantize(Decimal("0.01")), int(r[5]))


def duckdb_plan(con: Any, scenario: Scenario, columns: Sequence[str], dates: Sequence[dt.date],
                options: Sequence[str | None] = (None,), assume: Iterable[str] = (), view: str = ITEMS_VIEW,
                where: object = None, *, form: str = "auto") -> Plan:
    """The plan for the items registered as ``view`` on ``con``, informed by one cheap scan of the file.

    The scan finds the recipients (for the timelines of record), the distinct
    flag values (checked as the scenario reader checks them) and whether they
    need their spaces removed; the compiled query then skips that per-row work.
    The CASE form also asks which columns hold no NULL.
    """
    return _duckdb_plan(con, scenario, columns, dates, options, assume, view, where, form)[0]


@dataclass(frozen=True)
class _Scan:
    rows: int
    sets: dict[str, list[Any]]
    sets_normalized: bool  # no NULL and no space in any set-valued column
    recipients: list[str]
    least: Decimal | None = None  # the smallest amount


def _scan(con: Any, scenario: Scenario, columns: Sequence[str], view: str, recipients: bool) -> _Scan:
    """One pass over the items: the row count, each set column's distinct values and NULLs, the recipients."""
    sets = _set_columns(scenario, columns)
    terms: list[exp.Expr] = [exp.Count(this=exp.Star())]
    for c in sets:
        text = exp.Cast(this=col(c), to=exp.DataType.build("TEXT"))
        terms += [exp.Count(this=col(c)), exp.Anonymous(this="list", expressions=[exp.Distinct(expressions=[text])])]
    if recipients:
        terms.append(exp.Anonymous(this="list", expressions=[exp.Distinct(expressions=[col("recipient")])]))
    terms.append(exp.Min(this=exp.Cast(this=col("amount"), to=exp.DataType.build(AMOUNT_TYPE))))
    row = con.execute(generate(exp.select(*terms).from_(view), "duckdb")).fetchone()
    total = int(row[0])
    least = row[-1]
    row = row[:-1]
    values: dict[str, list[Any]] = {}
    clean = True
    for i, c in enumerate(sets):
        count, found = row[1 + 2 * i], [v for v in (row[2 + 2 * i] or []) if v is not None]
        values[c] = found
        clean = clean and count == total and not any(" " in v for v in found)
    who = sorted(r for r in (row[-1] or []) if r is not None) if recipients else []
    return _Scan(total, values, clean, who, None if least is None else Decimal(str(least)))


def _duckdb_plan(con: Any, scenario: Scenario, columns: Sequence[str], dates: Sequence[dt.date],
                 options: Sequence[str | None], assume: Iterable[str], view: str, where: object,
                 form: str) -> tuple[Plan, int]:
    scan = _scan(con, scenario, columns, view, None in options)
    try:
        check_sets(scenario, columns, lambda c: scan.sets.get(c, ()), where if where is not None else view)
    except UsageError as exc:
        raise _BadItems(exc.message, help=exc.help) from None
    if scan.least is not None and scan.least < 0:  # the scenario reader refuses them too (parse_amount)
        raise _BadItems(f"`{where if where is not None else view}`: column `amount`: `{scan.least}` is negative",
                        help="an amount is zero or more")
    ctxs = contexts(scenario, dates, options, assume, scan.recipients)
    p = plan(scenario, ctxs, columns, view, normalize_sets=not scan.sets_normalized, form=form)
    if p.form == "case":  # the CASE form also skips coalescing on columns without NULL
        p = plan(scenario, ctxs, columns, view, normalize_sets=not scan.sets_normalized,
                 not_null=_not_null(con, [c for c in columns if c in _TESTED], view), form="case")
    return p, scan.rows


_TESTED = frozenset({"recipient", "program", "channel", "category", "amount"})


def _literal(value: str) -> str:
    return generate(lit(value), "duckdb")


def create_tables(con: Any, p: Plan) -> None:
    """Create the plan's small tables on a DuckDB connection, TEXT columns as ENUMs.

    An ENUM column is dictionary-encoded from the decision table to the Parquet
    writer: no string is built, hashed or copied per row.
    """
    for t in p.tables:
        defs, columns = [], []
        for i, (name, kind) in enumerate(zip(t.columns, t.types)):
            values = sorted({r[i] for r in t.rows if r[i] is not None}) if kind == "TEXT" else []
            plain = {"INT": "INTEGER", "DATE": "DATE"}.get(kind, "VARCHAR")
            sql_type = "ENUM(" + ", ".join(_literal(v) for v in values) + ")" if values else plain
            defs.append(f"{generate(exp.to_identifier(name, quoted=True), 'duckdb')} {sql_type}")
            columns.append(f"unnest(CAST(${i + 1} AS {plain}[]))")
        table = generate(exp.to_identifier(t.name, quoted=True), "duckdb")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} ({', '.join(defs)})")
        if t.rows:  # the columns as list parameters, zipped by unnest: no SQL text per row
            con.execute(f"INSERT INTO {table} SELECT {', '.join(columns)}", [list(c) for c in zip(*t.rows)])


def _summary_of(con: Any, p: Plan, inline: bool) -> list[SummaryRow]:
    return [_summary_row(r) for r in con.execute(p.summary_sql("duckdb", inline=inline)).fetchall()]


def _copy(query: str, path: Path, options: str = "") -> str:
    return f"COPY ({query}) TO {_literal(str(path))} (FORMAT parquet{options})"


LAYOUTS = ("wide", "narrow")


def bulk(scenario: Scenario, items: str | os.PathLike[str], out: str | os.PathLike[str], dates: Sequence[dt.date],
         options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
         progress: Progress | None = None, threads: int | None = None, memory_limit: str | None = None,
         layout: str | None = None, form: str = "auto", by: str | None = None) -> BulkResult:
    """Evaluate every item of ``items`` under every option at every date with DuckDB; write ``out`` (Parquet).

    ``options`` are regime or timeline names (``None``: each recipient's
    timeline of record).  The ``wide`` layout (``out`` a ``.parquet`` file) holds
    every input column plus option, as_of, outcome, rules and missing_facts; the
    ``narrow`` layout (``out`` a folder; :func:`write_narrow`) holds one small row
    per item and (option, date) pair, and the input once.  ``layout`` defaults to
    what ``out`` names.  The summary is computed before anything is written, and
    the output appears only when complete.

    ``by``: also total by this attribute (``groups``, as ``compare --by`` does), in SQL.
    An optional declared attribute the items lack is a warning (``warnings``); a required one an error.
    """
    duckdb = _duckdb()
    started = time.perf_counter()
    src, dst = Path(items), Path(out)
    if by is not None:
        check_by(scenario, by)
    is_file = dst.suffix.lower() in (".parquet", ".pq")
    if dst.suffix and not is_file and not dst.is_dir():
        raise UsageError(f"--out `{dst}`: the output is Parquet",
                         help="name the output file `….parquet`, or a folder (no extension) for the narrow layout")
    layout = layout or ("wide" if is_file else "narrow")
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout `{layout}`", help="choose wide or narrow")
    if layout == "wide" and not is_file:
        raise UsageError(f"--out `{dst}`: the wide layout is one Parquet file",
                         help=f"name the output file `{dst.name}.parquet`, or write the narrow layout to a folder")
    if layout == "narrow" and is_file:
        raise UsageError(f"--out `{dst}`: the narrow layout is a folder",
                         help=f"name a folder, e.g. `{dst.with_suffix('')}`, or pass --wide for one file")
    if layout == "wide" and dst.is_dir():
        raise UsageError(f"--out `{dst}` is a folder", help="name a file, e.g. decisions.parquet")
    if layout == "narrow" and dst.exists() and not dst.is_dir():
        raise UsageError(f"--out `{dst}` is a file", help="name a folder for the narrow layout")
    con = duckdb.connect()
    tmp: Path | None = None
    try:
        # rows stream out in any order: keeping the input order buffers the whole output in memory
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar_print = false")  # DuckDB's own bar goes to stdout: ours is on stderr
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            con.execute("SET memory_limit = ?", [memory_limit])
        columns = _open_items(con, src, row_numbers=layout == "narrow")
        warnings = _check_columns(columns, src, scenario)
        keyed = columns + ((ROW,) if layout == "narrow" else ())
        p, rows = _duckdb_plan(con, scenario, keyed, dates, options, assume, ITEMS_VIEW, src, form)
        inline = p.form != "lookup"
        if not inline:
            create_tables(con, p)
        summary = _summary_of(con, p, inline)  # before writing: a value that cannot be read fails here
        groups: list[GroupRow] = []
        if by is not None:
            column = group_column(by, columns)
            decided = p.with_tables(p.select) if inline else p.select
            found = con.execute(generate(groups_select(decided, column), "duckdb")).fetchall()
            groups = group_rows(scenario, by, found, column is not None)
        total = rows * len(p.contexts)
        tmp = target = _temp_beside(dst, "" if layout == "narrow" else ".parquet")
        if layout == "narrow":
            sql = write_narrow(con, p, target, rows, progress)
            if dst.exists():
                old = _temp_beside(dst, ".old")
                os.replace(dst, old)
                os.replace(tmp, dst)
                _remove(old)
            else:
                os.replace(tmp, dst)
        else:
            sql = p.sql("duckdb", inline=inline)
            _run_with_progress(con, lambda: con.execute(_copy(sql, target)), progress, total)
            os.replace(tmp, dst)
        tmp = None
        return BulkResult(dst, total, rows, tuple(p.contexts), summary, time.perf_counter() - started, sql,
                          layout=layout, form=p.form, warnings=warnings, by=by, groups=groups)
    except duckdb.Error as exc:  # a value the engine could not read: located by reading the file again
        raise located(src, scenario, UsageError(
            f"`{src}`: {_first_line(exc)}",
            help="check the items file: amounts must be decimal numbers, ids and codes text")) from None
    except _BadItems as exc:
        raise located(src, scenario, exc) from None
    finally:
        if tmp is not None:
            _remove(tmp)
        con.close()


KEYED = "__t_keyed"
# hive-partitioned by pair; Parquet 2 pages (delta-encoded item numbers: a fifth of the size)
NARROW_OPTIONS = ", PARTITION_BY (pair), OVERWRITE_OR_IGNORE, PARQUET_VERSION V2"
CHUNK_ROWS = 24_000_000  # decisions per COPY of the narrow layout (a chunk of pairs)
NARROW_FILES = ("items.parquet", "pairs.parquet", "outcomes.parquet", "rules.parquet", "decisions", "view.sql")


def write_narrow(con: Any, p: Plan, folder: Path, rows: int, progress: Progress | None = None) -> str:
    """Write the narrow layout of ``p`` into ``folder`` (created); return the query of the decisions.

    * ``items.parquet``: ``item`` (the row's number in the input) and every input column, once;
    * ``pairs.parquet``: ``pair``, ``option``, ``as_of``, ``regimes``;
    * ``outcomes.parquet``: ``outcome`` (the code) and ``name``;
    * ``rules.parquet``: ``rules`` (the id), ``rule_ids`` and ``missing_facts`` (comma-separated);
    * ``decisions/pair=N/*.parquet`` (hive-partitioned by pair): ``item``, ``outcome``, ``rules``;
    * ``view.sql``: DuckDB views ``decisions`` (the narrow rows) and ``wide`` (the wide layout, rejoined),
      with paths relative to the folder.

    The items must be registered as the view ``__t_items`` with a ``__t_row`` column (:func:`_open_items`);
    a plan in the CASE form, or with caps (which decide over the rows), is first decided into a temporary
    table (slower, same layout).
    """
    folder.mkdir(parents=True, exist_ok=False)
    inputs = [c for c in p.columns if c != ROW]
    cols = ", ".join(generate(col(c), "duckdb") for c in inputs)
    con.execute(_copy(f'SELECT "{ROW}" AS "item", {cols} FROM "{ITEMS_VIEW}"', folder / "items.parquet"))
    pairs = ", ".join(f"({i}, {generate(lit(c.option), 'duckdb')}, DATE '{c.as_of.isoformat()}', "
                      f"{_literal(','.join(c.regimes))})" for i, c in enumerate(p.contexts))
    con.execute(_copy(f"SELECT CAST(col0 AS INTEGER) AS pair, CAST(col1 AS VARCHAR) AS option, col2 AS as_of, "
                      f"col3 AS regimes FROM (VALUES {pairs})", folder / "pairs.parquet"))
    outcomes = ", ".join(f"({o.rank}, {_literal(o.value)})" for o in OUTCOMES)
    con.execute(_copy(f"SELECT CAST(col0 AS UTINYINT) AS outcome, col1 AS name FROM (VALUES {outcomes})",
                      folder / "outcomes.parquet"))
    total = rows * len(p.contexts)
    if p.form == "lookup" and not p.capped:
        assert p.lookup is not None and p.keyed is not None
        decisions = p.lookup.decisions()
        # the key once per item, then each chunk of pairs a join of small integers (and a moving progress bar)
        keyed = generate(p.keyed, "duckdb")
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{KEYED}" AS SELECT "{ROW}", "__t_key" FROM ({keyed})')
        step = max(1, CHUNK_ROWS // max(rows, 1))
        chunks = [range(i, min(i + step, len(p.contexts))) for i in range(0, len(p.contexts), step)]
        queries = [generate(p.narrow(ROW, exp.to_table(KEYED).as_("d"), c), "duckdb") for c in chunks]
    else:
        decisions, narrow = _case_narrow(con, p)
        chunks, queries = [range(len(p.contexts))], [narrow]
    dictionary = ", ".join(f"({i}, {_literal(r)}, {_literal(m)})" for i, (r, m) in enumerate(decisions))
    rule_rows = (f"SELECT CAST(col0 AS INTEGER) AS rules, col1 AS rule_ids, col2 AS missing_facts "
                 f"FROM (VALUES {dictionary})") if decisions else \
        "SELECT CAST(NULL AS INTEGER) AS rules, '' AS rule_ids, '' AS missing_facts WHERE false"
    con.execute(_copy(rule_rows, folder / "rules.parquet"))
    done = 0
    item_type = "INTEGER" if rows < 2**31 else "BIGINT"
    for chunk, narrow in zip(chunks, queries):
        query = (f'SELECT CAST("item" AS {item_type}) AS "item", CAST("outcome" AS UTINYINT) AS "outcome", '
                 f'CAST("rules" AS INTEGER) AS "rules", CAST("pair" AS INTEGER) AS "pair" FROM ({narrow})')
        part = rows * len(chunk)

        def tick(what: str, n: int, _: int | None, before: int = done) -> None:
            if progress is not None:
                progress(what, before + n, total)

        _run_with_progress(con, lambda: con.execute(_copy(query, folder / "decisions", NARROW_OPTIONS)),
                           tick if progress is not None else None, part)
        done += part
    (folder / "view.sql").write_text(narrow_views(".", inputs))
    return "\n;\n".join(queries)


def narrow_views(folder: str, columns: Sequence[str]) -> str:
    """DuckDB views over a narrow layout in ``folder``: ``decisions`` (narrow) and ``wide`` (rejoined)."""
    def path(name: str) -> str:
        return _literal(f"{folder.rstrip('/')}/{name}")

    cols = ", ".join(generate(col(c, "i"), "duckdb") for c in columns)
    return (f"CREATE OR REPLACE VIEW decisions AS SELECT * FROM read_parquet({path('decisions/*/*.parquet')}, "
            "hive_partitioning = true, hive_types = {'pair': INTEGER});\n"
            f"CREATE OR REPLACE VIEW wide AS SELECT {cols}, p.option, p.as_of, o.name AS outcome, "
            "r.rule_ids AS rules, r.missing_facts\n"
            f"  FROM decisions AS d JOIN read_parquet({path('items.parquet')}) AS i ON i.item = d.item\n"
            f"  JOIN read_parquet({path('pairs.parquet')}) AS p ON p.pair = d.pair\n"
            f"  LEFT JOIN read_parquet({path('outcomes.parquet')}) AS o ON o.outcome = d.outcome\n"
            f"  LEFT JOIN read_parquet({path('rules.parquet')}) AS r ON r.rules = d.rules;\n")


def _case_narrow(con: Any, p: Plan) -> tuple[list[tuple[str, str]], str]:
    """The CASE form's decided rows in a temporary table, and the narrow query over it."""
    sql = p.sql("duckdb")
    con.execute(f'CREATE TEMP TABLE "__t_decided" AS SELECT "{ROW}", option, as_of, outcome, rules, missing_facts '
                f"FROM ({sql})")
    found = con.execute('SELECT DISTINCT rules, missing_facts FROM "__t_decided" WHERE outcome IS NOT NULL '
                        "ORDER BY ALL").fetchall()
    decisions = [(str(r), str(m)) for r, m in found]
    ranks = " ".join(f"WHEN {_literal(o.value)} THEN {o.rank}" for o in OUTCOMES)
    keys = ", ".join(f"({i}, {generate(lit(c.option), 'duckdb')}, DATE '{c.as_of.isoformat()}')"
                     for i, c in enumerate(p.contexts))
    rules = ", ".join(f"({i}, {_literal(r)}, {_literal(m)})" for i, (r, m) in enumerate(decisions)) or "(NULL, '', '')"
    narrow = (f'SELECT d."{ROW}" AS item, c.col0 AS pair, CASE d.outcome {ranks} END AS outcome, r.col0 AS rules '
              f'FROM "__t_decided" d JOIN (VALUES {keys}) c ON c.col1 IS NOT DISTINCT FROM d.option '
              f"AND c.col2 = d.as_of LEFT JOIN (VALUES {rules}) r ON r.col1 = d.rules AND r.col2 = d.missing_facts")
    return decisions, narrow



def _check_columns(columns: Sequence[str], where: object, scenario: Scenario | None = None) -> tuple[Diagnostic, ...]:
    """Refuse items without a required column (the builtin ones, required declared attributes); return warnings."""
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        names = ", ".join(f"`{c}`" for c in missing)
        raise UsageError(f"`{where}` lacks the column{'s' if len(missing) > 1 else ''} {names}",
                         help="the items need the columns " + ", ".join(REQUIRED_COLUMNS)
                         + " (and optionally flags); found: " + ", ".join(columns))
    if scenario is None:
        return ()
    # an attribute the scenario declares `required: true` must be there: without it every rule on it
    # would silently not match, and the decisions would differ from `compare` on the same items
    absent = [n for n, a in scenario.attributes.items() if not a.builtin and n not in columns]
    required = [n for n in absent if scenario.attributes[n].required]
    if required:
        names = ", ".join(f"`{c}`" for c in required)
        raise UsageError(f"`{where}` lacks the column{'s' if len(required) > 1 else ''} {names}, which scenario "
                         f"`{scenario.id}` declares required", help="add the column to the items file")
    # an optional one may be left out: the items are then decided as `compare` decides items without it
    # (a missing value: the missing-value rules of `predicate_holds`); said once, as a warning, where a
    # condition of the scenario tests it (an untested one, e.g. a stage date no rule names, changes nothing)
    tested = scenario.tested_attributes()
    absent = [n for n in absent if n in tested]
    return tuple(Diagnostic("missing-attribute", f"`{where}` lacks the column `{n}` (optional in scenario "
                            f"`{scenario.id}`): every item is decided as if its `{n}` were missing",
                            Span(str(where)), f"add a `{n}` column to decide on it", "warning") for n in absent)


def _run_with_progress(con: Any, job: Callable[[], Any], progress: Progress | None, total: int) -> Any:
    """Run ``job`` on ``con``; report DuckDB's query progress (of ``total`` decisions) from this thread."""
    if progress is None:
        return job()
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    result: list[Any] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(job())
        except BaseException as exc:  # re-raised in the calling thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="tranche-bulk", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
        with contextlib.suppress(Exception):
            done = con.query_progress()
            if done is not None and done >= 0:
                progress("decisions", int(min(float(done) / 100.0, 1.0) * total), total)
    if failure:
        raise failure[0]
    progress("decisions", total, total)
    return result[0] if result else None


# ---------------------------------------------------------------------------------------------------------
# Spark


_SPARK_LOCK = threading.Lock()


def spark_session(master: str | None = None) -> Any:
    """The active SparkSession, or a new one: on ``master``, else ``$TRANCHE_SPARK_MASTER``, else where
    ``spark-submit`` says (its ``--master`` and ``--conf``), else ``local[*]``.

    ``master`` is a Spark master URL (``local[4]``, ``spark://host:7077``, ``yarn``,
    ``k8s://...``), or a Spark Connect URL (``sc://host:15002``) for a remote session.  A local
    session gets settings for one machine (no UI, 4 shuffle partitions); a cluster keeps its own.
    """
    try:
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the spark engine needs PySpark",
                         help="install it with `pip install 'tranche[spark]'` (and a Java runtime)") from None
    with _SPARK_LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        url = master or os.environ.get("TRANCHE_SPARK_MASTER")
        if url is not None and url.startswith("sc://"):
            try:
                return SparkSession.builder.remote(url).appName("tranche bulk").getOrCreate()
            except ImportError as exc:  # the Spark Connect client's own dependencies (grpc, pandas, pyarrow)
                raise UsageError(f"--master {url}: Spark Connect needs more than PySpark: {_first_line(exc)}",
                                 help="install them with `pip install 'tranche[spark-connect]'`") from None
        builder = SparkSession.builder.appName("tranche bulk").config("spark.sql.session.timeZone", "UTC")
        if url is not None:
            builder = builder.master(url)
        if url is None:  # the JVM started (as getOrCreate would): under spark-submit it holds its --master
            SparkContext._ensure_initialized()
        where = url or SparkConf().get("spark.master", "local[*]") or "local[*]"
        if where.startswith("local"):
            builder = builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
        return builder.getOrCreate()


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # hdfs://, s3a://, abfss://, file://: read by Spark itself


def _spark_items(spark: Any, items: str) -> Any:
    """The items as a Spark DataFrame: a Parquet file or folder (of part files), or a CSV file read like DuckDB
    reads it (header; `"` quotes, doubled inside quoted values; a malformed row fails the read)."""
    suffix = Path(items).suffix.lower()
    if _URL.match(items):
        kind = "csv" if suffix in (".csv", ".tsv", ".txt") else "parquet"
    else:
        path = Path(items)
        if not path.exists():
            raise UsageError(f"`{path}`: no such file", help="check the path given to --items")
        kind = "parquet" if path.is_dir() else file_kind(path)
    if kind == "parquet":
        return spark.read.parquet(items)
    reader = spark.read.option("header", "true").option("escape", '"').option("mode", "FAILFAST")
    return reader.option("sep", "\t" if suffix == ".tsv" else ",").csv(items)


def bulk_spark(scenario: Scenario, items: str | os.PathLike[str], out: str | os.PathLike[str],
               dates: Sequence[dt.date], options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
               spark: Any = None, progress: Progress | None = None, master: str | None = None,
               form: str = "auto", by: str | None = None) -> BulkResult:
    """Like :func:`bulk`, through Spark SQL; ``out`` is written as a Parquet folder (Spark's form).

    ``master``: where Spark runs (:func:`spark_session`); the compiled query is the
    one ``tranche sql --dialect spark`` prints, its small tables inline.  ``by``: also
    total by this attribute, in Spark SQL over the written decisions.
    """
    started = time.perf_counter()
    if by is not None:
        check_by(scenario, by)
    session = spark or spark_session(master)
    src, dst = os.fspath(items), os.fspath(out)
    remote = bool(_URL.match(dst))  # written where Spark writes it, in place: no local rename
    tmp = dst if remote else str(_temp_beside(Path(dst), ".parquet"))
    try:
        frame = _spark_items(session, src)
        columns = tuple(frame.columns)
        warnings = _check_columns(columns, src, scenario)
        view = f"tranche_items_{os.getpid()}_{threading.get_ident()}"
        frame.createOrReplaceTempView(view)
        # one pass (one Spark job) for the row count, each set column's distinct values and the recipients
        sets = _set_columns(scenario, columns)
        terms: list[exp.Expr] = [exp.Count(this=exp.Star())]
        terms += [exp.Anonymous(this="collect_set", expressions=[col(c)]) for c in sets]
        terms += [exp.Anonymous(this="collect_set", expressions=[col("recipient")])] if None in options else []
        scanned = tuple(session.sql(generate(exp.select(*terms).from_(view), "spark")).collect()[0])
        check_sets(scenario, columns, lambda c: scanned[1 + sets.index(c)] or (), src)
        recipients = sorted(r for r in scanned[-1] or () if r is not None) if None in options else []
        ctxs = contexts(scenario, dates, options, assume, recipients)
        p = plan(scenario, ctxs, columns, exp.to_table(view), form=form)
        sql = p.sql("spark")
        total = int(scanned[0]) * len(ctxs)
        if progress:
            progress("decisions", 0, total)
        session.sql(sql).write.mode("overwrite").parquet(tmp)
        if progress:
            progress("decisions", total, total)
        if not remote:
            if Path(dst).exists():
                _remove(Path(dst))
            os.replace(tmp, dst)
        written = session.read.parquet(dst)
        written.createOrReplaceTempView(view + "_out")
        summary_q = _summary_query(exp.to_table(view + "_out"))
        summary = [_summary_row(tuple(r)) for r in session.sql(generate(summary_q, "spark")).collect()]
        groups: list[GroupRow] = []
        if by is not None:
            column = group_column(by, columns)
            grouped = groups_select(exp.select(exp.Star()).from_(view + "_out"), column)
            groups = group_rows(scenario, by, [tuple(r) for r in session.sql(generate(grouped, "spark")).collect()],
                                column is not None)
        return BulkResult(Path(dst), sum(r.items for r in summary), total // len(ctxs), tuple(ctxs), summary,
                          time.perf_counter() - started, sql, form=p.form, warnings=warnings, by=by, groups=groups)
    except TrancheError:
        raise
    except Exception as exc:  # py4j / pyspark errors: translated at the boundary (a local file located by DuckDB)
        fallback = UsageError(f"`{src}`: spark failed: {_first_line(exc)}")
        raise (fallback if _URL.match(src) else located(src, scenario, fallback)) from None
    finally:
        if not remote:
            _remove(Path(tmp))


def _summary_query(source: exp.Expr) -> exp.Select:
    total = exp.Sum(this=exp.Cast(this=col("amount"), to=exp.DataType.build(AMOUNT_TYPE)))
    keys = [col("option"), col("as_of"), col("program"), col("outcome")]
    return exp.select(*keys, exp.alias_(total, "amount", quoted=True),
                      exp.alias_(exp.Count(this=exp.Star()), "items", quoted=True)) \
        .from_(source).group_by(*keys).order_by(*keys)


# ---------------------------------------------------------------------------------------------------------
# SQLite and PostgreSQL: a table of items in the database


class _DB:
    """A DB-API connection or a SQLAlchemy engine/connection, behind one small interface."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self._owned: Any = None
        module = type(handle).__module__
        if hasattr(handle, "exec_driver_sql"):  # SQLAlchemy Connection
            self.dialect = handle.dialect.name
            self.kind = "sqlalchemy"
        elif hasattr(handle, "dialect") and hasattr(handle, "connect"):  # SQLAlchemy Engine
            self.dialect = handle.dialect.name
            self._owned = handle.connect()
            self.handle = self._owned
            self.kind = "sqlalchemy"
        elif module.startswith("sqlite3"):
            self.dialect, self.kind = "sqlite", "dbapi"
        elif module.startswith("psycopg"):
            self.dialect, self.kind = "postgres", "dbapi"
        else:
            raise UsageError(f"cannot evaluate in a `{type(handle).__name__}` connection",
                             help="pass a sqlite3 or psycopg connection, or a SQLAlchemy engine or connection")
        self.dialect = {"postgresql": "postgres"}.get(self.dialect, self.dialect)
        if self.dialect not in ("sqlite", "postgres"):
            raise UsageError(f"in-database evaluation supports sqlite and postgres, not `{self.dialect}`")

    def rows(self, sql: str) -> tuple[list[str], Iterator[Sequence[Any]]]:
        if self.kind == "sqlalchemy":
            result = self.handle.exec_driver_sql(sql)
            return list(result.keys()), iter(result)
        cur = self.handle.cursor()
        cur.execute(sql)
        names = [d[0] for d in cur.description or ()]

        def fetch() -> Iterator[Sequence[Any]]:
            try:
                while True:
                    batch = cur.fetchmany(10_000)
                    if not batch:
                        return
                    yield from batch
            finally:
                cur.close()

        return names, fetch()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


def _db_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    errors: list[type[BaseException]] = [sqlite3.Error]
    with contextlib.suppress(ImportError):
        import psycopg

        errors.append(psycopg.Error)
    with contextlib.suppress(ImportError):
        import sqlalchemy.exc

        errors.append(sqlalchemy.exc.SQLAlchemyError)
    return tuple(errors)


def _table_columns(db: _DB, table: exp.Table) -> tuple[str, ...]:
    probe = exp.select(exp.Star()).from_(table).where(exp.false()).limit(0)
    names, rows = db.rows(generate(probe, db.dialect))
    for _ in rows:
        pass
    return tuple(names)


def _db_plan(db: _DB, table: str, scenario: Scenario, dates: Sequence[dt.date], options: Sequence[str | None],
             assume: Iterable[str], form: str = "auto") -> Plan:
    tbl = exp.to_table(table)
    columns = _table_columns(db, tbl)
    _check_columns(columns, table, scenario)

    def distinct(column: str) -> Iterable[Any]:
        return [r[0] for r in db.rows(generate(exp.select(col(column)).distinct().from_(tbl), db.dialect))[1]]

    check_sets(scenario, columns, distinct, table)
    recipients: list[str] = []
    if None in options:
        q = exp.select(col("recipient")).distinct().from_(tbl).where(
            exp.Not(this=exp.Is(this=col("recipient"), expression=exp.Null())))
        recipients = [r[0] for r in db.rows(generate(q, db.dialect))[1]]
    ctxs = contexts(scenario, dates, options, assume, recipients)
    return plan(scenario, ctxs, columns, tbl, amount_sum=target(db.dialect).amount_sum, form=form)


def decisions_in_db(connection: Any, table: str, scenario: Scenario, as_of: dt.date | Sequence[dt.date],
                    options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
                    form: str = "auto") -> Iterator[dict[str, Any]]:
    """Every item of ``table`` decided inside the database, one dict per (item, option, date), streamed.

    ``form``: the plan's form (:func:`tranche.compiler.plan.plan`): ``auto``, ``lookup`` or ``case``.
    """
    db = _DB(connection)
    dates = [as_of] if isinstance(as_of, dt.date) else list(as_of)
    try:
        p = _db_plan(db, table, scenario, dates, options, assume, form)
        names, rows = db.rows(p.sql(db.dialect))
        for r in rows:
            row = dict(zip(names, r))
            if not isinstance(row["as_of"], dt.date):
                row["as_of"] = dt.date.fromisoformat(str(row["as_of"]))
            yield row
    except _db_errors() as exc:
        raise UsageError(f"evaluating `{table}` in {db.dialect} failed: {_first_line(exc)}") from None
    finally:
        db.close()


def summarize_in_db(connection: Any, table: str, scenario: Scenario, as_of: dt.date | Sequence[dt.date],
                    options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
                    form: str = "auto") -> list[SummaryRow]:
    """Per option, date, program and outcome: the exact amount (``Decimal``) and the number of items.

    The items never leave the database: the compiled decision runs in SQL and
    only the grouped sums come back.
    """
    db = _DB(connection)
    dates = [as_of] if isinstance(as_of, dt.date) else list(as_of)
    try:
        p = _db_plan(db, table, scenario, dates, options, assume, form)
        scale = target(db.dialect).amount_scale
        _, rows = db.rows(p.summary_sql(db.dialect))
        out = [_summary_row(r, scale) for r in rows]
        order = {o.value: i for i, o in enumerate(OUTCOMES)}
        return sorted(out, key=lambda s: (s.option or "", s.as_of, s.program or "", order.get(s.outcome, 9)))
    except _db_errors() as exc:
        raise UsageError(f"summarising `{table}` in {db.dialect} failed: {_first_line(exc)}") from None
    finally:
        db.close()


def group_in_db(connection: Any, table: str, scenario: Scenario, as_of: dt.date | Sequence[dt.date], by: str,
                options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
                form: str = "auto") -> list[GroupRow]:
    """Per option, date, value of the attribute ``by`` and outcome: the exact amount and the number of items.

    The grouping of ``compare --by``, computed inside the database: only the grouped sums come back.
    """
    check_by(scenario, by)
    db = _DB(connection)
    dates = [as_of] if isinstance(as_of, dt.date) else list(as_of)
    try:
        p = _db_plan(db, table, scenario, dates, options, assume, form)
        column = group_column(by, p.columns)
        query = groups_select(p.with_tables(p.select), column, target(db.dialect).amount_sum)
        _, rows = db.rows(generate(query, db.dialect))
        return group_rows(scenario, by, list(rows), column is not None, target(db.dialect).amount_scale)
    except _db_errors() as exc:
        raise UsageError(f"summarising `{table}` by `{by}` in {db.dialect} failed: {_first_line(exc)}") from None
    finally:
        db.close()
