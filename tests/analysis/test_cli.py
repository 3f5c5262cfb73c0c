"""`tranche diff` and `tranche lint`: outputs, formats, exit codes and errors for people."""

from __future__ import annotations

import json
from decimal import Decimal
import shutil
from pathlib import Path

import pytest

from ..helpers import run

ROOT = Path(__file__).resolve().parents[2]
PERU = str(ROOT / "scenarios" / "peru-1962")
MINI = str(ROOT / "tests" / "fixtures" / "mini")
LAW_FACTS = ["-a", "congress.appropriation.FY1963", "-a", "presidential_determination.internal_security.PER",
             "-a", "mdaa.amendment.PER"]


def test_diff_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", PERU, "limited", "recommended", *LAW_FACTS)
    assert code == 0
    assert "3 statements" in out
    for text in ("review → permitted", "prohibited → permitted", "prohibited → review", "900,000.00",
                 "5,800,000.00", "9,400,000.00"):
        assert text in out


def test_diff_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", PERU, "limited", "recommended", "--format", "json", *LAW_FACTS)
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"a", "b", "statements"} and (data["a"], data["b"]) == ("limited", "recommended")
    first = data["statements"][0]
    assert set(first) == {"text", "change", "from", "to", "match", "impact"} and first["change"] == "outcome"
    assert first["text"] == "sale of any category except maintenance, spares: review → permitted"
    assert (first["from"], first["to"]) == ("review", "permitted")
    assert first["match"] == {"channel": ["sale"], "category": {"any": True, "except": ["maintenance", "spares"]}}
    assert first["impact"] == {"PURCHASES": "900000.00"}
    step2 = data["statements"][1]["match"]
    assert step2["category"] == {"any": False, "under": ["training", "end_items.civic_action",
                                                         "end_items.support_items", "end_items.uniform_material"],
                                 "except": ["training.basic"]}
    assert step2["flags"] == {"none": ["internal_security", "sensitive"]}
    assert data["statements"][2]["match"]["unless"][0]["category"]["under"][:2] == ["maintenance", "spares"]


def test_diff_names_facts_when_they_are_a_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", PERU, "limited", "recommended", "--with-law", "--format", "json")
    assert code == 0
    texts = [s["text"] for s in json.loads(out)["statements"]]
    assert any("when `congress.appropriation.FY1963` does not hold" in t for t in texts)
    assert {t.rsplit(": ", 1)[1] for t in texts} == {"review → permitted", "prohibited → permitted",
                                                     "prohibited → review", "prohibited → blocked"}


def test_diff_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", PERU, "limited", "recommended", "--format", "csv", *LAW_FACTS)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == ("kind,from,to,from_criterion,to_criterion,requests,FY1962,FY1963,PURCHASES,total,name,under,"
                        "not_under,limit,allocated_a,allocated_b,blocked_a,blocked_b,blocked_items_a,blocked_items_b,"
                        "text")
    assert len(lines) == 4


RUR = str(ROOT / "scenarios" / "ruritania-7008")
# the pause against normal relations, with the law, the aircraft notified: the three kinds of statement
RUR_DIFF = ["diff", RUR, "pause", "pre_coup", "--with-law", "--as-of", "2024-03-20", "-a",
            "congress.notification.RUR-case-1@2024-01-01"]


def _csv(out: str) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(out)))


def test_diff_csv_has_a_row_for_every_statement_of_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """The changes of outcome, the classes that newly count against a cap, and the cap's allocation: the CSV has
    exactly the statements the JSON has, one row each, with the figures of each."""
    from tranche import diff, load_scenario

    code, out, _ = run(capsys, *RUR_DIFF, "--format", "csv")
    assert code == 0
    rows = _csv(out)
    d = diff(load_scenario(RUR), "pause", "pre_coup", as_of="2024-03-20", law=True,
             assume=["congress.notification.RUR-case-1@2024-01-01"])
    assert [r["text"] for r in rows] == d.texts()
    assert [r["kind"] for r in rows] == ["outcome", "outcome", "cap", "cap-allocation"]
    duty, alloc = rows[2], rows[3]
    assert (duty["name"], duty["under"], duty["not_under"], duty["RUR-FY2025"], duty["total"]) == (
        "cap.fmf.RUR-FY2025", "pre_coup", "pause", "21500000.00", "21500000.00")
    # the cap blocks the fire-control upgrade (R25-04) under pre_coup only
    assert {k: alloc[k] for k in ("name", "limit", "allocated_a", "allocated_b", "blocked_a", "blocked_b",
                                  "blocked_items_a", "blocked_items_b")} == {
        "name": "cap.fmf.RUR-FY2025", "limit": "15000000.00", "allocated_a": "700000.00",
        "allocated_b": "14700000.00", "blocked_a": "0.00", "blocked_b": "7500000.00", "blocked_items_a": "",
        "blocked_items_b": "R25-04"}
    # amounts of the outcome rows: each row's total is its programs' sum
    for r in rows[:3]:
        assert sum(Decimal(r[p]) for p in ("RUR-FY2024", "RUR-FY2025")) == Decimal(r["total"])


def test_diff_csv_has_the_notifications_owed(capsys: pytest.CaptureFixture[str]) -> None:
    from tranche import diff, load_scenario

    code, out, _ = run(capsys, "diff", RUR, "record", "restored", "--with-law", "--as-of", "2024-05-01",
                       "--format", "csv")
    assert code == 0
    rows = _csv(out)
    d = diff(load_scenario(RUR), "record", "restored", as_of="2024-05-01", law=True)
    notes = [r for r in rows if r["kind"] == "notification"]
    assert [r["text"] for r in notes] == [st.text for st in d.duties if st.kind == "notification"] != []
    assert {(r["name"], r["under"]) for r in notes} == {("notify.aeca36b.mde", "restored")}
    assert len(rows) == len(d.texts())


def test_diff_table_and_json_carry_every_statement(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *RUR_DIFF, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert [len(data["statements"]), len(data["duties"]), len(data["caps"])] == [2, 1, 1]
    code, table, _ = run(capsys, *RUR_DIFF)
    assert code == 0
    flat = " ".join(table.split())
    assert "notifications and caps (the law, on final decisions):" in flat
    assert "count against cap `cap.fmf.RUR-FY2025`" in flat
    assert "under `pre_coup` 14,700,000.00 allocated, blocks R25-04 (7,500,000.00)" in flat


def test_diff_of_a_regime_with_itself_is_empty(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", PERU, "full", "full")
    assert code == 0 and "no change" in out
    code, out, _ = run(capsys, "diff", PERU, "full", "full", "-f", "json")
    assert json.loads(out) == {"a": "full", "b": "full", "statements": []}


def test_diff_unknown_regime_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", PERU, "limited", "recomended")
    assert code == 1
    assert "unknown regime `recomended`" in err and "did you mean `recommended`" in err


def test_diff_timeline_needs_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", PERU, "limited", "ball-approved")
    assert code == 1
    assert "`ball-approved` is a timeline" in err and "--as-of" in err
    code, out, _ = run(capsys, "diff", PERU, "record", "ball-approved", "--as-of", "1962-10-10")
    assert code == 0 and "record (limited)" in out and "ball-approved (interim)" in out


def test_diff_bad_date_and_unknown_fact(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", PERU, "limited", "full", "--as-of", "1962-13-01")
    assert code == 1 and "not a date" in err
    code, _, err = run(capsys, "diff", PERU, "limited", "full", "-a", "congress.appropriation.FY1964")
    assert code == 1 and "unknown fact" in err and "did you mean" in err


def test_diff_json_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--error-format", "json", "diff", PERU, "limited", "nope")
    assert code == 1
    data = json.loads(err)
    assert data["ok"] is False and data["code"] == "not-found"


def test_lint_peru(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", PERU, "--regime", "full", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and not data["errors"]
    (is_conflict,) = [w for w in data["warnings"] if "internal_security" in w["message"]]
    assert is_conflict["code"] == "law-conflict" and is_conflict["file"].endswith("regimes.yaml")
    assert "presidential_determination.internal_security.PER" in is_conflict["message"]
    assert "mdaa.amendment.PER" in is_conflict["message"] and is_conflict["help"]


def test_lint_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", PERU)
    assert code == 0
    assert "law-conflict" in out and "rule-redundant" in out and "0 errors" in out
    code, out, _ = run(capsys, "lint", MINI)
    assert code == 0 and "[waiver.AAA]" in out  # user text is not read as markup


def test_lint_on_a_broken_scenario_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    regimes = root / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace("category: spares", "category: spare"))
    code, _, err = run(capsys, "lint", str(root))
    assert code == 1 and "did you mean `spares`?" in err
    code, out, _ = run(capsys, "lint", str(root), "-f", "json")
    assert code == 1 and json.loads(out)["ok"] is False


def test_lint_finds_shadowed_rules_with_their_location(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    regimes = root / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace("""      - id: closed.trucks""", """      - id: closed.no_grants
        when:
          channel: grant
        effect: forbid
        sources: [s1]
      - id: closed.trucks"""))
    code, out, _ = run(capsys, "lint", str(root), "-f", "json")
    assert code == 0
    shadowed = [w for w in json.loads(out)["warnings"] if w["code"] == "rule-shadowed"]
    assert len(shadowed) == 1
    assert "`closed.spares`" in shadowed[0]["message"] and "`closed.no_grants` (forbid)" in shadowed[0]["message"]
    assert shadowed[0]["line"] == 7 and shadowed[0]["file"].endswith("regimes.yaml")


def test_lint_unknown_regime(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lint", PERU, "-r", "ful")
    assert code == 1 and "did you mean `full`?" in err


def test_bare_diff_states_the_memo_steps_and_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    """The check of issue 5: `tranche diff scenarios/peru-1962 limited recommended` is steps 1-3."""
    code, out, _ = run(capsys, "diff", PERU, "limited", "recommended", "--format", "json")
    assert code == 0
    statements = json.loads(out)["statements"]
    assert [(s["text"].split(" ", 1)[0], s["from"], s["to"]) for s in statements] == [
        ("sale", "review", "permitted"), ("grant", "prohibited", "permitted"), ("grant", "prohibited", "review")]
    assert statements[0]["impact"] == {"PURCHASES": "900000.00"}


STRICT = """  - id: strict
    default: prohibited
    rules:
      - id: strict.spares
        when:
          channel: grant
          category: spares
        effect: permit
        sources: [s1]
      - id: strict.trucks
        when:
          category: end_items
          account: FMF
        unless:
          flags: [secret]
        effect: review
        criterion: vital national interest
        sources: [s1]
timelines:"""


def test_diff_reports_a_change_of_review_criterion(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`closed` and `strict` differ only in the criterion of their review rule (was: "no change")."""
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    regimes = root / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace("timelines:", STRICT))
    code, out, _ = run(capsys, "diff", str(root), "closed", "strict")
    assert code == 0 and "no change" not in out
    words = " ".join(out.split())
    assert "review (urgent necessity) →" in words and "review (vital" in words and "150.00" in words
    code, out, _ = run(capsys, "diff", str(root), "closed", "strict", "-f", "json")
    (st,) = json.loads(out)["statements"]
    # I2 (trucks, FMF, 150.00; pipeline.csv) is the one item reviewed under both
    assert (st["change"], st["from"], st["to"], st["criterion"], st["impact"]) == (
        "criterion", "review", "review", {"from": "urgent necessity", "to": "vital national interest"},
        {"P1": "150.00"})
    code, out, _ = run(capsys, "diff", str(root), "closed", "strict", "-f", "csv")
    assert out.splitlines()[1].startswith("criterion,review,review,urgent necessity,vital national interest,")
    code, out, _ = run(capsys, "diff", str(root), "strict", "closed", "--with-law", "-f", "json")
    assert [s["criterion"] for s in json.loads(out)["statements"]] == [
        {"from": "vital national interest", "to": "urgent necessity"}]


def _mini(tmp_path: Path, regimes: str | None = None, facts: str | None = None) -> str:
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    (root / "tests.yaml").unlink()  # its tests name the fixture's rules
    if regimes is not None:
        (root / "regimes.yaml").write_text(regimes)
    if facts is not None:
        (root / "facts.yaml").write_text(facts)
    return str(root)


def _lint(capsys: pytest.CaptureFixture[str], root: str, *args: str) -> list[dict]:
    code, out, _ = run(capsys, "lint", root, "-f", "json", *args)
    assert code == 0
    return [w for w in json.loads(out)["warnings"] if w["code"] in ("law-conflict", "rule-redundant")]


OPEN_WITH_A_RULE = """regimes:
  - id: open
    default: permitted
    sources: [s1]
    rules:
      - id: open.spares
        when:
          channel: grant
          category: spares
        effect: permit
        sources: [s1]
timelines:
  - id: record
    recipient: AAA
    record: true
    entries:
      - regime: open
        from: {date: 2000-01-01}
"""


def test_law_conflict_blames_the_rule_that_decides(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Was: "regime `open` permits any request with secret (1 item, 50.00) ..." located at `open.spares`
    (line 6), which cannot match I3 (a sale of jets: pipeline.csv); the default permits it."""
    found = [w for w in _lint(capsys, _mini(tmp_path, OPEN_WITH_A_RULE)) if w["code"] == "law-conflict"]
    by_line = {w["line"]: w for w in found}
    assert set(by_line) == {2, 6}  # the regime (its default) and the rule
    assert "(1 item, 50.00)" in by_line[2]["message"] and "default decides them" in by_line[2]["help"]
    assert "grant of spares with secret (no item in the pipeline)" in by_line[6]["message"]
    assert by_line[6]["help"].endswith("to its rule `open.spares`")


OPEN_ONLY_OUTSIDE = OPEN_WITH_A_RULE.replace("""        when:
          channel: grant
          category: spares
        effect: permit""", """        when:
          category: [spares, end_items]
        effect: forbid""")


def test_law_conflict_only_for_requests_a_scenario_can_hold(capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    """Was: "regime `open` permits any channel of a category outside the taxonomy with secret": `check`
    refuses any item whose category is under no taxonomy node."""
    assert _lint(capsys, _mini(tmp_path, OPEN_ONLY_OUTSIDE)) == []


DATED_WAIVER = """facts:
  - id: coup.AAA
    date: 2001-01-01
    sources: [s1]
  - id: waiver.AAA
    kind: determination
    date: 2001-03-01
    sources: [s1]
"""


def test_law_conflict_counts_facts_that_hold(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Was: "the law blocks them without `waiver.AAA`" although the waiver holds from 2001-03-01."""
    root = _mini(tmp_path, facts=DATED_WAIVER)
    assert [w for w in _lint(capsys, root) if "waiver.AAA" in w["message"]] == []  # today: it holds
    assert [w for w in _lint(capsys, root, "--as-of", "2001-06-01") if "waiver.AAA" in w["message"]] == []
    before = [w for w in _lint(capsys, root, "--as-of", "2001-02-01") if "waiver.AAA" in w["message"]]
    assert before and all(w["code"] == "law-conflict" for w in before)


REVIEW_ON_TWO_CRITERIA = """regimes:
  - id: closed
    default: review
    criterion: interagency review
    sources: [s1]
    rules:
      - id: closed.end_items
        when:
          category: end_items
        effect: review
        criterion: urgent necessity
        sources: [s1]
      - id: closed.trucks
        when:
          category: end_items.trucks
        effect: review
        criterion: urgent necessity
        sources: [s1]
timelines:
  - id: record
    recipient: AAA
    record: true
    entries:
      - regime: closed
        from: {date: 2000-01-01}
"""


def test_a_rule_that_sets_the_criterion_is_not_redundant(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Was: `closed.end_items` "never changes an outcome ... deleting it changes no outcome"; deleting it
    changes the criterion of I2 and I3 from "urgent necessity" to "interagency review"."""
    found = [w for w in _lint(capsys, _mini(tmp_path, REVIEW_ON_TWO_CRITERIA)) if w["code"] == "rule-redundant"]
    assert [w["message"].split("rule `")[1].split("`")[0] for w in found] == ["closed.trucks"]
    assert "no review criterion" in found[0]["help"] and "version" in found[0]["help"]
