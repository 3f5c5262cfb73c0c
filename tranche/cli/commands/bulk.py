"""`tranche bulk`: every line item of a file, under every option, at every date, compiled to SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional

import typer
from typing import TYPE_CHECKING

from ...errors import UsageError

if TYPE_CHECKING:
    from ...compiler.run import BulkResult
    from ...language import Scenario
from .. import progress, render
from .common import load, parse_date, split_list

ENGINES = ("duckdb", "spark")


def register(app: typer.Typer) -> None:
    app.command("bulk")(bulk)
    app.command("sql")(sql)


def sql(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="date of the decisions, YYYY-MM-DD (default: today)"),
    options: Optional[List[str]] = typer.Option(None, "--options", "-o", help="regimes or timelines, A,B,...; "
                                                "default: each recipient's timeline of record"),
    assume: Optional[List[str]] = typer.Option(None, "--assume", "-a",
                                               help="assume a fact holds (FACT or FACT@YYYY-MM-DD); repeatable"),
    dialect: str = typer.Option("duckdb", "--dialect", help="duckdb, sqlite, postgres or spark"),
    summary: bool = typer.Option(False, "--summary", help="the summary query (option, as_of, program, outcome, "
                                 "amount, items) instead of one row per item"),
) -> int:
    """Print the SQL that `bulk` runs: every item of a table `items` decided under each option (what dbt compile
    shows for a model)."""
    from ...compiler import contexts, plan
    from ...compiler.plan import REQUIRED_COLUMNS
    from ...language import STAGES

    s = load(scenario)
    day = parse_date(as_of) if as_of else dt.date.today()
    names: list[str | None] = list(split_list(options)) or [None]
    tested = s.tested_attributes()  # the scenario's own columns; a stage's where a rule tests it
    declared = tuple(name for name, a in s.attributes.items() if not a.builtin and (name not in STAGES or name in tested))
    compiled = plan(s, contexts(s, [day], names, split_list(assume)), REQUIRED_COLUMNS + ("flags",) + declared,
                    "items")
    text = compiled.summary_sql(dialect, pretty=True) if summary else compiled.sql(dialect, pretty=True)
    render.console.print(text, markup=False, highlight=False, soft_wrap=True)
    return 0


def bulk(
    scenario: str = typer.Argument(..., help="scenario folder, or the id of a stored scenario (--db)"),
    items: str = typer.Option(..., "--items", "-i", help="line items: a .parquet or .csv file with the columns "
                              "id, recipient, program, channel, category, amount, flags (comma-separated), and any others"),
    out: str = typer.Option(..., "--out", help="where to write the decisions: a .parquet file (wide: every input "
                            "column and the decision), or a folder (narrow: item, pair, outcome, rules ids, the "
                            "items once, dictionary tables and a view)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="date of the decisions, YYYY-MM-DD"),
    options: Optional[List[str]] = typer.Option(None, "--options", "-o", help="regimes or timelines, A,B,...; "
                                                "default: each recipient's timeline of record"),
    dates: Optional[List[str]] = typer.Option(None, "--dates", help="more dates, D1,D2,..."),
    every: Optional[str] = typer.Option(None, "--every", help="a date every period (7d, 2w) from --from to --to"),
    start: Optional[str] = typer.Option(None, "--from", help="first date of --every (default: --as-of)"),
    end: Optional[str] = typer.Option(None, "--to", help="last date of --every"),
    assume: Optional[List[str]] = typer.Option(None, "--assume", "-a",
                                               help="assume a fact holds (FACT or FACT@YYYY-MM-DD); repeatable"),
    wide: Optional[bool] = typer.Option(None, "--wide/--narrow", help="the layout (default: what --out names: a "
                                        ".parquet file is wide, a folder narrow)"),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (files on this machine) or spark (PySpark)"),
    master: Optional[str] = typer.Option(None, "--master", help="spark: where to run (local[4], spark://HOST:7077, "
                                         "yarn, k8s://..., or sc://HOST:15002 for Spark Connect); default "
                                         "$TRANCHE_SPARK_MASTER or local[*]"),
    by: Optional[str] = typer.Option(None, "--by", help="total by this attribute instead of the program (e.g. "
                                     "account, channel, flags): the grouping of `compare --by`, in SQL"),
    format: render.Format = typer.Option(render.Format.table, "--format", "-f", help="summary as table, json or csv"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar (it shows on a terminal, once the work has run half a second)"),
) -> int:
    """Decide every line item of a file under each option at each date; write Parquet and print a summary."""
    if engine not in ENGINES:
        raise UsageError(f"--engine: unknown engine `{engine}`", help="choose duckdb or spark")
    if master is not None and engine != "spark":
        raise UsageError("--master is for the spark engine", help="add --engine spark, or drop --master")
    days = _dates(as_of, split_list(dates), every, start, end)
    names: list[str | None] = list(split_list(options)) or [None]
    s = _load(scenario)
    facts = split_list(assume)
    layout = None if wide is None else ("wide" if wide else "narrow")
    if engine == "spark" and layout == "narrow":
        raise UsageError("the spark engine writes the wide layout", help="drop --narrow, or use --engine duckdb")
    with progress.bar(progress.shown(quiet)) as report:
        if engine == "spark":
            from ...compiler.run import bulk_spark

            result = bulk_spark(s, items, out, days, names, facts, progress=report, master=master, by=by)
        else:
            from ...compiler.run import bulk as bulk_duckdb

            result = bulk_duckdb(s, items, out, days, names, facts, progress=report, layout=layout, by=by)
    _warn(result)
    _print(result, format, len(days) > 1)
    return 0


def _load(scenario: str) -> Scenario:
    """A scenario folder read directly (without importing the store: bulk's start-up counts), else as everywhere."""
    from pathlib import Path

    if Path(scenario).is_dir():
        from ...errors import PolicyError
        from ...language import check

        result = check(Path(scenario))
        if not result.passed or result.scenario is None:
            raise PolicyError(result.errors(), f"`{scenario}` has {len(result.errors())} error(s); nothing was loaded")
        return result.scenario
    return load(scenario)


def _dates(as_of: str | None, dates: list[str], every: str | None, start: str | None, end: str | None) -> list[dt.date]:
    from ...compiler.run import dates_between

    out: set[dt.date] = set()
    if as_of:
        out.add(parse_date(as_of))
    out.update(parse_date(d, "--dates") for d in dates)
    if every is not None or end is not None or start is not None:
        if every is None or end is None or (start is None and as_of is None):
            raise UsageError("--every needs --from (or --as-of) and --to",
                             help="e.g. --every 7d --from 2001-01-01 --to 2001-12-31")
        first = parse_date(start, "--from") if start else parse_date(as_of or "", "--as-of")
        out.update(dates_between(first, parse_date(end, "--to"), every))
    if not out:
        raise UsageError("no date to decide at", help="pass --as-of DATE, --dates D1,D2 or --every 7d --from D --to D")
    return sorted(out)


def _warn(result: BulkResult) -> None:
    """Warnings on stderr, one line each (with --error-format json, one JSON document)."""
    if not result.warnings:
        return
    if render.state.error_format is render.ErrorFormat.json:
        render.print_diagnostics(result.warnings, render.state.error_format)
        return
    for w in result.warnings:
        render.err_console.print(render.escape(f"warning: {w.message}"), soft_wrap=True, highlight=False)


def _print(result: BulkResult, format: render.Format, by_date: bool) -> None:
    from ...language.scenario import OUTCOMES

    rows = result.summary
    by = result.by
    if format is render.Format.json:
        render.emit_json({"out": str(result.out), "layout": result.layout, "rows": result.rows, "items": result.items,
                          "seconds": round(result.seconds, 3),
                          "contexts": [{"option": c.option, "as_of": c.as_of.isoformat(), "regimes": list(c.regimes)}
                                       for c in result.contexts],
                          "summary": [r.to_dict() for r in rows],
                          "warnings": [w.to_dict() for w in result.warnings],
                          **({"by": by, "groups": [g.to_dict(by) for g in result.groups]} if by else {})})
        return
    if format is render.Format.csv:
        if by:
            render.emit_csv(["option", "as_of", by, "outcome", "items", "amount"],
                            [[g.option or "", g.as_of, g.value, g.outcome, g.items, f"{g.amount:.2f}"]
                             for g in result.groups])
            return
        render.emit_csv(["option", "as_of", "program", "outcome", "items", "amount"],
                        [[r.option or "", r.as_of, r.program or "", r.outcome, r.items, f"{r.amount:.2f}"] for r in rows])
        return
    layout = "" if result.layout == "wide" else " (narrow layout; view.sql rejoins it)"
    render.console.print(f"wrote {result.rows:,} decisions ({result.items:,} items x {len(result.contexts)} "
                         f"option-date pair(s)) to {result.out}{layout} in {result.seconds:.1f}s")
    order = {o.value: i for i, o in enumerate(OUTCOMES)}
    label = (by or "program").replace("_", " ")
    columns = ["Option", *(["As of"] if by_date else []), label.capitalize(), "Outcome", "Items", "Amount"]
    keyed = [(r.option, r.as_of, r.value, r.outcome, r.items, r.amount) for r in result.groups] if by else \
        [(r.option, r.as_of, r.program or "", r.outcome, r.items, r.amount) for r in rows]
    table_rows: list[list[Any]] = []
    for option, day, value, outcome, n, amount in sorted(keyed, key=lambda r: (r[0] or "", r[1], r[2],
                                                                                order.get(r[3], 9))):
        table_rows.append([option or "(record)", *([day] if by_date else []), value,
                           render.styled_outcome(outcome), f"{n:,}", f"{amount:,.2f}"])
    right = ["Items", "Amount"]
    render.console.print(render.table(f"Summary by option, {label} and outcome (USD)", columns, table_rows,
                                      right=right))
