"""Case-by-case review: cases with criteria, roles, separation of duties, optimistic locking under
concurrency, and approvals that count only for the regime version they were given under."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest

import tranche.store as store
from tranche.engine import Evaluator
from tranche.errors import ConflictError, NotFound, PermissionDenied, TrancheError, UsageError
from tranche.language import Outcome, Scenario, load_scenario
from tranche.store import Database
from tranche.store.reviews import review_map

from .conftest import MINI
from .helpers import make_scenario, snapshot

DAY = dt.date(2001, 6, 1)


def the_case(db: Database) -> store.Case:
    (case,) = store.list_cases(db)
    return case


def decide_now(db: Database, item: str, regime: str | None = None) -> Outcome:
    s = store.read_scenario(db)
    ev = Evaluator(s, DAY, (), regime)
    ev.reviews = review_map(ev, store.list_cases(db, status="all"))
    return ev.decide_id(item).outcome


def test_load_opens_a_case_with_its_criterion(db: Database, mini: Scenario) -> None:
    report = store.load(db, mini, "abe")
    case = the_case(db)
    assert report.cases_opened == [case.id]
    assert (case.item, case.regime, case.criterion, case.status, case.requested_by, case.revision) == (
        "I2", "closed", "urgent necessity", "open", "abe", 1)
    assert case.regime_version == mini.regimes["closed"].version
    assert [e.action for e in store.entries(db)][-1] == "case-opened"


def test_approval_permits_and_denial_prohibits_under_that_version(db: Database, mini: Scenario) -> None:
    store.load(db, mini, "abe")
    assert decide_now(db, "I2") is Outcome.REVIEW
    case = store.approve(db, the_case(db).id, "rita", "urgent necessity shown")
    assert (case.status, case.decided_by, case.revision) == ("approved", "rita", 2)
    assert decide_now(db, "I2") is Outcome.PERMITTED
    assert decide_now(db, "I2", "open") is Outcome.PERMITTED  # (open permits it anyway)
    history = store.case_history(db, case.id)
    assert [(h.action, h.actor) for h in history] == [("opened", "abe"), ("approved", "rita")]


def test_denial(db: Database, mini: Scenario) -> None:
    store.load(db, mini, "abe")
    store.deny(db, the_case(db).id, "abe", "no urgency")  # the requester may deny
    assert decide_now(db, "I2") is Outcome.PROHIBITED


def test_roles_and_separation_of_duties(db: Database, mini: Scenario) -> None:
    store.load(db, mini, "abe")
    cid = the_case(db).id
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="`ann` is an analyst; deciding a review case needs the reviewer"):
        store.approve(db, cid, "ann", "ok")
    with pytest.raises(PermissionDenied, match="not a user of this database"):
        store.approve(db, cid, "mallory", "ok")
    with pytest.raises(PermissionDenied, match="`abe` requested case .* and may not approve it"):
        store.approve(db, cid, "abe", "ok")
    with pytest.raises(UsageError, match="needs a justification"):
        store.approve(db, cid, "rita", "  ")
    with pytest.raises(NotFound, match="unknown case `999`"):
        store.approve(db, 999, "rita", "ok")
    with pytest.raises(NotFound, match="unknown case `x1`"):
        store.approve(db, "x1", "rita", "ok")
    assert snapshot(db) == before


def test_requester_of_an_explicit_request_may_not_approve(db: Database, mini: Scenario, tmp_path: Path) -> None:
    store.load(db, mini, "abe")
    store.deny(db, the_case(db).id, "rita", "no")
    with pytest.raises(ConflictError, match="already"):
        store.open_case(db, None, "I2", "closed", "ann", DAY)
    with pytest.raises(UsageError, match="is permitted under `closed`"):
        store.open_case(db, None, "I1", "closed", "ann", DAY)
    with pytest.raises(NotFound, match="unknown regime `clsed`") as exc:
        store.open_case(db, None, "I2", "clsed", "ann", DAY)
    assert exc.value.help == "did you mean `closed`?"


def run_together(*calls: object) -> list[object]:
    """Run the calls in threads released at the same instant; each result or exception, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(i: int, call: object) -> None:
        barrier.wait()
        try:
            results[i] = call()  # type: ignore[operator]
        except TrancheError as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("seen_revision", [True, False], ids=["both-saw-revision-1", "race"])
def test_concurrent_decisions_exactly_one_wins(db: Database, tmp_path: Path, seen_revision: bool) -> None:
    store.load(db, load_scenario(make_scenario(tmp_path / "s", "conc", 6, "end_items.trucks")), "abe")
    cases = store.list_cases(db)
    assert len(cases) == 6
    for case in cases:
        rev = case.revision if seen_revision else None
        results = run_together(
            lambda: store.approve(db, case.id, "rita", "approve, says rita", rev),
            lambda: store.deny(db, case.id, "rex", "deny, says rex", rev))
        wins = [r for r in results if isinstance(r, store.Case)]
        losses = [r for r in results if isinstance(r, ConflictError)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert "changed while you were deciding" in losses[0].message or "already" in losses[0].message
        final = store.get_case(db, case.id)
        assert (final.status, final.revision) == (wins[0].status, 2)
        assert [h.action for h in store.case_history(db, case.id)].count(final.status) == 1
    decided = store.entries(db, action="case-approved") + store.entries(db, action="case-denied")
    assert len(decided) == 6
    assert store.verify(db).ok


def test_a_stale_revision_is_refused(db: Database, mini: Scenario) -> None:
    store.load(db, mini, "abe")
    case = the_case(db)
    store.deny(db, case.id, "rex", "no", case.revision)
    with pytest.raises(ConflictError, match="changed while you were deciding: it is now denied by `rex`"):
        store.approve(db, case.id, "rita", "yes", case.revision)


def regime_changed(tmp_path: Path, old: str, new: str) -> Scenario:
    folder = tmp_path / f"v{len(list(tmp_path.iterdir()))}"
    shutil.copytree(MINI, folder)
    regimes = folder / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace(old, new))
    return load_scenario(folder)


def test_a_regime_change_reopens_the_approval_as_stale(db: Database, mini: Scenario, tmp_path: Path) -> None:
    store.load(db, mini, "abe")
    cid = the_case(db).id
    store.approve(db, cid, "rita", "urgent necessity shown")
    assert decide_now(db, "I2") is Outcome.PERMITTED
    changed = regime_changed(tmp_path, "criterion: urgent necessity", "criterion: compelling necessity")
    report = store.load(db, changed, "abe")
    assert report.cases_reopened == report.cases_stale == [cid] and report.cases_opened == []
    case = store.get_case(db, cid)
    assert case.stale and case.status == "open"
    assert (case.regime_version, case.stale_version) == (changed.regimes["closed"].version,
                                                         mini.regimes["closed"].version)
    assert case.criterion == "compelling necessity" and case.decided_by is None
    assert [c.id for c in store.list_cases(db, stale=True)] == [cid]
    # the old approval no longer counts: the item is in review again under the new version
    assert decide_now(db, "I2") is Outcome.REVIEW
    (reopened,) = [e.event() for e in store.entries(db, action="case-reopened")]
    assert reopened is not None and reopened.stale  # type: ignore[attr-defined]
    # decided again under the new version, it is no longer stale
    store.approve(db, cid, "rex", "still urgent")
    assert not store.get_case(db, cid).stale and decide_now(db, "I2") is Outcome.PERMITTED


def test_a_case_is_withdrawn_when_the_item_no_longer_needs_review(db: Database, mini: Scenario,
                                                                  tmp_path: Path) -> None:
    store.load(db, mini, "abe")
    cid = the_case(db).id
    changed = regime_changed(tmp_path, "effect: review\n        criterion: urgent necessity", "effect: permit")
    report = store.load(db, changed, "abe")
    assert report.cases_withdrawn == [cid]
    assert store.get_case(db, cid).status == "withdrawn"
    assert store.list_cases(db) == []


def test_asserting_a_fact_opens_the_cases_it_causes(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    shutil.copytree(MINI, folder)
    regimes = folder / "regimes.yaml"
    regimes.write_text(regimes.read_text().replace("        effect: review\n",
                                                   "        effect: review\n        require: [waiver.AAA]\n"))
    store.load(db, load_scenario(folder), "abe", as_of=DAY)
    assert store.list_cases(db) == []  # blocked, not review, until the waiver holds
    rec = store.assert_fact(db, "waiver.AAA", dt.date(2001, 1, 15), "rita", "s1", as_of=DAY)
    assert len(rec.cases_opened) == 1 and the_case(db).requested_by == "rita"
