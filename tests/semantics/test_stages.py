"""Stages and grandfathering: a line's stage dates, tests against the date a rule took effect, in every path.

The fixture `tests/fixtures/stages` holds an illustrative appropriations act that bars grant funds
not obligated before it took effect, a coup restriction that does not recall what was shipped
before the determination, a suspension that continues existing contracts and makes no new
offers, and the actions each orders.  Expected outcomes come from the fixture's own rules read
by hand (its tests.yaml), the property below from the definition of grandfathering.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tranche
from tranche.analysis import diff, lint
from tranche.compiler import bulk
from tranche.engine import Evaluator, facts_at
from tranche.engine.explain import explain_lines
from tranche.language.scenario import Anchor, Condition, Effect, LineItem, Predicate, Rule, Scenario
from tranche.store import codec

from ..helpers import run
from ..strategies import AS_OF, DAYS, FACTS, STAGES, scenarios

FIXTURE = Path(__file__).parent.parent / "fixtures" / "stages"
DATES = [dt.date(2011, 12, 15), dt.date(2012, 2, 20), dt.date(2012, 3, 22), dt.date(2012, 6, 1)]
WHAT_IFS: list[list[str]] = [[], ["coup.BBB@2012-02-01"], ["coup.BBB@2012-04-10"]]
COLUMNS = ("id", "recipient", "program", "channel", "category", "amount", "offered", "contracted", "shipped",
           "delivered", "obligated")


def test_the_fixture_policy_tests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test", str(FIXTURE))
    assert code == 0 and "0 failed" in out


def test_the_explanation_names_the_grandfathering() -> None:
    s = tranche.load_scenario(FIXTURE)
    d = tranche.decide(s, "B1", "2012-06-01")
    text = "\n".join(explain_lines(d, s))
    assert "exempt from rule `law.coup`: shipped 2012-02-10, before the rule took effect on 2012-03-22" in text
    assert "exempt from rule `law.act.new_obligations`: obligated 2011-10-01, before the rule took effect on " \
           "2012-01-01" in text
    assert "stages: contracted 2011-11-15, shipped 2012-02-10, delivered 2012-04-01, obligated 2011-10-01" in text
    stages = d.to_dict()["stages"]
    assert {"rule": "law.coup", "stage": "shipped", "date": "2012-02-10", "op": "before", "anchor": "effective",
            "anchor_date": "2012-03-22", "exempt": True} in stages
    # a rule whose `when` tests a stage says so where it applies
    kept = explain_lines(tranche.decide(s, "B4", "2012-06-01"), s)
    assert "rule `suspension.existing_contracts` applies: contracted 2012-01-10, before the rule took effect on " \
           "2012-03-22" in kept
    # a line never offered is a new offer
    new = explain_lines(tranche.decide(s, "B6", "2012-06-01"), s)
    assert "rule `suspension.no_new_offers` applies: not offered before the rule took effect on 2012-03-22" in new


def test_the_effective_date_moves_with_the_trigger() -> None:
    """`effective` is the trigger's date: a coup dated earlier grandfathers less, one dated later more."""
    s = tranche.load_scenario(FIXTURE)
    day = dt.date(2012, 6, 1)
    record = tranche.decide(s, "B2", day)  # shipped 2012-04-10, after the coup of 2012-03-22
    later = tranche.decide(s, "B2", day, assume=["coup.BBB@2012-04-10"])  # the record's date stands: it runs in
    assert record.outcome.value == later.outcome.value == "prohibited"
    assert tranche.decide(s, "B1", day, assume=["coup.BBB@2012-02-01"]).outcome.value == "prohibited"


@pytest.mark.parametrize("assume", WHAT_IFS, ids=lambda a: ",".join(a) or "record")
@pytest.mark.parametrize("form", ["lookup", "case"])
def test_bulk_agrees_with_decide(tmp_path: Path, assume: list[str], form: str) -> None:
    s = tranche.load_scenario(FIXTURE)
    out = tmp_path / "out.parquet"
    bulk(s, FIXTURE / "pipeline.csv", out, DATES, [None, "suspension", "normal"], assume, form=form)
    got = {(r[0], r[1], r[2]): (r[3], tuple(r[4].split(",")) if r[4] else ())
           for r in duckdb.sql(f"SELECT id, option, as_of, outcome, rules FROM read_parquet('{out}')").fetchall()}
    for option in (None, "suspension", "normal"):
        for day in DATES:
            ev = tranche.evaluator(s, day, assume, option)
            for item in s.items:
                d = ev.decide(item)
                assert got[(item.id, option, day)] == (d.outcome.value, d.rules), (item.id, option, day, assume)


def test_bulk_reads_stage_dates_as_text_too(tmp_path: Path) -> None:
    """A file whose stage columns are text (all-varchar CSV, or empty cells) decides the same."""
    s = tranche.load_scenario(FIXTURE)
    text = tmp_path / "items.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{FIXTURE / 'pipeline.csv'}', all_varchar = true)) TO '{text}'")
    out = tmp_path / "out.parquet"
    bulk(s, text, out, [dt.date(2012, 6, 1)], [None], ())
    got = dict(duckdb.sql(f"SELECT id, outcome FROM read_parquet('{out}')").fetchall())
    ev = tranche.evaluator(s, "2012-06-01")
    assert got == {i.id: ev.decide(i).outcome.value for i in s.items}


@pytest.mark.parametrize("law", [False, True])
@pytest.mark.parametrize(("a", "b"), [("normal", "suspension"), ("record", "suspension"), ("normal", "record")])
def test_diff_at_a_date_is_exact(a: str, b: str, law: bool) -> None:
    """At a date the anchors are fixed: an item is in a statement iff its outcome changes, as stated."""
    s = tranche.load_scenario(FIXTURE)
    for day in DATES[1:]:
        for assume in WHAT_IFS:
            d = diff(s, a, b, as_of=day, assume=assume, law=law)
            ea, eb = Evaluator(s, day, assume, a), Evaluator(s, day, assume, b)
            state = facts_at(s, day, assume)
            for item in s.items:
                da, db = ea.decide(item), eb.decide(item)
                oa, ob = (da.outcome, db.outcome) if law else (da.regime.outcome, db.regime.outcome)
                ca, cb = (da.criterion, db.criterion) if law else (da.regime.criterion, db.regime.criterion)
                found = d.statements_for(item, state)
                changed = oa != ob or (oa is ob and oa.value == "review" and ca != cb)
                assert bool(found) == changed, (item.id, day, assume, [x.text for x in found])
                for x in found:
                    assert (x.from_, x.to) == (oa, ob), x.text
            assert all(str(dt.date.max) not in x.text for x in d.statements)


def test_diff_without_a_date_names_the_anchor() -> None:
    s = tranche.load_scenario(FIXTURE)
    texts = [x.text for x in diff(s, "normal", "suspension").statements]
    assert any("`offered` is on or after the date regime `suspension` took effect" in t for t in texts), texts


def test_lint_reads_stage_tests() -> None:
    s = tranche.load_scenario(FIXTURE)
    found = lint(s, as_of=dt.date(2012, 6, 1))
    assert all(x.severity == "warning" for x in found)
    assert not [x for x in found if x.code in ("rule-matches-nothing", "rule-shadowed", "rule-redundant")], found
    # the conflicts read the act's stage test: grant end items obligated since it took effect, or never
    texts = [c.describe() for c in tranche.conflicts(s, "normal", holding_on=dt.date(2012, 6, 1))]
    assert any("end_items with `obligated` on or after 2012-01-01 or no `obligated` date" in t for t in texts)
    # ... which lint does not report: `normal` says yes to them by its default, and the law forbids them (the law
    # decides them, whatever the regime's default)
    assert not [x for x in found if x.code == "law-conflict"]


def test_rules_and_items_with_stages_survive_the_store() -> None:
    s = tranche.load_scenario(FIXTURE)
    types = codec.types_of(s.attributes)
    for rule in s.rules():
        assert codec.rule_from_doc(codec.rule_doc(rule), types) == rule
    for item in s.items:
        assert codec.item_from_doc(codec.item_doc(item), types) == item
    anchored = Rule("r", "law", Effect.FORBID, Condition(), (Condition((
        Predicate("shipped", "by", (Anchor("fact", "coup.BBB"),)),)),))
    assert codec.rule_from_doc(codec.rule_doc(anchored), types) == anchored


# -- located errors -------------------------------------------------------------------------------------------


def _edit(tmp_path: Path, file: str, old: str, new: str) -> Path:
    dst = tmp_path / "s"
    shutil.copytree(FIXTURE, dst)
    text = (dst / file).read_text()
    assert old in text
    (dst / file).write_text(text.replace(old, new, 1))
    return dst


@pytest.mark.parametrize(("file", "old", "new", "wanted"), [
    ("pipeline.csv", "B4,BBB,P12,sale,spares,500.00,2011-09-01", "B4,BBB,P12,sale,spares,500.00,2011-09-31",
     ["pipeline.csv:5:31", "item `B4`: `offered`: `2011-09-31` is not a date", "YYYY-MM-DD",
      "leave the cell empty where the stage was not reached"]),
    ("regimes.yaml", "          contracted: {before: effective}", "          contractd: {before: effective}",
     ["regimes.yaml:14:11", "unknown attribute `contractd`", "did you mean `contracted`?"]),
    ("regimes.yaml", "          contracted: {before: effective}", "          contracted: {before: efective}",
     ["regimes.yaml:14:32", "`contracted`: `efective` is not a date", "did you mean `effective`?"]),
    ("regimes.yaml", "          contracted: {before: effective}", "          contracted: {before: {fact: coup.BB}}",
     ["unknown fact `coup.BB`", "did you mean `coup.BBB`?"]),
    ("regimes.yaml", "          contracted: {before: effective}", "          contracted: {befor: effective}",
     ["`contracted` (date) does not take `befor`", "did you mean `before`"]),
    ("scenario.yaml", "  contracted:\n    type: date", "  contracted:\n    type: enum",
     ["attribute `contracted` is a stage: its type is `date`"]),
    ("law.yaml", "sources: [s1]\nrules:", "sources: [s1]\ncaps:\n  - id: cap.x\n    limit: 10.00\n"
     "    when: {shipped: {before: effective}}\nrules:",
     ["cap `cap.x`: `shipped`: `effective` is the date a rule took effect", "`as_of`"]),
    # contract 6: a trigger's date may grandfather (an exception on `before`), not lift what reached a stage since
    ("law.yaml", "      shipped: {before: effective}", "      shipped: {since: {fact: coup.BBB}}",
     ["the trigger `coup.BBB` would lift the rule"]),
])
def test_errors_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, old: str, new: str,
                            wanted: list[str]) -> None:
    folder = _edit(tmp_path, file, old, new)
    code, _, err = run(capsys, "check", str(folder))
    text = " ".join(err.split())
    assert code == 1
    for w in wanted:
        assert w in text, (w, err)


def test_a_trigger_date_may_grandfather_a_permit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """"Items contracted before the coup continue": a permit rule on a trigger's date is allowed (the trigger's
    holding can only narrow it, which tightens)."""
    folder = _edit(tmp_path, "regimes.yaml", "          contracted: {before: effective}",
                   "          contracted: {before: {fact: coup.BBB}}")
    code, out, err = run(capsys, "test", str(folder))
    assert code == 0, out + err


def test_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _edit(tmp_path, "pipeline.csv", "2011-11-15,2012-02-10,2012-04-01", "2011-11-15,2012-02-10,2012-01-01")
    folder2 = tmp_path / "t"
    shutil.copytree(folder, folder2)
    law = (folder2 / "law.yaml").read_text().replace("    effective: 2012-01-01\n", "", 1)
    (folder2 / "law.yaml").write_text(law)
    code, _, err = run(capsys, "check", str(folder2))
    text = " ".join(err.split())
    assert code == 0
    assert "item `B1`: `delivered` 2012-01-01 is before `shipped` 2012-02-10" in text
    assert "rule `law.act.new_obligations`: compares a stage with `effective`, but the rule has always been in " \
           "force" in text


# -- the property: grandfathering only relaxes ------------------------------------------------------------------


def _without_dates(c: Condition) -> Condition:
    return Condition(tuple(p for p in c.predicates if p.attribute not in STAGES), c.waiver)


@st.composite
def grandfathering(draw: st.DrawFn) -> Scenario:
    """Scenarios whose only stage tests grandfather: an exception for what reached a stage before (or by) an anchor
    on a restriction (a law rule, a regime's `forbid`), `not_before`/`not_by` in a restriction's `when`, or
    `before`/`by` in the `when` of a `permit` without `require`."""
    s = draw(scenarios(n_items=8))
    anchors: list[Any] = [*DAYS, Anchor("effective"), Anchor("as_of"), *(Anchor("fact", f) for f in FACTS)]

    def test(ops: tuple[str, ...]) -> Predicate:
        return Predicate(draw(st.sampled_from(STAGES)), draw(st.sampled_from(ops)), (draw(st.sampled_from(anchors)),))

    def edit(r: Rule) -> Rule:
        when = _without_dates(r.when)
        unless = tuple(u for u in map(_without_dates, r.unless) if u.predicates)
        r = dataclasses.replace(r, when=when, unless=unless)
        restrictive = r.layer == "law" or r.effect is Effect.FORBID
        bottom = r.effect is Effect.PERMIT and not r.require
        kind = draw(st.sampled_from(("none", "exception", "when")))
        if kind == "exception" and restrictive:
            return dataclasses.replace(r, unless=r.unless + (Condition((test(("before", "by")),)),))
        if kind == "when" and restrictive:
            return dataclasses.replace(r, when=Condition(r.when.predicates + (test(("not_before", "not_by")),)))
        if kind == "when" and bottom:
            return dataclasses.replace(r, when=Condition(r.when.predicates + (test(("before", "by")),)))
        return r

    regimes = {k: dataclasses.replace(g, rules=tuple(map(edit, g.rules))) for k, g in s.regimes.items()}
    return dataclasses.replace(s, law=dataclasses.replace(s.law, rules=tuple(map(edit, s.law.rules))), regimes=regimes)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grandfathering(), st.lists(st.sampled_from(FACTS), max_size=2, unique=True))
def test_grandfathering_only_relaxes(s: Scenario, assume: list[str]) -> None:
    """A line that reached a stage earlier (or at all) is never decided more restrictively."""
    ev = Evaluator(s, AS_OF, assume)
    for item in s.items:
        rank = ev.decide(item).outcome.rank
        for stage in STAGES:
            now = item.attrs.get(stage)
            for day in DAYS:
                if now is not None and day >= now:
                    continue
                earlier = dataclasses.replace(item, attrs={**item.attrs, stage: day})
                assert ev.decide(earlier).outcome.rank <= rank, (item, stage, day)


def test_an_item_shows_its_stage_dates_as_iso_text() -> None:
    item = LineItem("i", "AAA", "P1", "grant", "a", Decimal("1.00"), attrs={"shipped": dt.date(2012, 1, 1)})
    assert item.to_dict()["shipped"] == "2012-01-01"


def test_a_regime_in_force_again_keeps_the_date_it_took_effect(tmp_path: Path) -> None:
    """A relief that expires hands back to the suspension: its rules still took effect on the coup, not on the day
    the relief ended (what was offered during the relief is a new offer)."""
    folder = _edit(tmp_path, "regimes.yaml", "      - regime: suspension\n        from: {fact: coup.BBB}\n",
                   "      - regime: suspension\n        from: {fact: coup.BBB}\n      - regime: normal\n"
                   "        from: {date: 2012-04-15}\n        until: 2012-06-01\n")
    s = tranche.load_scenario(folder)
    d = tranche.decide(s, "B5", "2012-06-15")  # offered 2012-05-01, during the relief
    assert d.in_force.regime.id == "suspension" and d.in_force.since == dt.date(2012, 6, 1)
    assert d.outcome.value == "prohibited" and d.rules == ("suspension.no_new_offers",)
    out = tmp_path / "out.parquet"
    bulk(s, FIXTURE / "pipeline.csv", out, [dt.date(2012, 6, 15)], [None], ())
    got = dict(duckdb.sql(f"SELECT id, outcome FROM read_parquet('{out}')").fetchall())
    ev = tranche.evaluator(s, "2012-06-15")
    assert got == {i.id: ev.decide(i).outcome.value for i in s.items} and got["B5"] == "prohibited"
    # the diff reads the timeline the same way; the suspension named as an option takes effect on the decision date,
    # when B5 had been offered already: not a new offer there
    found = [x for x in diff(s, "record", "suspension", as_of="2012-06-15").statements if "B5" in x.items]
    assert [(x.from_.value, x.to.value) for x in found] == [("prohibited", "review")]
