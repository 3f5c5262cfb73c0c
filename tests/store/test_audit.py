"""The audit log: every change appends one typed entry (tampering: tests/store/test_tamper.py)."""

from __future__ import annotations

import datetime as dt

import pytest

import tranche.store as store
from tranche.language import Scenario
from tranche.store import Database
from tranche.store.events import EVENTS


@pytest.fixture
def busy(db: Database, mini: Scenario) -> Database:
    """A database with one of each kind of change."""
    store.load(db, mini, "abe")
    store.assert_fact(db, "waiver.AAA", dt.date(2000, 3, 1), "rita", "s1")
    store.retract_fact(db, "waiver.AAA", "rita")
    (case,) = store.list_cases(db)
    store.approve(db, case.id, "rita", "urgent necessity shown")
    store.set_role(db, "ann", "reviewer", "ada")
    return db


def test_every_change_appends_a_typed_event(busy: Database) -> None:
    entries = store.entries(busy)
    assert [e.action for e in entries] == [
        "schema-migrated", "user-added", "user-added", "user-added", "user-added", "user-added",
        "scenario-loaded", "law-activated", "regime-activated", "regime-activated", "case-opened",
        "fact-asserted", "fact-retracted", "case-approved", "user-role-changed"]
    for e in entries:
        ev = e.event()
        assert ev is not None and ev.name == e.action and ev.actor == e.actor
    approved = [e for e in entries if e.action == "case-approved"][0].data()
    assert approved["regime_version"] and approved["justification"] == "urgent necessity shown"
    assert set(EVENTS) >= {e.action for e in entries}
    assert store.verify(busy).ok


def test_entries_filter(busy: Database) -> None:
    assert [e.action for e in store.entries(busy, actor="rita")] == ["fact-asserted", "fact-retracted",
                                                                    "case-approved"]
    assert len(store.entries(busy, limit=2)) == 2
    assert store.entries(busy, since=dt.date.today() + dt.timedelta(days=2)) == []


# every way of tampering with the record, and the check that catches it: tests/store/test_tamper.py
