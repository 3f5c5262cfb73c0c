"""The command line: outputs, formats, exit codes and errors for people (on tests/fixtures/mini)."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ..helpers import run

MINI = str(Path(__file__).parent.parent / "fixtures" / "mini")


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", MINI)
    assert code == 0
    assert "ok" in out and "3 line items" in out


def broken_copy(tmp_path: Path) -> str:
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    regimes = root / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace("category: spares", "category: spare"))
    return str(root)


def test_check_reports_location_and_help(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", broken_copy(tmp_path))
    assert code == 1
    assert "regimes.yaml:10:21" in err
    assert "did you mean `spares`?" in err
    assert "category: spare" in err and "^^^^^" in err  # the source line, underlined


def test_error_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = broken_copy(tmp_path)
    code, _, err = run(capsys, "--error-format", "plain", "check", path)
    assert code == 1
    line = next(x for x in err.splitlines() if "unknown-category" in x)
    assert line.endswith("unknown category `spare` (help: did you mean `spares`?)")
    code, _, err = run(capsys, "--error-format", "json", "decide", path, "I1", "--as-of", "2001-01-01")
    assert code == 1
    data = json.loads(err)
    assert data["ok"] is False
    assert data["errors"][0]["code"] == "unknown-category"
    assert data["errors"][0]["line"] == 10 and data["errors"][0]["column"] == 21


def test_policy_tests_pass_and_fail(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "test", MINI)
    assert code == 0
    assert out.strip().splitlines()[-1] == "3 passed, 0 failed"
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    tests = root / "tests.yaml"
    tests.write_text(tests.read_text().replace("expect: permitted", "expect: prohibited"))
    code, out, _ = run(capsys, "test", str(root))
    assert code == 2
    assert "1 passed" not in out and out.strip().splitlines()[-1] == "2 passed, 1 failed"
    assert "expected prohibited, got permitted" in out


def test_decide_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decide", MINI, "I3", "--as-of", "2000-06-01", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["outcome"] == "blocked"
    assert d["missing_facts"] == ["waiver.AAA"]
    assert d["rules"] == ["law.secret"]
    assert d["regime"]["id"] == "open" and d["regime"]["timeline"] == "record"
    code, out, _ = run(capsys, "decide", MINI, "I3", "--as-of", "2000-06-01", "--assume", "waiver.AAA", "--format", "json")
    d = json.loads(out)
    assert d["outcome"] == "permitted" and d["assumed"] == ["waiver.AAA"]


def test_decide_table_explains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decide", MINI, "I2", "--as-of", "2001-06-01")
    assert code == 0
    assert "closed.trucks" in out and "urgent necessity" in out and "REVIEW" in out
    assert "coup.AAA" in out  # the triggering fact was checked


@pytest.mark.parametrize("argv, needle", [
    (["decide", MINI, "I9", "--as-of", "2001-01-01"], "unknown item `I9`"),
    (["decide", MINI, "I1", "--as-of", "2001-02-30"], "`2001-02-30` is not a date"),
    (["decide", MINI, "I1", "--as-of", "2001-01-01", "--assume", "waiver.AA"], "did you mean `waiver.AAA`?"),
    (["decide", MINI, "I1", "--as-of", "2001-01-01", "--regime", "clsed"], "did you mean `closed`?"),
    (["decide", MINI, "I1", "--as-of", "1999-01-01"], "no regime is in force on 1999-01-01"),
    (["compare", MINI, "--as-of", "2001-01-01", "--options", "open,nope"], "unknown regime `nope`"),
    (["compare", MINI, "--as-of", "2001-01-01"], "--options"),
    (["schema", "regime.yaml"], "did you mean `regimes.yaml`"),
    (["check", "/no/such/folder"], "does not exist"),
    (["decide"], "missing argument `scenario`"),
    (["decide", MINI], "give a line item id or --request"),
])
def test_user_errors_exit_1_without_traceback(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert needle in err


def test_compare_json_matches_an_independent_sum(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", MINI, "--as-of", "2001-06-01", "--options", "open,closed,record",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    # the expected figures, from the fixture's rules read by hand: I1 100 grant spares, I2 150 grant trucks (FMF),
    # I3 50 sale jets (secret: law blocks it without waiver.AAA)
    expected = {
        "open": {"permitted": "250.00", "review": "0.00", "blocked": "50.00", "prohibited": "0.00"},
        "closed": {"permitted": "100.00", "review": "150.00", "blocked": "0.00", "prohibited": "50.00"},
        "record": {"permitted": "100.00", "review": "150.00", "blocked": "0.00", "prohibited": "50.00"},
    }
    for opt in data["options"]:
        totals = opt["totals"]
        for k, v in expected[opt["name"]].items():
            assert totals[k] == v, (opt["name"], k)
        assert totals["total"] == "300.00"
        assert float(Decimal(totals["permitted"]) / Decimal(totals["total"])) == pytest.approx(totals["permitted_share"], abs=1e-4)
    open_conflicts = data["options"][0]["conflicts"]
    assert open_conflicts[0]["missing_facts"] == ["waiver.AAA"] and open_conflicts[0]["amount"] == "50.00"
    assert data["options"][1]["conflicts"] == []  # closed forbids what law blocks: no conflict


def test_compare_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", MINI, "--as-of", "2001-06-01", "--options", "closed", "--format", "csv")
    lines = out.strip().splitlines()
    assert lines[0] == ("option,program,total,permitted,review,blocked,prohibited,permitted_share,"
                        "conflict_amount,conflicts")
    assert lines[1] == "closed,P1,300.00,100.00,150.00,0.00,50.00,0.3333,0.00,"


def test_timeline_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "timeline", MINI, "--format", "json", "--as-of", "2002-01-01")
    data = json.loads(out)
    periods = data["timelines"][0]["periods"]
    assert [(p["regime"], p["start"], p["end"]) for p in periods] == [
        ("open", "2000-01-01", "2001-01-01"), ("closed", "2001-01-01", None)]
    assert periods[1]["trigger"] == "fact `coup.AAA`"
    assert [f["fact"] for f in data["facts"]] == ["coup.AAA", "waiver.AAA"]


def test_schema_validates_the_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    code, out, _ = run(capsys, "schema")
    schemas = json.loads(out)
    for name, sch in schemas.items():
        if name.endswith(".yaml"):
            folder = Path(MINI) if name != "pack.yaml" else Path(__file__).parent.parent.parent / "packs" / "faa-1961"
            data = yaml.safe_load((folder / name).read_text())
            jsonschema.validate(json.loads(json.dumps(data, default=str)), sch)


def test_compare_items_add_up_to_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", MINI, "--as-of", "2001-06-01", "--options", "closed,open", "--items",
                       "--format", "json")
    for opt in json.loads(out)["options"]:
        by_outcome: dict[str, Decimal] = {}
        for d in opt["decisions"]:
            by_outcome[d["outcome"]] = by_outcome.get(d["outcome"], Decimal(0)) + Decimal(d["amount"])
        for outcome, amount in by_outcome.items():
            assert Decimal(opt["totals"][outcome]) == amount
