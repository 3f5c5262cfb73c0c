"""The tamper suite: every way we know to rewrite the record, and the weakest check that catches it.

Each kind is one row: a name, what the attacker does (SQL, or a few lines with the helpers below) and
``level``, the weakest verification that detects it:

- ``chain``  -- `tranche audit verify` without the audit key: the chain, the head, the identity and the
               state replay (what anyone with read access can check);
- ``key``    -- `verify` with the audit key (the signatures);
- ``anchor`` -- `verify --anchor FILE` with the key, the anchor taken before the attack;
- ``none``   -- not detected (outside the threat model; docs/store.md says why).

The test proves each kind is detected at its level and above, and *not* below (so the table in
docs/store.md, which the last test checks against this list, is exact).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import select

import tranche.store as store
from tranche.errors import StoreError
from tranche.language import Scenario, canonical_json
from tranche.store import Database, keys
from tranche.store.audit import Anchor, entry_hash, identity
from tranche.store.tables import audit_head

from .conftest import ROOT
from .helpers import raw

LEVELS = ("chain", "key", "anchor", "none")


class Attack:
    """What an attacker with SQL access does; ``key`` only for the attacker who also holds the audit key."""

    def __init__(self, db: Database, key: bytes) -> None:
        self.db = db
        self.key = key
        self.saved_heads: dict[int, tuple[str, str]] = {}

    def sql(self, *statements: str) -> None:
        raw(self.db, *statements)

    def entries(self) -> list[store.Entry]:
        return store.entries(self.db)

    def ident(self) -> store.audit.Identity:
        with self.db.read() as conn:
            found = identity(conn)
        assert found is not None
        return found

    def rechain(self, start: int, edit: Callable[[store.Entry], dict[str, object]] = lambda e: {},
                resign: bool = False, head: bool = True) -> None:
        """Recompute every hash from entry ``start`` (after ``edit`` changes columns), and the head's hash."""
        rows = self.entries()
        ident = self.ident()
        prev = rows[start - 2].hash if start > 1 else ident.genesis
        statements = []
        for e in rows[start - 1:]:
            cols = {"created": e.created, "actor": e.actor, "action": e.action, "payload": e.payload} | edit(e)
            h = entry_hash(e.seq, str(cols["created"]), str(cols["actor"]), str(cols["action"]),
                           __import__("json").loads(str(cols["payload"])), prev)
            mac = f", mac = '{ident.entry_mac(self.key, e.seq, h)}'" if resign else ""
            sets = ", ".join(f"{k} = '{str(v)}'" for k, v in cols.items())
            statements.append(f"UPDATE audit_log SET {sets}, prev_hash = '{prev}', hash = '{h}'{mac} "
                              f"WHERE seq = {e.seq}")
            prev = h
        if head:
            mac = f", mac = '{ident.head_mac(self.key, rows[-1].seq, prev)}'" if resign else ""
            statements.append(f"UPDATE audit_head SET hash = '{prev}'{mac}")
        self.sql(*statements)

    def forge(self, action: str, payload: dict[str, object], *state: str, head: bool = True,
              resign: bool = False) -> None:
        """Append a correctly chained entry (and move the head to it), with the state changes it explains."""
        last = self.entries()[-1]
        ident = self.ident()
        seq, created = last.seq + 1, "2030-01-01T00:00:00.000000Z"
        h = entry_hash(seq, created, "mallory", action, payload, last.hash)
        mac = f"'{ident.entry_mac(self.key, seq, h)}'" if resign else "NULL"
        statements = [*state, "INSERT INTO audit_log (seq, created, actor, action, payload, prev_hash, hash, mac) "
                      f"VALUES ({seq}, '{created}', 'mallory', '{action}', '{canonical_json(payload)}', "
                      f"'{last.hash}', '{h}', {mac})"]
        if head:
            hmac_ = f", mac = '{ident.head_mac(self.key, seq, h)}'" if resign else ""
            statements.append(f"UPDATE audit_head SET seq = {seq}, hash = '{h}'{hmac_}")
        self.sql(*statements)

    def cut_to(self, seq: int, old_head: bool = False) -> None:
        """Delete the entries after ``seq`` and point the head at ``seq`` (with its old signed row: ``old_head``)."""
        e = self.entries()[seq - 1]
        mac = f"'{self.ident().head_mac(self.key, seq, e.hash)}'" if old_head else "mac"
        self.sql(f"DELETE FROM audit_log WHERE seq > {seq}", f"UPDATE audit_head SET seq = {seq}, hash = '{e.hash}', "
                                                             f"mac = {mac}")

    def tranche_write(self) -> None:
        """A legitimate change made after the attack (tranche must refuse to extend a tampered log)."""
        with pytest.raises(StoreError, match="cannot be extended"):
            store.add_user(self.db, "zoe", "analyst", "ada")


@dataclass(frozen=True)
class Kind:
    name: str
    what: str
    attack: Callable[[Attack], None]
    level: str


def sql(*statements: str) -> Callable[[Attack], None]:
    return lambda a: a.sql(*statements)


APPROVED = "UPDATE review_cases SET status = 'open', decided_by = NULL, decided_at = NULL, justification = NULL, revision = 1"
REVERT_TAIL = (APPROVED, "DELETE FROM review_decisions WHERE revision = 2", "UPDATE users SET role = 'analyst' WHERE name = 'ann'")

# the busy log: 1 schema-migrated, 2-6 user-added, 7 scenario-loaded, 8 law-activated, 9-10 regime-activated,
# 11 case-opened, 12 fact-asserted, 13 fact-retracted, 14 case-approved, 15 user-role-changed
KINDS = [
    # entries edited in place
    Kind("edit-actor", "an entry's actor changed", sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 12"), "chain"),
    Kind("edit-payload", "an entry's payload changed", sql(
        "UPDATE audit_log SET payload = replace(payload, 'urgent', 'casual') WHERE seq = 14"), "chain"),
    Kind("edit-payload-format", "a payload re-serialised (same meaning)", sql(
        "UPDATE audit_log SET payload = replace(payload, ':', ': ') WHERE seq = 7"), "chain"),
    Kind("edit-time", "an entry's time changed", sql(
        "UPDATE audit_log SET created = '2001-01-01T00:00:00.000000Z' WHERE seq = 3"), "chain"),
    Kind("edit-action", "an entry's action changed", sql("UPDATE audit_log SET action = 'case-denied' WHERE seq = 14"),
         "chain"),
    Kind("edit-hash", "an entry's hash replaced", sql(f"UPDATE audit_log SET hash = '{'a' * 64}' WHERE seq = 5"), "chain"),
    Kind("edit-prev-hash", "an entry's previous hash replaced", sql(
        f"UPDATE audit_log SET prev_hash = '{'b' * 64}' WHERE seq = 6"), "chain"),
    # deletions
    Kind("delete-first", "entry #1 deleted", sql("DELETE FROM audit_log WHERE seq = 1"), "chain"),
    Kind("delete-middle", "an entry in the middle deleted", sql("DELETE FROM audit_log WHERE seq = 9"), "chain"),
    Kind("delete-last", "the last entry deleted, head kept", sql("DELETE FROM audit_log WHERE seq = 15"), "chain"),
    Kind("truncate-tail", "the tail deleted, head kept", sql("DELETE FROM audit_log WHERE seq > 11"), "chain"),
    Kind("truncate-tail-and-head", "the tail deleted and the head moved back", lambda a: a.cut_to(13), "chain"),
    Kind("truncate-tail-head-and-state", "the tail deleted, the head moved back and the state it made undone",
         lambda a: (a.cut_to(13), a.sql(*REVERT_TAIL)), "key"),
    Kind("truncate-tail-delete-head", "the tail and the head deleted", sql(
        "DELETE FROM audit_log WHERE seq > 13", "DELETE FROM audit_head"), "chain"),
    Kind("wipe-log", "every entry deleted", sql("DELETE FROM audit_log"), "chain"),
    Kind("wipe-log-and-head", "every entry and the head deleted", sql("DELETE FROM audit_log", "DELETE FROM audit_head"),
         "chain"),
    Kind("wipe-then-write", "log and head deleted, then tranche used again (the chain would restart at #1)",
         lambda a: (a.sql("DELETE FROM audit_log", "DELETE FROM audit_head"), a.tranche_write()), "chain"),
    Kind("wipe-identity-and-log", "log, head and the database's identity deleted", sql(
        "DELETE FROM audit_log", "DELETE FROM audit_head", "DELETE FROM audit_identity"), "chain"),
    Kind("replace-identity", "the database's identity replaced (another id and genesis)", sql(
        f"UPDATE audit_identity SET database_id = 'other', genesis = '{'c' * 64}'"), "chain"),
    # moves and insertions
    Kind("reorder", "two entries swapped", sql("UPDATE audit_log SET seq = -4 WHERE seq = 4",
                                               "UPDATE audit_log SET seq = 4 WHERE seq = 5",
                                               "UPDATE audit_log SET seq = 5 WHERE seq = -4"), "chain"),
    Kind("insert-middle", "an entry slipped in, later ones renumbered", sql(
        *(f"UPDATE audit_log SET seq = {s + 1} WHERE seq = {s}" for s in range(15, 6, -1)),
        "INSERT INTO audit_log (seq, created, actor, action, payload, prev_hash, hash) "
        "SELECT 7, created, 'mallory', action, payload, hash, hash FROM audit_log WHERE seq = 6"), "chain"),
    Kind("renumber", "every entry renumbered from #2", sql(
        *(f"UPDATE audit_log SET seq = {s + 1} WHERE seq = {s}" for s in range(15, 0, -1))), "chain"),
    Kind("copy-at-end", "an entry copied to the end, head kept", sql(
        "INSERT INTO audit_log (seq, created, actor, action, payload, prev_hash, hash) "
        "SELECT seq + 1, created, actor, action, payload, hash, hash FROM audit_log WHERE seq = 15"), "chain"),
    # consistent rewrites (SHA-256 is public; the key is not)
    Kind("rehash-from-start", "entry #1 changed and the whole chain and head rehashed", lambda a: a.rechain(
        1, lambda e: {"actor": "mallory"} if e.seq == 1 else {}), "key"),
    Kind("rehash-from-middle", "entry #12 changed and the chain rehashed from there", lambda a: a.rechain(
        12, lambda e: {"actor": "mallory"} if e.seq == 12 else {}), "key"),
    Kind("rehash-without-head", "the chain rehashed from #12, head kept", lambda a: a.rechain(
        12, lambda e: {"actor": "mallory"} if e.seq == 12 else {}, head=False), "chain"),
    Kind("forged-append-no-head", "a correctly chained entry appended, head kept", lambda a: a.forge(
        "user-role-changed", {"user": "ann", "role": "admin", "previous_role": "reviewer"},
        "UPDATE users SET role = 'admin' WHERE name = 'ann'", head=False), "chain"),
    Kind("forged-append-no-state", "a correctly chained entry appended, head moved, the state not changed",
         lambda a: a.forge("user-role-changed", {"user": "ann", "role": "admin", "previous_role": "reviewer"}),
         "chain"),
    Kind("forged-append", "a correctly chained entry appended with the head and the state change it describes",
         lambda a: a.forge("user-role-changed", {"user": "ann", "role": "admin", "previous_role": "reviewer"},
                           "UPDATE users SET role = 'admin' WHERE name = 'ann'"), "key"),
    # state tables changed with no audit entry
    Kind("state-case-status", "a review case's status set (UPDATE review_cases SET status = ...)", sql(
        "UPDATE review_cases SET status = 'denied'"), "chain"),
    Kind("state-case-approved", "an open case approved in the table only", sql(
        APPROVED, "DELETE FROM review_decisions WHERE revision = 2",
        "UPDATE review_cases SET status = 'approved', decided_by = 'rex', revision = 2"), "chain"),
    Kind("state-case-deleted", "a review case and its history deleted", sql(
        "DELETE FROM review_decisions", "DELETE FROM review_cases"), "chain"),
    Kind("state-decision-edited", "a review decision's justification edited", sql(
        "UPDATE review_decisions SET justification = 'forged' WHERE revision = 2"), "chain"),
    Kind("state-fact-date", "a fact's date moved", sql("UPDATE facts SET date = '1999-01-01' WHERE id = 'coup.AAA'"),
         "chain"),
    Kind("state-user-role", "a user given the admin role", sql("UPDATE users SET role = 'admin' WHERE name = 'ann'"),
         "chain"),
    Kind("state-user-inserted", "a user inserted", sql(
        "INSERT INTO users (name, role, added_at, added_by) VALUES ('mallory', 'admin', 'x', 'ada')"), "chain"),
    Kind("state-line-item", "a line item's amount changed", sql("UPDATE line_items SET amount = '1.00' WHERE id = 'I1'"),
         "chain"),
    Kind("state-regime-version", "a regime switched to a forged version", sql(
        "INSERT INTO regime_versions (scenario_id, regime_id, version, number, document, created_at, created_by) "
        "SELECT scenario_id, regime_id, 'forged', 2, document, created_at, created_by FROM regime_versions "
        "WHERE regime_id = 'closed'", "UPDATE regimes SET current_version = 'forged' WHERE regime_id = 'closed'"),
         "chain"),
    # replays of an older, genuinely signed state
    Kind("rollback", "the log cut back to an earlier head whose signed row was saved, and the state undone with it "
                     "(a restored backup)", lambda a: (a.cut_to(13, old_head=True), a.sql(*REVERT_TAIL)), "anchor"),
    # an attacker who holds the audit key
    Kind("key-holder-rewrite", "with the key: the chain rewritten from #12 and re-signed", lambda a: a.rechain(
        12, lambda e: {"actor": "mallory"} if e.seq == 12 else {}, resign=True), "anchor"),
    Kind("key-holder-append", "with the key: an entry appended and signed, with its state change", lambda a: a.forge(
        "user-role-changed", {"user": "ann", "role": "admin", "previous_role": "reviewer"},
        "UPDATE users SET role = 'admin' WHERE name = 'ann'", resign=True), "none"),
]


@pytest.fixture
def busy(db: Database, mini: Scenario) -> Database:
    """A database with one of each kind of change (15 entries)."""
    store.load(db, mini, "abe")
    store.assert_fact(db, "waiver.AAA", dt.date(2000, 3, 1), "rita", "s1")
    store.retract_fact(db, "waiver.AAA", "rita")
    (case,) = store.list_cases(db)
    store.approve(db, case.id, "rita", "urgent necessity shown")
    store.set_role(db, "ann", "reviewer", "ada")
    assert len(store.entries(db)) == 15
    return db


def detected(db: Database, level: str, anchor: Anchor, nowhere: Path) -> bool:
    if level == "chain":
        result = store.verify(db, key_file=nowhere)
        assert result.signatures == "unchecked"
    elif level == "key":
        result = store.verify(db)
        assert result.signatures == "checked"
    else:
        result = store.verify(db, anchor)
    return not result.ok


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_tampering(busy: Database, kind: Kind, tmp_path: Path) -> None:
    assert store.verify(busy).ok
    a = store.anchor(busy)
    key = keys.read_key(keys.key_path(busy.url))
    assert key is not None
    kind.attack(Attack(busy, key))
    nowhere = tmp_path / "no.key"
    for level in LEVELS[:-1]:
        expected = LEVELS.index(level) >= LEVELS.index(kind.level)
        assert detected(busy, level, a, nowhere) == expected, (kind.name, level, store.verify(busy, a))


def test_every_kind_is_in_the_docs_with_its_level() -> None:
    text = (ROOT / "docs" / "store.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z-]+)` \|[^|]*\| ([a-z]+) \|", text, re.M))
    assert rows == {k.name: k.level for k in KINDS}
    assert len(KINDS) >= 28


def test_problems_are_named(busy: Database) -> None:
    raw(busy, "UPDATE review_cases SET status = 'denied'", "UPDATE users SET role = 'admin' WHERE name = 'ann'")
    result = store.verify(busy)
    assert not result.ok and result.problem == ""
    assert "review case 1: status is `denied` in review_cases, `approved` by the audit log" in result.differences
    assert "user `ann`: role is `admin` in the table, `reviewer` by the audit log" in result.differences
    raw(busy, "DELETE FROM audit_log WHERE seq > 11")
    result = store.verify(busy)
    assert result.first_bad == 12 and "entries were deleted" in result.problem


def test_the_guard_refuses_updates_and_deletes(busy: Database) -> None:
    for statement in ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", "DELETE FROM audit_log WHERE seq = 15",
                      "DELETE FROM audit_identity"):
        with pytest.raises(Exception, match="append-only"):
            raw(busy, statement, guards=True)
    assert store.verify(busy).ok


def test_anchor_files(busy: Database, tmp_path: Path) -> None:
    a = store.anchor(busy)
    path = tmp_path / "anchor.json"
    path.write_text(canonical_json(a.to_dict()))
    assert store.verify(busy, str(path)).ok and store.verify(busy, str(a)).ok
    other = tmp_path / "other.json"
    other.write_text(canonical_json(Anchor(a.seq, a.hash, "another-db").to_dict()))
    result = store.verify(busy, str(other))
    assert not result.ok and "belongs to database `another-db`" in result.problem
    from tranche.errors import UsageError

    for bad in ("12:xyz", str(tmp_path / "missing.json")):
        with pytest.raises(UsageError, match="anchor"):
            store.verify(busy, bad)


def test_writes_need_the_key(busy: Database) -> None:
    path = keys.key_path(busy.url)
    saved = path.read_bytes()
    path.unlink()
    try:
        with pytest.raises(StoreError, match="audit key .* is missing"):
            store.add_user(busy, "zoe", "analyst", "ada")
        assert store.verify(busy).signatures == "unchecked"
    finally:
        path.write_bytes(saved)
    store.add_user(busy, "zoe", "analyst", "ada")
    assert store.verify(busy).ok
    with busy.read() as conn:
        assert conn.execute(select(audit_head.c.mac)).scalar_one() is not None
