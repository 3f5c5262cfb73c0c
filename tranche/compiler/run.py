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
import tempfile
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlglot import exp

from ..errors import TrancheError, UsageError
from ..language.scenario import OUTCOMES, Scenario
from ..language.values import ValueProblem, parse_set
from .dialects import generate, target
from .plan import AMOUNT_TYPE, REQUIRED_COLUMNS, Context, Plan, col, contexts, lit, plan

__all__ = [
    "SummaryRow",
    "BulkResult",
    "Progress",
    "bulk",
    "check_sets",
    "bulk_spark",
    "duckdb_plan",
    "decisions_in_db",
    "summarize_in_db",
    "dates_between",
]

ITEMS_VIEW = "__t_items"
Progress = Callable[[float], None]
"""Called with the share done (0.0 .. 1.0) while a query runs."""


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


def _file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise UsageError(f"`{path}`: unknown file type `{suffix or '(none)'}`",
                     help="give a .parquet or .csv file of line items")


def _open_items(con: Any, path: Path) -> tuple[str, ...]:
    """Register ``path`` as the view of items; return its columns."""
    duckdb = _duckdb()
    if not path.exists():
        raise UsageError(f"`{path}`: no such file", help="check the path given to --items")
    if path.is_dir():
        raise UsageError(f"`{path}` is a folder, not a file of items")
    kind = _file_kind(path)
    try:
        if kind == "parquet":
            rel = con.read_parquet(str(path))
        else:
            head = con.read_csv(str(path), header=True, all_varchar=True).columns
            types = {c: "VARCHAR" for c in ("id", "recipient", "program", "channel", "category", "flags",
                                            "description") if c in head}
            if "amount" in head:
                types["amount"] = AMOUNT_TYPE.replace(" ", "")
            rel = con.read_csv(str(path), header=True, dtype=types)
        rel.create_view(ITEMS_VIEW, replace=True)
        return tuple(rel.columns)
    except duckdb.Error as exc:
        raise UsageError(f"`{path}` cannot be read as {kind}: {_first_line(exc)}",
                         help="check that the file is a valid " + kind + " file of line items") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _recipients_duckdb(con: Any, view: str = ITEMS_VIEW) -> list[str]:
    query = exp.select(col("recipient")).distinct().from_(view).where(
        exp.Not(this=exp.Is(this=col("recipient"), expression=exp.Null())))
    return [r[0] for r in con.execute(generate(query, "duckdb")).fetchall()]


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


def _distinct_duckdb(con: Any, view: str = ITEMS_VIEW) -> Callable[[str], Iterable[Any]]:
    def distinct(column: str) -> Iterable[Any]:
        query = exp.select(exp.Cast(this=col(column), to=exp.DataType.build("TEXT"))).distinct().from_(view)
        return [r[0] for r in con.execute(generate(query, "duckdb")).fetchall()]
    return distinct


def _sets_need_normalizing(con: Any, scenario: Scenario, columns: Sequence[str], view: str = ITEMS_VIEW) -> bool:
    """Whether any set-valued column (flags) holds a NULL or a space, which the compiled test must then handle."""
    tests: list[exp.Expr] = []
    for c in _set_columns(scenario, columns):
        tests.append(exp.Is(this=col(c), expression=exp.Null()))
        tests.append(exp.GT(this=exp.StrPosition(this=exp.Cast(this=col(c), to=exp.DataType.build("TEXT")),
                                                 substr=lit(" ")), expression=exp.Literal.number(0)))
    if not tests:
        return False
    cond: exp.Expr = tests[0]
    for t in tests[1:]:
        cond = exp.Or(this=cond, expression=t)
    query = exp.select(exp.Literal.number(1)).from_(view).where(cond).limit(1)
    return bool(con.execute(generate(query, "duckdb")).fetchall())


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


def _summary_from(con: Any, source: exp.Expr) -> list[SummaryRow]:
    return [_summary_row(r) for r in con.execute(generate(_summary_query(source), "duckdb")).fetchall()]


def _parquet(path: Path) -> exp.Expr:
    return exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[lit(str(path))]))


def _summary_row(r: Sequence[Any], scale: int = 0) -> SummaryRow:
    amount = Decimal(0) if r[4] is None else Decimal(str(r[4]))
    if scale:
        amount = amount.scaleb(-scale)
    day = r[1] if isinstance(r[1], dt.date) else dt.date.fromisoformat(str(r[1]))
    return SummaryRow(r[0], day, r[2], str(r[3]), amount.quantize(Decimal("0.01")), int(r[5]))


def duckdb_plan(con: Any, scenario: Scenario, columns: Sequence[str], dates: Sequence[dt.date],
                options: Sequence[str | None] = (None,), assume: Iterable[str] = (), view: str = ITEMS_VIEW,
                where: object = None) -> Plan:
    """The plan for the items registered as ``view`` on ``con``, informed by cheap scans of the file.

    The scans (Parquet statistics, mostly) find the recipients (for the timelines of
    record), the columns without NULL and whether the flags need their spaces
    removed; the compiled query then skips the corresponding per-row work.
    """
    check_sets(scenario, columns, _distinct_duckdb(con, view), where if where is not None else view)
    recipients = _recipients_duckdb(con, view) if None in options else []
    ctxs = contexts(scenario, dates, options, assume, recipients)
    return plan(scenario, ctxs, columns, view, normalize_sets=_sets_need_normalizing(con, scenario, columns, view),
                not_null=_not_null(con, columns, view))


def bulk(scenario: Scenario, items: str | os.PathLike[str], out: str | os.PathLike[str], dates: Sequence[dt.date],
         options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
         progress: Progress | None = None, threads: int | None = None, memory_limit: str | None = None) -> BulkResult:
    """Evaluate every item of ``items`` under every option at every date with DuckDB; write ``out`` (Parquet).

    ``options`` are regime or timeline names (``None``: each recipient's
    timeline of record).  The output holds every input column plus option,
    as_of, outcome, rules and missing_facts.
    """
    duckdb = _duckdb()
    started = time.perf_counter()
    src, dst = Path(items), Path(out)
    if dst.suffix.lower() not in (".parquet", ".pq"):
        raise UsageError(f"--out `{dst}`: the output is Parquet", help="name the output file `….parquet`")
    if dst.is_dir():
        raise UsageError(f"--out `{dst}` is a folder", help="name a file, e.g. decisions.parquet")
    con = duckdb.connect()
    tmp: Path | None = None
    try:
        # rows stream out in any order: keeping the input order buffers the whole output in memory
        con.execute("SET preserve_insertion_order = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            con.execute("SET memory_limit = ?", [memory_limit])
        columns = _open_items(con, src)
        _check_columns(columns, src, scenario)
        p = duckdb_plan(con, scenario, columns, dates, options, assume, where=src)
        ctxs = list(p.contexts)
        sql = p.sql("duckdb")
        tmp = _temp_beside(dst, ".parquet")
        _run_with_progress(con, lambda: con.sql(sql).to_parquet(str(tmp)), progress)
        os.replace(tmp, dst)
        tmp = None
        summary = _summary_from(con, _parquet(dst))
        rows = sum(r.items for r in summary)
        return BulkResult(dst, rows, rows // len(ctxs), tuple(ctxs), summary, time.perf_counter() - started, sql)
    except duckdb.Error as exc:
        raise UsageError(f"`{src}`: {_first_line(exc)}",
                         help="check the items file: amounts must be decimal numbers, ids and codes text") from None
    finally:
        if tmp is not None:
            _remove(tmp)
        con.close()


def _check_columns(columns: Sequence[str], where: object, scenario: Scenario | None = None) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        names = ", ".join(f"`{c}`" for c in missing)
        raise UsageError(f"`{where}` lacks the column{'s' if len(missing) > 1 else ''} {names}",
                         help="the items need the columns " + ", ".join(REQUIRED_COLUMNS)
                         + " (and optionally flags); found: " + ", ".join(columns))
    if scenario is None:
        return
    # an attribute the scenario declares `required: true` must be there: without it every rule on it
    # would silently not match, and the decisions would differ from `compare` on the same items
    absent = [name for name, a in scenario.attributes.items()
              if a.required and not a.builtin and name not in columns]
    if absent:
        names = ", ".join(f"`{c}`" for c in absent)
        raise UsageError(f"`{where}` lacks the column{'s' if len(absent) > 1 else ''} {names}, which scenario "
                         f"`{scenario.id}` declares required", help="add the column to the items file")


def _run_with_progress(con: Any, job: Callable[[], Any], progress: Progress | None) -> Any:
    """Run ``job`` on ``con``; report DuckDB's query progress from this thread while it runs."""
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
                progress(min(float(done) / 100.0, 1.0))
    if failure:
        raise failure[0]
    progress(1.0)
    return result[0] if result else None


# ---------------------------------------------------------------------------------------------------------
# Spark


_SPARK_LOCK = threading.Lock()


def spark_session(master: str | None = None) -> Any:
    """The active SparkSession, or a new one (``master``, else ``$TRANCHE_SPARK_MASTER``, else ``local[*]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the spark engine needs PySpark",
                         help="install it with `pip install 'tranche[spark]'` (and a Java runtime)") from None
    with _SPARK_LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        builder = SparkSession.builder.appName("tranche bulk") \
            .master(master or os.environ.get("TRANCHE_SPARK_MASTER", "local[*]")) \
            .config("spark.ui.enabled", "false") \
            .config("spark.sql.session.timeZone", "UTC") \
            .config("spark.sql.shuffle.partitions", "4")
        return builder.getOrCreate()


def _spark_items(spark: Any, path: Path) -> Any:
    if not path.exists():
        raise UsageError(f"`{path}`: no such file", help="check the path given to --items")
    kind = _file_kind(path)
    if kind == "parquet":
        return spark.read.parquet(str(path))
    return spark.read.option("header", "true").csv(str(path))


def bulk_spark(scenario: Scenario, items: str | os.PathLike[str], out: str | os.PathLike[str],
               dates: Sequence[dt.date], options: Sequence[str | None] = (None,), assume: Iterable[str] = (), *,
               spark: Any = None, progress: Progress | None = None) -> BulkResult:
    """Like :func:`bulk`, through Spark SQL; ``out`` is written as a Parquet folder (Spark's form)."""
    started = time.perf_counter()
    session = spark or spark_session()
    src, dst = Path(items), Path(out)
    tmp = _temp_beside(dst, ".parquet")
    try:
        frame = _spark_items(session, src)
        columns = tuple(frame.columns)
        _check_columns(columns, src, scenario)
        check_sets(scenario, columns, lambda c: [r[0] for r in frame.select(c).distinct().collect()], src)
        view = f"tranche_items_{os.getpid()}_{threading.get_ident()}"
        frame.createOrReplaceTempView(view)
        recipients: list[str] = []
        if None in options:
            recipients = [r[0] for r in frame.select("recipient").distinct().collect() if r[0] is not None]
        ctxs = contexts(scenario, dates, options, assume, recipients)
        p = plan(scenario, ctxs, columns, exp.to_table(view))
        sql = p.sql("spark")
        if progress:
            progress(0.05)
        session.sql(sql).write.mode("overwrite").parquet(str(tmp))
        if progress:
            progress(0.9)
        if dst.exists():
            _remove(dst)
        os.replace(tmp, dst)
        written = session.read.parquet(str(dst))
        written.createOrReplaceTempView(view + "_out")
        summary_q = _summary_query(exp.to_table(view + "_out"))
        summary = [_summary_row(tuple(r)) for r in session.sql(generate(summary_q, "spark")).collect()]
        if progress:
            progress(1.0)
        return BulkResult(dst, sum(r.items for r in summary), int(frame.count()), tuple(ctxs), summary,
                          time.perf_counter() - started, sql)
    except TrancheError:
        raise
    except Exception as exc:  # py4j / pyspark errors: translated at the boundary
        raise UsageError(f"`{src}`: spark failed: {_first_line(exc)}") from None
    finally:
        _remove(tmp)


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
             assume: Iterable[str]) -> Plan:
    tbl = exp.to_table(table)
    columns = _table_columns(db, tbl)
    _check_columns(columns, table)

    def distinct(column: str) -> Iterable[Any]:
        return [r[0] for r in db.rows(generate(exp.select(col(column)).distinct().from_(tbl), db.dialect))[1]]

    check_sets(scenario, columns, distinct, table)
    recipients: list[str] = []
    if None in options:
        q = exp.select(col("recipient")).distinct().from_(tbl).where(
            exp.Not(this=exp.Is(this=col("recipient"), expression=exp.Null())))
        recipients = [r[0] for r in db.rows(generate(q, db.dialect))[1]]
    ctxs = contexts(scenario, dates, options, assume, recipients)
    return plan(scenario, ctxs, columns, tbl, amount_sum=target(db.dialect).amount_sum)


def decisions_in_db(connection: Any, table: str, scenario: Scenario, as_of: dt.date | Sequence[dt.date],
                    options: Sequence[str | None] = (None,), assume: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
    """Every item of ``table`` decided inside the database, one dict per (item, option, date), streamed."""
    db = _DB(connection)
    dates = [as_of] if isinstance(as_of, dt.date) else list(as_of)
    try:
        p = _db_plan(db, table, scenario, dates, options, assume)
        names, rows = db.rows(generate(p.select, db.dialect))
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
                    options: Sequence[str | None] = (None,), assume: Iterable[str] = ()) -> list[SummaryRow]:
    """Per option, date, program and outcome: the exact amount (``Decimal``) and the number of items.

    The items never leave the database: the compiled decision runs in SQL and
    only the grouped sums come back.
    """
    db = _DB(connection)
    dates = [as_of] if isinstance(as_of, dt.date) else list(as_of)
    try:
        p = _db_plan(db, table, scenario, dates, options, assume)
        scale = target(db.dialect).amount_scale
        _, rows = db.rows(generate(p.summary, db.dialect))
        out = [_summary_row(r, scale) for r in rows]
        order = {o.value: i for i, o in enumerate(OUTCOMES)}
        return sorted(out, key=lambda s: (s.option or "", s.as_of, s.program or "", order.get(s.outcome, 9)))
    except _db_errors() as exc:
        raise UsageError(f"summarising `{table}` in {db.dialect} failed: {_first_line(exc)}") from None
    finally:
        db.close()
