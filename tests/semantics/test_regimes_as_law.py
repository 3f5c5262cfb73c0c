"""Fact-triggered law, holds and waiting periods: every evaluator path agrees, and contract 6 is enforced.

The fixture `tests/fixtures/triggered` holds an illustrative coup restriction in
the law (from a trigger fact), an exemption, a hold lifted by a fact with a
partial lift, and a rule waiting 15 days after a notification.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

import tranche
from tranche.compiler import bulk
from tranche.language.values import format_set

from ..helpers import run

FIXTURE = Path(__file__).parent.parent / "fixtures" / "triggered"
DATES = [dt.date(2000, 6, 1), dt.date(2001, 6, 1), dt.date(2001, 6, 4), dt.date(2001, 6, 5)]
WHAT_IFS: list[list[str]] = [[], ["progress.AAA"], ["helicopters.cleared"], ["notice.congress.AAA@2001-05-20"],
                             ["waiver.training.AAA", "notice.congress.AAA@2001-05-20"],
                             ["waiver.training.AAA", "waiver.spares.AAA", "notice.congress.AAA@2001-05-20"]]


def test_the_fixture_policy_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", str(FIXTURE))
    assert code == 0 and "0 failed" in out


@pytest.mark.parametrize("assume", WHAT_IFS, ids=lambda a: ",".join(a) or "record")
def test_bulk_agrees_with_decide(tmp_path: Path, assume: list[str]) -> None:
    s = tranche.load_scenario(FIXTURE)
    items = tmp_path / "items.csv"
    items.write_text("id,recipient,program,channel,category,amount,flags\n" + "".join(
        f'{i.id},{i.recipient},{i.program},{i.channel},{i.category},{i.amount},"{format_set(i.flags)}"\n'
        for i in s.items))
    out = tmp_path / "out.parquet"
    bulk(s, items, out, DATES, [None], assume)
    got = {(r[0], r[1]): (r[2], tuple(r[3].split(",")) if r[3] else ())
           for r in duckdb.sql(f"SELECT id, as_of, outcome, rules FROM read_parquet('{out}')").fetchall()}
    for day in DATES:
        ev = tranche.evaluator(s, day, assume)
        for item in s.items:
            d = ev.decide(item)
            assert got[(item.id, day)] == (d.outcome.value, d.rules), (item.id, day, assume)


def test_a_hold_names_what_would_lift_it() -> None:
    s = tranche.load_scenario(FIXTURE)
    d = tranche.decide(s, "I3", "2001-06-01")
    assert d.outcome.value == "prohibited" and d.lifted_by == ("progress.AAA",)
    assert tranche.decide(s, "I3", "2001-06-01", assume=["progress.AAA"]).outcome.value == "permitted"


def test_a_waiting_period_is_computed_from_the_notification() -> None:
    s = tranche.load_scenario(FIXTURE)
    d = tranche.decide(s, "I5", "2001-06-01", assume=["notice.congress.AAA@2001-05-20"])
    assert d.outcome.value == "blocked" and d.missing_facts == ("notice.period.AAA",)
    assert d.to_dict()["facts"] == [{"fact": "notice.period.AAA", "holds": False, "assumed": False,
                                     "from": "2001-06-04"}]  # 2001-05-20 + 15 days


def test_law_not_yet_triggered_names_its_trigger() -> None:
    s = tranche.load_scenario(FIXTURE)
    d = tranche.decide(s, "I1", "2000-06-01")
    assert d.outcome.value == "permitted"
    assert ("coup.AAA", False, False) in d.facts_checked()


def _broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    dst = tmp_path / "s"
    shutil.copytree(FIXTURE, dst)
    text = (dst / file).read_text()
    assert old in text
    (dst / file).write_text(text.replace(old, new, 1))
    return dst


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("facts.yaml", "    role: trigger\n", "", "the precondition `coup.AAA` would bring the rule into force"),
    ("law.yaml", "    unless:\n      flags: [humanitarian]\n", "    unless:\n      facts: [coup.AAA]\n",
     "the trigger `coup.AAA` would lift the rule"),
    ("regimes.yaml", "        effect: forbid\n        lifted_by", "        effect: permit\n        lifted_by",
     "only a `forbid` rule can be a hold"),
    ("regimes.yaml", "  - id: open\n    default: permitted", "  - id: open\n    default: prohibited\n    rules:\n"
     "      - id: open.x\n        when: {facts: [coup.AAA]}\n        effect: permit\n        sources: [s1]\n  - id: open2\n"
     "    default: permitted", "would bring into force a `permit` rule under a `prohibited` default"),
])
def test_contract_six_is_enforced_by_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, old: str,
                                           new: str, message: str) -> None:
    folder = _broken(tmp_path, file, old, new)
    code, _, err = run(capsys, "check", str(folder))
    assert code == 1
    assert " ".join(message.split()) in " ".join(err.split()), err


def test_a_waiver_is_named_with_its_scope_and_composes() -> None:
    s = tranche.load_scenario(FIXTURE)
    what_if = ["waiver.training.AAA", "notice.congress.AAA@2001-05-20"]
    early = tranche.decide(s, "I1", "2001-06-03", assume=what_if)  # effective from 2001-05-20 + 15 days = 06-04
    assert early.outcome.value == "prohibited" and early.waivers() == []
    d = tranche.decide(s, "I1", "2001-06-05", assume=what_if)
    assert d.outcome.value == "permitted" and d.waivers() == [("law.coup", "waiver.training.AAA")]
    assert d.to_dict()["waivers"] == [{"rule": "law.coup", "waiver": "waiver.training.AAA"}]
    assert tranche.decide(s, "I6", "2001-06-05", assume=what_if).outcome.value == "prohibited"  # out of scope
    both = tranche.decide(s, "I6", "2001-06-05", assume=[*what_if, "waiver.spares.AAA"])
    assert both.outcome.value == "permitted" and both.waivers() == [("law.coup", "waiver.spares.AAA")]
    lift = s.facts["waiver.training.AAA"].lifts[0]
    assert lift.rules == ("law.coup",) and lift.facts == ("waiver.training.AAA", "notice.congress.AAA.after-15d")


def test_a_trigger_cannot_lift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _broken(tmp_path, "facts.yaml", "    title: waiver for spares\n    role: waiver",
                     "    title: waiver for spares\n    role: trigger")
    code, _, err = run(capsys, "check", str(folder))
    assert code == 1 and "a trigger cannot lift rules" in " ".join(err.split())


def test_an_unknown_lifted_rule_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _broken(tmp_path, "facts.yaml", "      - rules: [law.coup]", "      - rules: [law.cop]")
    code, _, err = run(capsys, "check", str(folder))
    assert code == 1 and "unknown rule `law.cop`" in err and "facts.yaml:" in err and "law.coup" in err


def test_decisions_carry_actions_and_notifications() -> None:
    s = tranche.load_scenario(FIXTURE)
    held = tranche.decide(s, "I3", "2001-06-05")  # shipped, held: both actions
    assert [(o.kind, o.name) for o in held.obligations()] == [("action", "stop_release"), ("action", "hold_in_transit")]
    contracted = tranche.decide(s, "I4", "2001-06-05")  # contracted: no hold in transit
    assert [o.name for o in contracted.obligations()] == ["stop_release"]
    notice = ["notice.congress.AAA@2001-05-25", "waiver.spares.AAA"]
    waiting = tranche.decide(s, "I6", "2001-06-05", assume=notice)  # 2001-05-25 + 15 days = 2001-06-09
    assert waiting.outcome.value == "blocked"
    assert [o.to_dict() for o in waiting.obligations()] == [
        {"kind": "notification", "name": "notify.large_grant", "by": "the appropriations committees",
         "status": "waiting until 2001-06-09"}]
    cleared = tranche.decide(s, "I6", "2001-06-09", assume=notice)
    assert cleared.outcome.value == "permitted" and cleared.obligations()[0].status == "cleared since 2001-06-09"


def test_compare_totals_obligations_and_any_attribute() -> None:
    s = tranche.load_scenario(FIXTURE)
    c = tranche.compare(s, dt.date(2001, 6, 5), ["record"], ["notice.congress.AAA@2001-05-25"], by="stage")
    opt = c.options[0]
    amounts = {i.id: i.amount for i in s.items}
    stops = next(o for o in opt.obligations if o.name == "stop_release")
    assert stops.amount == amounts["I3"] + amounts["I4"] and stops.items == 2
    groups = {g.program: g.total for g in opt.groups}
    assert groups == {"(none)": sum(amounts[i] for i in ("I1", "I2", "I5", "I6")), "contracted": amounts["I4"],
                      "shipped": amounts["I3"]}
    assert opt.to_dict()["groups"][0]["stage"] == "(none)"


def test_aggregate_policy_tests_state_the_memo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Expected `compare` figures (the record's: $6.1M of $9M) and `diff` statements, as tests.yaml data."""
    folder = tmp_path / "peru"
    shutil.copytree(Path(__file__).parent.parent.parent / "scenarios" / "peru-1962", folder)
    with (folder / "tests.yaml").open("a") as f:
        f.write("""
aggregates:
  - name: the limited resumption releases $6.1M of the $9M FY 1962 and earlier program
    as_of: 1962-10-03
    compare: {option: limited, row: FY1962, expect: {total: 9000000.00, permitted: 6100000.00}}
  - name: and $1.5M of the $13.8M FY 1963 program, if approved
    as_of: 1962-10-03
    assume: [congress.appropriation.FY1963]
    compare: {option: limited, row: FY1963, expect: {total: 13800000.00, permitted: 1500000.00}}
  - name: the memo's first step puts purchases on a normal basis
    as_of: 1962-10-03
    diff: {a: limited, b: recommended, includes: ["sale of any category"]}
  - name: a wrong expectation fails, naming the figure
    as_of: 1962-10-03
    compare: {option: limited, row: FY1962, expect: {permitted: 6000000.00}}
""")
    code, out, _ = run(capsys, "test", str(folder))
    assert code == 2
    text = " ".join(out.split())
    assert "PASS the limited resumption releases $6.1M" in text and "PASS and $1.5M" in text
    assert "PASS the memo's first step" in text
    assert "FAIL a wrong expectation fails" in text and "expected permitted 6,000,000.00, got 6,100,000.00" in text
