"""Running compiled plans: DuckDB over files, SQLite in the database, and `tranche bulk`."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

import tranche
from ..helpers import run
from tranche.compiler.run import bulk, dates_between, decisions_in_db, summarize_in_db
from tranche.engine import Evaluator, compare
from tranche.errors import UsageError
from tranche.language.scenario import Scenario

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
PIPELINE = PERU / "pipeline.csv"
AS_OF = dt.date(1962, 10, 3)
FY63 = ["congress.appropriation.FY1963"]
OPTIONS = ["limited", "recommended", "full"]


@pytest.fixture(scope="module")
def peru() -> Scenario:
    return tranche.load_scenario(PERU)


def _expected(s: Scenario, options: list[str | None], dates: list[dt.date]) -> dict[tuple[str, str | None, dt.date], tuple[str, str, str]]:
    out = {}
    for option in options:
        for day in dates:
            ev = Evaluator(s, day, FY63, option)
            for item in s.items:
                d = ev.decide(item)
                out[(item.id, option, day)] = (d.outcome.value, ",".join(d.rules), ",".join(d.missing_facts))
    return out


def _read(path: Path) -> dict[tuple[str, str | None, dt.date], tuple[str, str, str]]:
    rows = duckdb.connect().execute(
        f"SELECT id, option, as_of, outcome, rules, missing_facts FROM read_parquet('{path}')").fetchall()
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}


def test_bulk_csv_agrees_with_the_evaluator_and_the_record(peru: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "decisions.parquet"
    result = bulk(peru, PIPELINE, out, [AS_OF], OPTIONS, FY63)
    assert _read(out) == _expected(peru, list(OPTIONS), [AS_OF])
    assert result.items == len(peru.items) and result.rows == 3 * len(peru.items)
    permitted = {(r.option, r.program): r.amount for r in result.summary if r.outcome == "permitted"}
    assert permitted[("limited", "FY1962")] == Decimal("6100000.00")
    assert permitted[("limited", "FY1963")] == Decimal("1500000.00")
    # the summary equals the in-memory comparison, option by option and program by program
    cmp = compare(peru, AS_OF, OPTIONS, FY63)
    for opt in cmp.options:
        for prog in opt.programs:
            for outcome, amount in prog.amounts.items():
                got = sum((r.amount for r in result.summary if (r.option, r.program, r.outcome)
                           == (opt.name, prog.program, outcome.value)), Decimal(0))
                assert got == amount, (opt.name, prog.program, outcome)


def test_bulk_keeps_every_input_column(peru: Scenario, tmp_path: Path) -> None:
    out = tmp_path / "d.parquet"
    bulk(peru, PIPELINE, out, [AS_OF], ["limited"], FY63)
    names = [r[0] for r in duckdb.connect().execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()]
    header = PIPELINE.read_text().splitlines()[0].split(",")
    assert names == header + ["option", "as_of", "outcome", "rules", "missing_facts"]


def test_bulk_parquet_over_dates_and_the_timeline_of_record(peru: Scenario, tmp_path: Path) -> None:
    items = tmp_path / "items.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv('{PIPELINE}', header = true, all_varchar = true)) "
                             f"TO '{items}' (FORMAT parquet)")
    dates = dates_between(dt.date(1962, 7, 1), dt.date(1962, 11, 30), "14d")
    out = tmp_path / "d.parquet"
    bulk(peru, items, out, dates, [None, "limited"], FY63)
    assert _read(out) == _expected(peru, [None, "limited"], dates)


def test_flags_with_spaces_and_nulls(peru: Scenario, tmp_path: Path) -> None:
    with PIPELINE.open() as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["flags"]:
            r["flags"] = r["flags"].replace(",", " , ")
    path = tmp_path / "items.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "d.parquet"
    bulk(peru, path, out, [AS_OF], OPTIONS, FY63)
    assert _read(out) == _expected(peru, list(OPTIONS), [AS_OF])


@pytest.mark.parametrize(("content", "message"), [
    ("id,recipient,program,channel,amount\nA,PER,FY1962,grant,1.00\n", "lacks the column `category`"),
    ("id,recipient,program,channel,category,amount,flags\nA,PER,FY1962,grant,spares,lots,\n", "items.csv"),
])
def test_bad_items_are_errors_and_leave_nothing_behind(peru: Scenario, tmp_path: Path, content: str,
                                                       message: str) -> None:
    path = tmp_path / "items.csv"
    path.write_text(content)
    out = tmp_path / "d.parquet"
    out.write_bytes(b"previous")
    with pytest.raises(UsageError) as exc:
        bulk(peru, path, out, [AS_OF], ["limited"])
    assert message in exc.value.message
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.parquet", "items.csv"]


def test_bad_paths(peru: Scenario, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        bulk(peru, tmp_path / "none.parquet", tmp_path / "d.parquet", [AS_OF])
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(UsageError, match="unknown file type"):
        bulk(peru, tmp_path / "x.json", tmp_path / "d.parquet", [AS_OF])
    with pytest.raises(UsageError, match="output is Parquet"):
        bulk(peru, PIPELINE, tmp_path / "d.csv", [AS_OF])
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(UsageError, match="cannot be read as parquet"):
        bulk(peru, tmp_path / "junk.parquet", tmp_path / "d.parquet", [AS_OF])


def test_dates_between() -> None:
    assert len(dates_between(AS_OF, AS_OF + dt.timedelta(weeks=51), "7d")) == 52
    assert dates_between(AS_OF, AS_OF + dt.timedelta(days=14), "1w")[-1] == AS_OF + dt.timedelta(days=14)
    with pytest.raises(UsageError, match="not a period"):
        dates_between(AS_OF, AS_OF, "weekly")


def _sqlite_items(s: Scenario) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE pipeline (id TEXT, recipient TEXT, program TEXT, channel TEXT, category TEXT, "
                "amount NUMERIC, flags TEXT, description TEXT, commitment TEXT)")
    con.executemany("INSERT INTO pipeline VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(i.id, i.recipient, i.program, i.channel, i.category, str(i.amount), ",".join(sorted(i.flags)),
                      i.description, i.attrs.get("commitment")) for i in s.items])
    return con


def test_summarize_in_sqlite_equals_compare(peru: Scenario) -> None:
    con = _sqlite_items(peru)
    rows = summarize_in_db(con, "pipeline", peru, AS_OF, OPTIONS, FY63)
    con.close()
    cmp = compare(peru, AS_OF, OPTIONS, FY63)
    for opt in cmp.options:
        for prog in opt.programs:
            for outcome, amount in prog.amounts.items():
                got = [r.amount for r in rows if (r.option, r.program, r.outcome) == (opt.name, prog.program,
                                                                                       outcome.value)]
                assert (got[0] if got else Decimal("0.00")) == amount
    assert all(isinstance(r.amount, Decimal) for r in rows)


def test_summarize_through_sqlalchemy(peru: Scenario, tmp_path: Path) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    path = tmp_path / "items.db"
    src = _sqlite_items(peru)
    src.commit()
    src.execute(f"VACUUM INTO '{path}'")
    src.close()
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        rows = summarize_in_db(engine, "pipeline", peru, AS_OF, ["limited"], FY63)
    finally:
        engine.dispose()
    permitted = {r.program: r.amount for r in rows if r.outcome == "permitted"}
    assert permitted["FY1962"] == Decimal("6100000.00")


def test_decisions_in_sqlite_stream(peru: Scenario) -> None:
    con = _sqlite_items(peru)
    got = {(r["id"], r["option"], r["as_of"]): (r["outcome"], r["rules"], r["missing_facts"])
           for r in decisions_in_db(con, "pipeline", peru, AS_OF, [None, "recommended"], FY63)}
    con.close()
    assert got == _expected(peru, [None, "recommended"], [AS_OF])


def test_in_db_errors(peru: Scenario) -> None:
    con = sqlite3.connect(":memory:")
    with pytest.raises(UsageError, match="no such table"):
        summarize_in_db(con, "pipeline", peru, AS_OF, ["limited"])
    with pytest.raises(UsageError, match="cannot evaluate in a"):
        summarize_in_db(object(), "pipeline", peru, AS_OF, ["limited"])
    con.close()


# -- the command line ------------------------------------------------------------------------------------


def test_cli_bulk_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "d.parquet"
    code, text, _ = run(capsys, "bulk", str(PERU), "--items", str(PIPELINE), "--as-of", "1962-10-03",
                        "--options", "limited,recommended,full", "--assume", "congress.appropriation.FY1963",
                        "--out", str(out))
    assert code == 0 and out.exists()
    assert "6,100,000.00" in text and "1,500,000.00" in text and "wrote 153 decisions" in text


def test_cli_bulk_json_over_a_period(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "d.parquet"
    code, text, _ = run(capsys, "bulk", str(PERU), "--items", str(PIPELINE), "--every", "7d", "--from", "1962-10-01",
                        "--to", "1962-10-29", "--options", "record", "--out", str(out), "--format", "json")
    data = json.loads(text)
    assert code == 0 and len(data["contexts"]) == 5 and data["rows"] == 5 * 51
    assert {c["regimes"][0] for c in data["contexts"]} == {"interim", "limited", "resumed"}


@pytest.mark.parametrize(("argv", "message"), [
    (["--as-of", "1962-13-01"], "`1962-13-01` is not a date"),
    (["--every", "7d"], "--every needs --from"),
    ([], "no date to decide at"),
    (["--as-of", "1962-10-03", "--options", "limted"], "unknown regime `limted`"),
    (["--as-of", "1962-10-03", "--engine", "oracle"], "unknown engine `oracle`"),
    (["--as-of", "1962-10-03", "--assume", "congress"], "unknown fact `congress`"),
])
def test_cli_bulk_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str) -> None:
    out = tmp_path / "d.parquet"
    code, _, err = run(capsys, "bulk", str(PERU), "--items", str(PIPELINE), "--out", str(out), *argv)
    assert code == 1 and message in err
    assert not out.exists()


# -- the narrow layout -----------------------------------------------------------------------------------


def test_narrow_layout_over_a_period_rejoins_to_the_wide_one(peru: Scenario, tmp_path: Path) -> None:
    from tranche.compiler.run import NARROW_FILES, narrow_views

    dates = dates_between(dt.date(1962, 10, 1), dt.date(1962, 10, 29), "7d")
    wide = bulk(peru, PIPELINE, tmp_path / "w.parquet", dates, [None, *OPTIONS], FY63)
    narrow = bulk(peru, PIPELINE, tmp_path / "n", dates, [None, *OPTIONS], FY63)
    assert narrow.layout == "narrow" and narrow.form == "lookup" and narrow.summary == wide.summary
    folder = tmp_path / "n"
    assert sorted(p.name for p in folder.iterdir()) == sorted(NARROW_FILES)
    assert len(list((folder / "decisions").iterdir())) == 4 * len(dates)  # pair=0 ... pair=19
    con = duckdb.connect()
    con.execute(narrow_views(str(folder), list(wide.sql and _columns(PIPELINE))))
    got = {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in con.execute(
        "SELECT id, option, as_of, outcome, rules, missing_facts FROM wide").fetchall()}
    assert got == _read(tmp_path / "w.parquet") == _expected(peru, [None, *OPTIONS], dates)
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE decisions)").fetchall())
    assert types == {"item": "INTEGER", "outcome": "UTINYINT", "rules": "INTEGER", "pair": "INTEGER"}


def _columns(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def test_narrow_layout_replaces_an_earlier_folder_only_when_complete(peru: Scenario, tmp_path: Path) -> None:
    folder = tmp_path / "n"
    bulk(peru, PIPELINE, folder, [AS_OF], ["limited"], FY63)
    before = sorted(p.name for p in folder.rglob("*"))
    bad = tmp_path / "items.csv"
    bad.write_text("id,recipient,program,channel,category,amount,flags\nA,PER,FY1962,grant,spares,lots,\n")
    with pytest.raises(UsageError):
        bulk(peru, bad, folder, [AS_OF], ["limited"], FY63)
    assert sorted(p.name for p in folder.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["items.csv", "n"]
    bulk(peru, PIPELINE, folder, [AS_OF, AS_OF + dt.timedelta(days=7)], ["limited"], FY63)
    assert len(list((folder / "decisions").iterdir())) == 2


def test_cli_bulk_narrow_and_layout_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = ["bulk", str(PERU), "--items", str(PIPELINE), "--as-of", "1962-10-03", "-o", "limited,full",
            "-a", "congress.appropriation.FY1963"]
    code, text, _ = run(capsys, *base, "--out", str(tmp_path / "sweep"))
    assert code == 0 and "wrote 102 decisions" in text and "narrow layout" in text
    for extra, message in ((["--out", str(tmp_path / "x.parquet"), "--narrow"], "the narrow layout is a folder"),
                           (["--out", str(tmp_path / "x"), "--wide"], "the wide layout is one Parquet file"),
                           (["--out", str(tmp_path / "x.csv")], "the output is Parquet"),
                           (["--out", str(tmp_path / "x.parquet"), "--master", "local[1]"], "--master is for the spark"),
                           (["--out", str(tmp_path / "x"), "--narrow", "--engine", "spark"], "the spark engine writes the wide")):
        code, _, err = run(capsys, *base, *extra)
        assert code == 1 and message in err, (extra, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]


def test_progress_counts_decisions_and_moves(peru: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep reports decisions written of those known, chunk by chunk of pairs, never going back."""
    import dataclasses

    import tranche.compiler.run as run_module

    peru = dataclasses.replace(peru, law=dataclasses.replace(peru.law, caps=()))  # a capped plan is written whole

    n = len(peru.items)
    monkeypatch.setattr(run_module, "CHUNK_ROWS", 2 * n)  # two pairs of the pipeline's items per chunk
    seen: list[tuple[str, int, int]] = []
    dates = dates_between(AS_OF, AS_OF + dt.timedelta(weeks=5), "7d")
    result = bulk(peru, PIPELINE, tmp_path / "n", dates, ["limited"], FY63,
                  progress=lambda what, done, total: seen.append((what, done, total)))
    total = 6 * len(peru.items)
    assert result.rows == total and seen[-1] == ("decisions", total, total)
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and {t for _, _, t in seen} == {total}
    assert {d for d in done if d % (2 * n) == 0} >= {2 * n, 4 * n, 6 * n}  # each chunk counted as it completes


def test_narrow_layout_of_a_large_csv_numbers_each_row_once(peru: Scenario, tmp_path: Path) -> None:
    """A CSV file has no row numbers: they are given once, so items.parquet and the decisions agree on them."""
    from tranche.compiler.run import narrow_views

    items = tmp_path / "items.csv"
    duckdb.connect().execute(
        f"COPY (SELECT p.id || '-' || r.range AS id, p.* EXCLUDE (id) FROM range(3000) r, "
        f"read_csv('{PIPELINE}', header = true, all_varchar = true) p) TO '{items}' (HEADER)")
    bulk(peru, items, tmp_path / "w.parquet", [AS_OF], ["limited", "full"], FY63)
    bulk(peru, items, tmp_path / "n", [AS_OF], ["limited", "full"], FY63)
    con = duckdb.connect()
    con.execute(narrow_views(str(tmp_path / "n"), _columns(PIPELINE)))
    differ = con.execute(
        f"SELECT count(*) FROM (SELECT id, option, outcome, rules FROM wide EXCEPT ALL "
        f"SELECT id, option, outcome, rules FROM read_parquet('{tmp_path / 'w.parquet'}'))").fetchall()[0][0]
    assert differ == 0 and con.execute("SELECT count(*) FROM wide").fetchall()[0][0] == 2 * 51 * 3000


# -- declared attributes the items lack; summaries by an attribute -------------------------------------------

RURITANIA = ROOT / "scenarios" / "ruritania-7008"
R_DAY = dt.date(2024, 5, 1)
R_OPTIONS = ["pre_coup", "pause", "restriction_7008"]


@pytest.fixture(scope="module")
def ruritania() -> Scenario:
    return tranche.load_scenario(RURITANIA)


def _without(column: str, folder: Path) -> Path:
    with (RURITANIA / "pipeline.csv").open() as f:
        rows = list(csv.DictReader(f))
    path = folder / f"without-{column}.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[c for c in rows[0] if c != column])
        w.writeheader()
        w.writerows({k: v for k, v in r.items() if k != column} for r in rows)
    return path


def test_bulk_refuses_items_without_a_required_attribute(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    items = _without("account", tmp_path)
    out = tmp_path / "d.parquet"
    code, _, err = run(capsys, "bulk", str(RURITANIA), "--items", str(items), "--as-of", "2024-05-01",
                       "--out", str(out))
    assert code == 1 and "lacks the column `account`" in err and "declares required" in err and not out.exists()


def test_bulk_warns_for_a_missing_optional_attribute_and_decides_as_compare(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Ruritania with `implementer` optional (the shipped scenario requires it, as the 7008 pack advises)
    folder = tmp_path / "scenarios" / "ruritania-7008"
    shutil.copytree(RURITANIA, folder)
    shutil.copytree(ROOT / "packs", tmp_path / "packs")  # law.yaml includes ../../packs/sec-7008
    manifest = folder / "scenario.yaml"
    text = manifest.read_text()
    assert text.count("    required: true\n  funds:") == 1
    manifest.write_text(text.replace("    required: true\n  funds:", "  funds:"))
    ruritania = tranche.load_scenario(folder)
    assert not ruritania.attributes["implementer"].required
    items = _without("implementer", tmp_path)
    out = tmp_path / "d.parquet"
    code, text, err = run(capsys, "bulk", str(folder), "--items", str(items), "--as-of", "2024-05-01",
                          "-o", ",".join(R_OPTIONS), "--out", str(out), "--format", "json")
    assert code == 0 and out.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "`implementer`" in lines[0]
    assert "decided as if its `implementer` were missing" in lines[0]
    # the same items, read by the scenario reader and stripped of the attribute, decided in memory
    stripped = [dataclasses.replace(i, attrs={k: v for k, v in i.attrs.items() if k != "implementer"})
                for i in ruritania.items]
    assert any("implementer" in i.attrs for i in ruritania.items)  # the column decides something in the record
    expected = {}
    for option in R_OPTIONS:
        ev = Evaluator(dataclasses.replace(ruritania, items=tuple(stripped)), R_DAY, (), option)
        for item in stripped:
            d = ev.decide(item)
            expected[(item.id, option, R_DAY)] = (d.outcome.value, ",".join(d.rules), ",".join(d.missing_facts))
    assert _read(out) == expected
    cmp = compare(dataclasses.replace(ruritania, items=tuple(stripped)), R_DAY, R_OPTIONS, items=stripped)
    summary = json.loads(text)["summary"]
    for opt in cmp.options:
        for prog in opt.programs:
            for outcome, amount in prog.amounts.items():
                got = sum((Decimal(r["amount"]) for r in summary if (r["option"], r["program"], r["outcome"])
                           == (opt.name, prog.program, outcome.value)), Decimal(0))
                assert got == amount, (opt.name, prog.program, outcome)
    assert [w["code"] for w in json.loads(text)["warnings"]] == ["missing-attribute"]
    # the Python API carries the warning
    result = bulk(ruritania, items, tmp_path / "e.parquet", [R_DAY], R_OPTIONS)
    assert [w.code for w in result.warnings] == ["missing-attribute"]


def test_bulk_is_silent_on_optional_attributes_no_condition_tests(tmp_path: Path) -> None:
    """Peru's pipeline has no stage dates and no rule of Peru tests one: nothing to warn about."""
    s = tranche.load_scenario(PERU)
    assert not {"offered", "shipped", "delivered"} & s.tested_attributes()
    result = bulk(s, PERU / "pipeline.csv", tmp_path / "p.parquet", [dt.date(1962, 10, 3)], ["limited"])
    assert result.warnings == ()


def _compare_groups(s: Scenario, day: dt.date, options: list[str], by: str, assume: list[str],
                    items: list[Any] | None = None) -> dict[tuple[str, str, str], Decimal]:
    cmp = compare(s, day, options, assume, items=items, by=by)
    return {(opt.name, g.program, o.value): a for opt in cmp.options for g in opt.groups
            for o, a in g.amounts.items() if a} | \
        {(opt.name, g.program, "items"): Decimal(g.items) for opt in cmp.options for g in opt.groups}


def _groups(rows: list[Any]) -> dict[tuple[str, str, str], Decimal]:
    out: dict[tuple[str, str, str], Decimal] = {}
    for r in rows:
        if r.amount:
            out[(r.option, r.value, r.outcome)] = out.get((r.option, r.value, r.outcome), Decimal(0)) + r.amount
        out[(r.option, r.value, "items")] = out.get((r.option, r.value, "items"), Decimal(0)) + r.items
    return out


@pytest.mark.parametrize("by", ["program", "program_status", "channel", "category", "flags", "amount", "recipient",
                                "commitment"])
def test_bulk_by_attribute_equals_compare_by_on_peru(peru: Scenario, tmp_path: Path, by: str) -> None:
    from tranche.compiler.run import group_in_db

    result = bulk(peru, PIPELINE, tmp_path / "d.parquet", [AS_OF], OPTIONS, FY63, by=by)
    expected = _compare_groups(peru, AS_OF, OPTIONS, by, FY63)
    assert result.by == by and _groups(result.groups) == expected
    con = _sqlite_items(peru)
    assert _groups(group_in_db(con, "pipeline", peru, AS_OF, by, OPTIONS, FY63)) == expected
    con.close()


@pytest.mark.parametrize("by", ["account", "implementer", "flags", "program_status"])
def test_bulk_by_declared_attribute_equals_compare_by_on_ruritania(ruritania: Scenario, tmp_path: Path,
                                                                    by: str) -> None:
    narrow = bulk(ruritania, RURITANIA / "pipeline.csv", tmp_path / "n", [R_DAY], R_OPTIONS, by=by)
    wide = bulk(ruritania, RURITANIA / "pipeline.csv", tmp_path / "w.parquet", [R_DAY], R_OPTIONS, by=by, form="case")
    expected = _compare_groups(ruritania, R_DAY, R_OPTIONS, by, [])
    assert _groups(narrow.groups) == _groups(wide.groups) == expected
    # the groups add up to the summary by program, option by option
    for option in R_OPTIONS:
        assert sum(g.amount for g in wide.groups if g.option == option) == \
            sum(r.amount for r in wide.summary if r.option == option)


def test_cli_bulk_by(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = ["bulk", str(RURITANIA), "--items", str(RURITANIA / "pipeline.csv"), "--as-of", "2024-05-01",
            "-o", "pause", "--out", str(tmp_path / "d.parquet")]
    code, text, _ = run(capsys, *base, "--by", "account", "--format", "json")
    data = json.loads(text)
    assert code == 0 and data["by"] == "account"
    assert {g["account"] for g in data["groups"]} == {"FMF", "IMET", "PKO", "DRAWDOWN", "NATIONAL"}
    code, text, _ = run(capsys, *base, "--by", "account", "--format", "csv")
    assert code == 0 and text.splitlines()[0] == "option,as_of,account,outcome,items,amount"
    code, text, _ = run(capsys, *base, "--by", "account")
    assert code == 0 and "Summary by option, account and outcome" in text and "NATIONAL" in text
    code, _, err = run(capsys, *base, "--by", "acount")
    assert code == 1 and "unknown attribute `acount`" in err and "did you mean `account`" in err
