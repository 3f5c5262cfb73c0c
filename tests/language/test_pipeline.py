"""The column pass over `pipeline.csv` agrees with the row path, row by row.

`check` reads the pipeline column by column (tranche/language/pipeline.py) and reads again by the row path
(`parse_item_row`) only the rows it doubts.  The row path is the definition: here it reads every row of
random pipelines -- hostile values in every column, odd rows (blank, short, long, over several lines),
shuffled and missing columns, ids used twice -- as `check` did before the column pass, and both must give
the same diagnostics (code, message, help, line, column, length, in order) and the same items.
"""

from __future__ import annotations

import csv
import io
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tranche.errors import Diagnostic
from tranche.language import check, model
from tranche.language.pipeline import MAX_ROWS_LISTED, TYPES
from tranche.language.scenario import ITEM_FIELDS, LineItem, Pipeline, Same
from tranche.language.syntax import CsvFile
from tranche.language.validate import PIPELINE_FILE, _Checker, parse_item_row

MINI = Path(__file__).parent.parent / "fixtures" / "mini"
HEADER_CODES = {"missing-column", "undeclared-column", "program-total"}  # the header's and the totals': not rows

SCENARIO = """\
id: rows
title: Every kind of column
recipients:
  - {code: AAA, name: Atlantis}
  - {code: BBB, name: Borduria}
channels: {grant: grant aid, sale: purchases}
flags: {secret: sensitive item, other: another flag}
attributes:
  account: {type: enum, values: [FMF, IMET]}
  note: {type: string}
  weight: {type: decimal}
  tags: {type: set, values: [a, b]}
"""
PROGRAMS = """\
programs:
  - {id: P1, recipient: AAA, status: approved, sources: [s1]}
  - {id: P2, recipient: BBB, status: proposed, sources: [s1]}
"""
SOURCES = """\
sources:
  - {id: s1, title: A source, citation: doc 1}
  - {id: s2, title: Another, citation: doc 2}
"""
VALID = "id,recipient,program,channel,category,amount\nI1,AAA,P1,grant,spares,1.00\n"

COLUMNS: dict[str, list[str]] = {
    "id": ["I1", "I2", "I3", "", " I4 ", "I5", "i1", "I1 "],
    "recipient": ["AAA", "BBB", "", "aaa", "CCC", " AAA "],
    "program": ["P1", "P2", "", "P9", "p1"],
    "channel": ["grant", "sale", "", "loan"],
    "category": ["spares", "end_items", "end_items.trucks", "end_items.jets", "trucks", "", "end_items."],
    "amount": ["100.00", "0", "5", "1.5", "007", "1.234", "1.230", "1_000", " 12 ", "1e3", "1E-2", "-1", "-0",
               "+5", "NaN", "Infinity", "-inf", "", "abc", "\u0661\u0662", "9999999999999999", "10000000000000000",
               "9999999999999999.99", "0.001", ".5", "5.", "1,000", "$5", "0x10", "1.0e2", "\u00a05", "0.10"],
    "flags": ["", "secret", " secret ", "secret,secret", "secret,", ",secret", "secret;other", "unknown", "Secret",
              "secret, other", "1abc", "_x", ","],
    "description": ["", "spare parts", "a, b", 'say "hi"', "two\nlines", "crlf\r\nend", "  padded  "],
    "account": ["FMF", "IMET", "", "fmf", " FMF ", "XYZ"],
    "note": ["", "x", " y ", "FMF"],
    "weight": ["", "1", "-2.5", "0.0000000001", "0.00000000001", "1e2", "NaN", "x",
               "9" * 28, "9" * 29, "-0", "1_0"],
    "tags": ["", "a", "a,b", "b, a", "c", "a;b", ",", " a ,, b "],
    "basis": ["", "record", "inference", "illustrative", "Record", "guess"],
    "sources": ["", "s1", "s1 s2", "s1,s2", "s3", " s1 ,s2", "s1;s2"],
    "marking": ["", "UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "secret", "TOP SECRET"],
    "extra": ["", "anything", "  x  "],
}
REQUIRED = ["id", "recipient", "program", "channel", "category", "amount"]
OPTIONAL = [c for c in COLUMNS if c not in REQUIRED]


class Setup:
    """A scenario folder (the mini fixture with SCENARIO, PROGRAMS and SOURCES) whose pipeline the tests
    rewrite, and what checking it gives: the scenario (from a valid pipeline) and a checker."""

    def __init__(self, scenario: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tranche-rows-")) / "s"
        shutil.copytree(MINI, self.root)
        (self.root / "scenario.yaml").write_text(scenario)
        (self.root / "programs.yaml").write_text(PROGRAMS)
        (self.root / "sources.yaml").write_text(SOURCES)
        (self.root / "tests.yaml").write_text("tests: []\n")
        (self.root / "pipeline.csv").write_text(VALID)
        result = check(self.root)
        assert result.scenario is not None, [str(d) for d in result.errors()]
        self.scene = result.scenario
        self.checker = _Checker(self.root, source_ids=list(self.scene.sources), sources_ok=True)
        first = _Checker(self.root)
        first.run()
        self.checker.manifest = first.manifest
        self.checker.attributes = dict(self.scene.attributes)


SETUP = Setup(SCENARIO)
ROOT = SETUP.root


def column_pass(setup: Setup = SETUP) -> tuple[list[Diagnostic], Pipeline]:
    """What `check` does with the pipeline: its diagnostics (the rows') and its items."""
    ck = setup.checker
    ck.diags = []
    items = ck.build_items(setup.scene.taxonomy, dict(setup.scene.programs))
    return [d for d in ck.diags if d.code not in HEADER_CODES], items


def row_path(setup: Setup = SETUP) -> tuple[list[Diagnostic], list[LineItem]]:
    """Every row read by the row path, as `check` read the pipeline before the column pass."""
    scene, root = setup.scene, setup.root
    ck = _Checker(root, source_ids=list(scene.sources), sources_ok=True)
    f = CsvFile(root / PIPELINE_FILE, str(root / PIPELINE_FILE))
    ck.diags.extend(f.diagnostics)
    f.diagnostics = ck.diags
    items: list[LineItem] = []
    seen: dict[str, int] = {}
    if f.header and all(c in f.header for c in REQUIRED):
        for row in f:
            item = parse_item_row(row.values, row.spans, row.line, dict(scene.attributes), scene.taxonomy,
                                  dict(scene.programs), ck)
            if item is None:
                continue
            if item.id in seen:
                ck.err("duplicate-id", f"duplicate item id `{item.id}`", row.spans["id"],
                       help=f"first used on line {seen[item.id]}")
                continue
            seen[item.id] = row.line
            items.append(item)
    return [d for d in ck.diags if d.code not in HEADER_CODES], items


def shown(diags: list[Diagnostic]) -> list[tuple[Any, ...]]:
    return [(d.code, d.severity, d.message, d.help, d.span and (d.span.line, d.span.col, d.span.length))
            for d in diags]


def agree(got: list[Diagnostic], expected: list[Diagnostic]) -> None:
    """The same diagnostics; past the rows listed, one count of the rows with errors not listed."""
    more = [i for i, d in enumerate(got) if d.code == "more-errors"]
    if not more:
        assert shown(got) == shown(expected)
        return
    cut = more[0]
    assert shown(got[:cut]) == shown(expected[:cut])
    listed_rows = {d.span.line for d in got[:cut] if d.span and not d.code.startswith("csv-")}
    assert len(listed_rows) == MAX_ROWS_LISTED
    rest = {d.span.line for d in expected[cut:] if d.span and not d.code.startswith("csv-")}
    assert got[cut].message.startswith(f"{len(rest):,} more rows of the pipeline have errors")
    assert got[cut].span is not None and got[cut].span.line == min(rest)


CELL = {c: st.one_of(st.sampled_from(v), st.sampled_from(v), st.sampled_from(v), st.text(max_size=6))
        for c, v in COLUMNS.items()}
VALID_CELL = {c: st.sampled_from([v[0]]) for c, v in COLUMNS.items()}


@st.composite
def pipelines(draw: st.DrawFn) -> bytes:
    optional = draw(st.lists(st.sampled_from(OPTIONAL), unique=True))
    header = REQUIRED + optional
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    clean = draw(st.floats(0, 1))  # how many rows are valid but for their id
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(header)
    for _ in range(draw(st.integers(0, 25))):
        odd = draw(st.sampled_from(["row"] * 12 + ["blank", "spaces", "short", "long", "commas"]))
        if odd == "blank":
            out.write("\n")
        elif odd == "spaces":
            out.write("   \n")
        elif odd == "commas":
            out.write("," * (len(header) - 1) + "\n")
        else:
            cells = [draw(VALID_CELL[c] if draw(st.floats(0, 1)) < clean else CELL[c]) for c in header]
            if "id" in header and draw(st.booleans()):
                cells[header.index("id")] = draw(st.sampled_from(COLUMNS["id"]))
            if odd == "short":
                cells = cells[:draw(st.integers(0, len(cells) - 1))]
            elif odd == "long":
                cells += ["more"]
            writer.writerow(cells)
    text = out.getvalue()
    if draw(st.booleans()) and text.endswith("\n"):
        text = text.rstrip("\r\n")  # no line end at the end
    return text.encode("utf-8")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pipelines())
def test_the_column_pass_agrees_with_the_row_path(data: bytes) -> None:
    (ROOT / PIPELINE_FILE).write_bytes(data)
    expected_diags, expected_items = row_path()
    got_diags, got_items = column_pass()
    agree(got_diags, expected_diags)
    assert list(got_items) == expected_items
    assert got_items == expected_items and len(got_items) == len(expected_items)


def _one_bad_cell(cells: list[tuple[str, str]], setup: Setup = SETUP) -> None:
    """A pipeline of valid rows, each with one cell changed: (column, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(COLUMNS))
    for n, (column, value) in enumerate(cells):
        row = {c: v[0] for c, v in COLUMNS.items()}
        row["id"] = f"R{n}"
        row[column] = value
        writer.writerow(list(row.values()))
    (setup.root / PIPELINE_FILE).write_text(out.getvalue())


def test_attributes_named_like_the_provenance_columns() -> None:
    """An attribute may be called `basis` or `sources`: the column is read both ways, as the row path does."""
    setup = Setup(SCENARIO.replace("  note: {type: string}", "  basis: {type: enum, values: [record, guess]}\n"
                                   "  sources: {type: set, values: [s1, s2, s3]}"))
    values = sorted({v for vs in COLUMNS.values() for v in vs})
    for column in ("basis", "sources"):
        _one_bad_cell([(column, v) for v in values], setup)
        expected_diags, expected_items = row_path(setup)
        got_diags, got_items = column_pass(setup)
        agree(got_diags, expected_diags)
        assert list(got_items) == expected_items and expected_items
        assert any("basis" in i.attrs or "sources" in i.attrs for i in expected_items)


def test_every_hostile_value_in_every_column_is_read_as_the_row_path_reads_it() -> None:
    """Each listed value in each column of an otherwise valid row: refused alike, or read alike."""
    values = sorted({v for vs in COLUMNS.values() for v in vs})
    _one_bad_cell([(c, v) for c in COLUMNS for v in values])
    expected_diags, expected_items = row_path()
    got_diags, got_items = column_pass()
    assert len(expected_diags) > 500 and len(expected_items) > 100  # both kinds are there
    agree(got_diags, expected_diags)
    for column in COLUMNS:  # every row listed: one column at a time
        _one_bad_cell([(column, v) for v in values])
        expected_diags, expected_items = row_path()
        got_diags, got_items = column_pass()
        agree(got_diags, expected_diags)
        assert list(got_items) == expected_items, column


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(COLUMNS)), st.text(max_size=12))
def test_any_text_in_a_column_is_read_as_the_row_path_reads_it(column: str, value: str) -> None:
    _one_bad_cell([(column, value), (column, value.strip()), (column, f" {value},{value} ")])
    expected_diags, expected_items = row_path()
    got_diags, got_items = column_pass()
    assert shown(got_diags) == shown(expected_diags)
    assert list(got_items) == expected_items


def test_every_attribute_type_has_a_column_reader() -> None:
    """A declared type without a reader would be read row by row (right, and slow): give it one in TYPES."""
    declared = set(get_args(model.AttributeFile.model_fields["type"].annotation))
    assert declared <= set(TYPES), declared - set(TYPES)


def test_a_type_without_a_reader_is_read_by_the_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until a new type has its entry in TYPES, every row is read by the row path: slow, and right."""
    monkeypatch.delitem(TYPES, "decimal")
    values = sorted({v for vs in COLUMNS.values() for v in vs})
    _one_bad_cell([("weight", v) for v in values] + [("amount", "x")] * MAX_ROWS_LISTED)
    expected_diags, expected_items = row_path()
    got_diags, got_items = column_pass()
    assert shown(got_diags) == shown(expected_diags)  # all of them: none counted
    assert list(got_items) == expected_items and expected_items


def test_rows_with_errors_beyond_the_listed_are_counted(tmp_path: Path) -> None:
    rows = MAX_ROWS_LISTED + 37
    lines = ["id,recipient,program,channel,category,amount"]
    lines += [f"B{i},AAA,P1,grant,spares,{'x' if i % 2 else '1.00'}" for i in range(2 * rows)]
    (ROOT / PIPELINE_FILE).write_text("\n".join(lines) + "\n")
    got, items = column_pass()
    expected, expected_items = row_path()
    assert shown(got[:MAX_ROWS_LISTED]) == shown(expected[:MAX_ROWS_LISTED])
    more = got[MAX_ROWS_LISTED:]
    assert [d.code for d in more] == ["more-errors"]
    assert more[0].message.startswith(f"{len(expected) - MAX_ROWS_LISTED:,} more rows")
    assert more[0].span is not None and more[0].span.line == expected[MAX_ROWS_LISTED].span.line  # type: ignore[union-attr]
    assert list(items) == expected_items
    # a policy test naming a row that was not listed is not an unknown item: the row has errors
    bad = f"B{2 * rows - 1}"
    (ROOT / "tests.yaml").write_text(f"tests:\n  - {{name: t, item: {bad}, as_of: 2001-01-01, expect: permitted}}\n")
    try:
        result = check(ROOT)
    finally:
        (ROOT / "tests.yaml").write_text("tests: []\n")
    assert not any(d.code == "unknown-item" for d in result.diagnostics)


def test_progress_is_reported_in_lines(tmp_path: Path) -> None:
    lines = ["id,recipient,program,channel,category,amount"] + [f"I{i},AAA,P1,grant,spares,1.00" for i in range(120_001)]
    (ROOT / PIPELINE_FILE).write_text("\n".join(lines) + "\n")
    calls: list[tuple[int, int]] = []
    ck = SETUP.checker
    ck.diags, ck.progress = [], lambda what, done, total: calls.append((done, total))
    try:
        items = ck.build_items(SETUP.scene.taxonomy, dict(SETUP.scene.programs))
    finally:
        ck.progress = None
    assert len(items) == 120_001 and len(calls) >= 3
    # the file's physical lines, its header included, from 0
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[0][0] == 0
    assert calls[-1] == (120_002, 120_002)
    assert all(done <= total for done, total in calls)


# -- the Pipeline sequence --------------------------------------------------------------------------------

def _items() -> list[LineItem]:
    (ROOT / PIPELINE_FILE).write_text(
        "id,recipient,program,channel,category,amount,flags,account,basis\n"
        "I1,AAA,P1,grant,spares,1.00,secret,FMF,record\n\nI2,BBB,P2,sale,end_items,2,,,\n"
        "I3,AAA,P1,grant,end_items.jets,3.5,\"secret,other\",IMET,\n")
    return row_path()[1]


def test_a_pipeline_is_a_sequence_of_its_items() -> None:
    items = _items()
    pipeline = Pipeline.of(items)
    _, read = column_pass()
    for p in (pipeline, read):
        assert len(p) == 3 and list(p) == items and p == items and p == tuple(items)
        assert p[0] == items[0] and p[-1] == items[-1] and p[1:] == tuple(items[1:])
        assert p.find("I2") == items[1] and p.find("nope") is None
        assert list(p.column("amount")) == [i.amount for i in items]
        assert list(p.ids) == ["I1", "I2", "I3"]
        assert pickle.loads(pickle.dumps(p)) == items
        with pytest.raises(IndexError):
            p[3]
    assert [i.line for i in read] == [2, 4, 5]
    assert read != items[:2] and read != "I1I2I3"


def test_a_column_of_one_value_is_kept_once() -> None:
    same = Same("x", 4)
    assert list(same) == ["x"] * 4 and same[3] == "x" and len(same[1:3]) == 2
    with pytest.raises(IndexError):
        same[4]
    columns = {f: Same(getattr(_items()[0], f), 2) for f in ITEM_FIELDS}
    assert list(Pipeline(columns, 2)) == [_items()[0]] * 2
    with pytest.raises(ValueError):
        Pipeline({f: columns[f] for f in ITEM_FIELDS[1:]}, 2)
