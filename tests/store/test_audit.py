"""The audit log: every change appends one entry; any modification, deletion, insertion or reordering
made through raw SQL is detected by `verify`, naming the first bad entry."""

from __future__ import annotations

import datetime as dt

import pytest

import tranche.store as store
from tranche.errors import UsageError
from tranche.language import Scenario
from tranche.store import Database
from tranche.store.events import EVENTS

from .helpers import raw


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


TAMPERS: dict[str, tuple[str | tuple[str, ...], int, str | None]] = {
    "actor": ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 12", 12, "was modified"),
    "payload": ("UPDATE audit_log SET payload = replace(payload, 'urgent', 'casual') WHERE seq = 14", 14,
                "was modified"),
    "payload-whitespace": ("UPDATE audit_log SET payload = replace(payload, ':', ': ') WHERE seq = 7", 7,
                           "was modified"),
    "time": ("UPDATE audit_log SET created = '2001-01-01T00:00:00.000000Z' WHERE seq = 3", 3, "was modified"),
    "action": ("UPDATE audit_log SET action = 'case-denied' WHERE seq = 14", 14, "was modified"),
    "hash-recomputed-elsewhere": ("UPDATE audit_log SET hash = '" + "a" * 64 + "' WHERE seq = 5", 5,
                                  "was modified"),
    "delete-middle": ("DELETE FROM audit_log WHERE seq = 9", 9, "entry #9 is missing"),
    "delete-first": ("DELETE FROM audit_log WHERE seq = 1", 1, "entry #1 is missing"),
    "delete-tail": ("DELETE FROM audit_log WHERE seq >= 14", 14, "entries were deleted"),
    "reorder": (("UPDATE audit_log SET seq = -4 WHERE seq = 4", "UPDATE audit_log SET seq = 4 WHERE seq = 5",
                 "UPDATE audit_log SET seq = 5 WHERE seq = -4"), 4, "does not follow"),
    "insert-at-end": ("INSERT INTO audit_log (seq, created, actor, action, payload, prev_hash, hash) "
                      "SELECT seq + 1, created, actor, action, payload, hash, hash FROM audit_log WHERE seq = 15",
                      16, None),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_detected(busy: Database, name: str) -> None:
    assert len(store.entries(busy)) == 15
    sql, first_bad, needle = TAMPERS[name]
    raw(busy, *((sql,) if isinstance(sql, str) else sql))
    result = store.verify(busy)
    assert not result.ok
    assert result.first_bad == first_bad, result.problem
    assert needle is None or needle in result.problem


def test_insertion_in_the_middle_is_detected(busy: Database) -> None:
    # make room by renumbering (from the end, to keep seq unique), then slip a copy of entry 6 in at 7
    for seq in range(15, 6, -1):
        raw(busy, f"UPDATE audit_log SET seq = {seq + 1} WHERE seq = {seq}")
    raw(busy, "INSERT INTO audit_log (seq, created, actor, action, payload, prev_hash, hash) "
              "SELECT 7, created, 'mallory', action, payload, hash, hash FROM audit_log WHERE seq = 6")
    result = store.verify(busy)
    assert (result.ok, result.first_bad) == (False, 7)


def test_a_rewritten_log_is_caught_by_an_anchor(busy: Database) -> None:
    anchor = store.verify(busy).anchor()
    assert store.verify(busy, anchor).ok
    # an attacker who rewrites entry 1 and recomputes the whole chain and the head
    from tranche.store.audit import GENESIS, entry_hash

    rows = store.entries(busy)
    prev = GENESIS
    statements = []
    for e in rows:
        actor = "mallory" if e.seq == 1 else e.actor
        h = entry_hash(e.seq, e.created, actor, e.action, e.data(), prev)
        statements.append(f"UPDATE audit_log SET actor = '{actor}', prev_hash = '{prev}', hash = '{h}' "
                          f"WHERE seq = {e.seq}")
        prev = h
    statements.append(f"UPDATE audit_head SET hash = '{prev}'")
    raw(busy, *statements)
    assert store.verify(busy).ok  # a consistent forgery: only an anchor kept elsewhere can tell
    result = store.verify(busy, anchor)
    assert not result.ok and "anchor" in result.problem
    with pytest.raises(UsageError, match="not an anchor"):
        store.verify(busy, "12:xyz")
