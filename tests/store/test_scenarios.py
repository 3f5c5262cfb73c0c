"""Loading scenarios: one transaction, read back equal, versions immutable, facts merged."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import tranche.store as store
from tranche.engine import Evaluator, run_tests
from tranche.errors import PermissionDenied, StoreError
from tranche.language import Scenario, load_scenario
from tranche.store import Database, codec
from tranche.store.tables import regime_versions

from .conftest import MINI, PERU, ROOT
from .helpers import raw, snapshot

DATES = [dt.date(1961, 8, 1), dt.date(1962, 7, 20), dt.date(1962, 10, 3), dt.date(1962, 10, 10),
         dt.date(1962, 11, 30), dt.date(2000, 6, 1), dt.date(2001, 6, 1)]


def decisions(s: Scenario) -> list[tuple[str, str, str, str, tuple[str, ...], str]]:
    out = []
    for day in DATES:
        for option in [None, *s.regimes, *s.timelines]:
            try:
                ev = Evaluator(s, day, [f for f in s.facts if f.startswith("congress")], option)
                for item in s.items:
                    d = ev.decide(item)
                    out.append((str(day), str(option), item.id, d.outcome.value, d.rules, d.regime_version))
            except Exception as exc:  # no regime in force: the same error both ways
                out.append((str(day), str(option), "", type(exc).__name__, (), ""))
    return out


@pytest.mark.parametrize("which", ["peru", "mini", "triggered", "burkina-faso-2022"])
def test_read_back_equals_loaded(db: Database, which: str, peru: Scenario, mini: Scenario) -> None:
    """Every construct survives the store: fact conditions, holds, waivers, notifications, actions, caps, tests."""
    from tranche.analysis.testing import run_aggregates

    others = {"triggered": ROOT / "tests" / "fixtures" / "triggered",
              "burkina-faso-2022": ROOT / "scenarios" / "burkina-faso-2022"}
    s = peru if which == "peru" else mini if which == "mini" else load_scenario(others[which])
    store.load(db, s, "abe")
    back = store.read_scenario(db, s.id)
    assert codec.scenario_doc(back) == codec.scenario_doc(s)
    assert back.items == s.items and back.taxonomy == s.taxonomy and back.facts == s.facts
    assert back.law.version == s.law.version
    assert {r: x.version for r, x in back.regimes.items()} == {r: x.version for r, x in s.regimes.items()}
    assert decisions(back) == decisions(s)
    assert [r.passed for r in run_tests(back)] == [r.passed for r in run_tests(s)]
    assert all(r.passed for r in run_tests(back))
    assert back.aggregates == s.aggregates and all(a.passed for a in run_aggregates(back))
    assert back.law.caps == s.law.caps and back.law.notifications == s.law.notifications


def test_reloading_the_same_content_changes_nothing(db: Database, peru: Scenario) -> None:
    assert not store.load(db, peru, "abe").unchanged
    before = snapshot(db)
    again = store.load(db, load_scenario(PERU), "ann")  # no permission needed for a no-op
    assert again.unchanged and again.revision == 1
    assert snapshot(db) == before


def changed_copy(tmp_path: Path, old: str, new: str, file: str = "regimes.yaml", src: Path = MINI) -> Scenario:
    folder = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
    shutil.copytree(src, folder)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return load_scenario(folder)


def test_a_changed_regime_gets_a_new_immutable_version(db: Database, mini: Scenario, tmp_path: Path) -> None:
    store.load(db, mini, "abe")
    v1 = mini.regimes["closed"].version
    changed = changed_copy(tmp_path, "criterion: urgent necessity", "criterion: urgent and compelling necessity")
    v2 = changed.regimes["closed"].version
    assert v1 != v2
    report = store.load(db, changed, "abe")
    assert ("closed", v2, 2, "changed") in report.regimes and ("open", mini.regimes["open"].version, 1,
                                                               "unchanged") in report.regimes
    assert not report.law_new and report.revision == 2
    rows = [(v.name, v.number, v.version, v.current) for v in store.versions(db) if v.name == "closed"]
    assert rows == [("closed", 1, v1, False), ("closed", 2, v2, True)]
    # decisions against the database name the version they used
    back = store.read_scenario(db)
    d = Evaluator(back, dt.date(2001, 6, 1), (), None).decide_id("I2")
    assert (d.regime_id, d.regime_version) == ("closed", v2)
    acts = [e.event() for e in store.entries(db, action="regime-activated")]
    assert [(e.regime, e.version, e.previous_version) for e in acts if e is not None][-1] == ("closed", v2, v1)  # type: ignore[attr-defined]
    # going back activates the old version again: versions are never rewritten
    store.load(db, mini, "abe")
    assert [(v.number, v.current) for v in store.versions(db) if v.name == "closed"] == [(1, True), (2, False)]


def test_a_changed_law_gets_a_new_version(db: Database, mini: Scenario, tmp_path: Path) -> None:
    store.load(db, mini, "abe")
    changed = changed_copy(tmp_path, "require: [waiver.AAA]", "require: [waiver.AAA, coup.AAA]", "law.yaml")
    report = store.load(db, changed, "abe")
    assert report.law_new and report.law_version == changed.law.version != mini.law.version
    laws = [(v.number, v.current) for v in store.versions(db) if v.kind == "law"]
    assert laws == [(1, False), (2, True)]


def test_versions_are_checked_on_read(db: Database, mini: Scenario) -> None:
    store.load(db, mini, "abe")
    raw(db, f"UPDATE {regime_versions.name} SET document = replace(document, 'urgent necessity', 'whim')")
    with pytest.raises(StoreError, match="was altered in the database"):
        store.read_scenario(db)


def test_load_needs_the_approver_role_and_changes_nothing_when_refused(db: Database, mini: Scenario) -> None:
    before = snapshot(db)
    for who in ("rita", "ann", "nobody"):
        with pytest.raises(PermissionDenied):
            store.load(db, mini, who)
    assert snapshot(db) == before


def test_a_failed_load_leaves_the_database_as_it_was(db: Database, mini: Scenario, peru: Scenario) -> None:
    store.load(db, mini, "abe")
    before = snapshot(db)

    def boom(what: str, done: int, total: int) -> None:
        raise StoreError("disk full (simulated)")

    with pytest.raises(StoreError, match="simulated"):
        store.load(db, peru, "abe", on_progress=boom)
    assert snapshot(db) == before
    assert store.verify(db).ok


def test_facts_asserted_survive_an_unchanged_reload_and_files_win_when_they_change(
        db: Database, mini: Scenario, tmp_path: Path) -> None:
    store.load(db, mini, "abe")
    store.assert_fact(db, "waiver.AAA", dt.date(2000, 3, 1), "rita", "s1")
    # a reload whose facts.yaml did not change keeps the assertion (other files changed)
    changed = changed_copy(tmp_path, "title: Minimal scenario", "title: Minimal scenario, retitled", "scenario.yaml")
    store.load(db, changed, "abe")
    fact = {f.id: f for f in store.list_facts(db)}["waiver.AAA"]
    assert (fact.date, fact.asserted_by) == (dt.date(2000, 3, 1), "rita")
    assert store.read_scenario(db).facts["waiver.AAA"].holds_on(dt.date(2000, 6, 1))
    # a reload whose facts.yaml changed that fact takes the file's dates
    dated = changed_copy(tmp_path, "  - id: waiver.AAA\n", "  - id: waiver.AAA\n    date: 2000-05-01\n", "facts.yaml")
    report = store.load(db, dated, "abe")
    assert report.facts_changed == ["waiver.AAA"]
    fact = {f.id: f for f in store.list_facts(db)}["waiver.AAA"]
    assert (fact.date, fact.asserted_by) == (dt.date(2000, 5, 1), "abe")


def test_two_scenarios_live_side_by_side(db: Database, mini: Scenario, peru: Scenario) -> None:
    store.load(db, mini, "abe")
    store.load(db, peru, "abe")
    assert [i.id for i in store.list_scenarios(db)] == ["mini", "peru-1962"]
    with pytest.raises(Exception, match="holds 2 scenarios"):
        store.read_scenario(db)
    assert store.read_scenario(db, "mini").id == "mini"
