"""The append-only, hash-chained, signed audit log.

Every change appends one entry per :class:`~tranche.store.events.Event`, in
the same transaction as the change.  Entry ``n`` stores its time, actor,
action, the canonical JSON of its payload, the hash of entry ``n-1`` and its
own hash::

    hash(n) = sha256(canonical_json({"seq": n, "time": ..., "actor": ..., "action": ...,
                                     "payload": ..., "prev": hash(n-1)}))

``hash(0)`` is the database's *genesis* (``audit_identity``): the SHA-256 of
its random id for a database created at revision 0003 or later (64 zeros for
one whose log began before), and entry #1 is the ``schema-migrated`` entry of
`tranche init`.  Sequence numbers run from 1 without a gap; the head (last
sequence number and hash) is kept beside the log.  Each entry and the head
also carry an HMAC-SHA256 under the **audit key**, a secret kept outside the
database (:mod:`tranche.store.keys`): without it nobody can write a signed
entry or head.  Nothing updates or deletes entries (triggers refuse it).

:func:`verify` checks the chain, the head, the signatures (when it can read
the key), an *anchor* kept elsewhere (:func:`anchor`; ``SEQ:HASH`` or a file)
and **replays** the log: the users, scenarios, versions, facts and review
cases the events describe must be what the tables hold
(:mod:`tranche.store.replay`).

Anyone can check an entry without tranche -- the hashed text is plain canonical JSON:

>>> import hashlib
>>> h = entry_hash(1, "2026-01-01T00:00:00.000000Z", "ada", "user-added", {"user": "ada", "role": "admin"}, GENESIS)
>>> text = ('{"action":"user-added","actor":"ada","payload":{"role":"admin","user":"ada"},"prev":"' + GENESIS
...         + '","seq":1,"time":"2026-01-01T00:00:00.000000Z"}')
>>> h == hashlib.sha256(text.encode()).hexdigest()
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError, UsageError
from ..language.scenario import canonical_json
from . import keys
from .db import Database
from .events import Event, event_from_entry, format_time, utc_now
from .replay import replay as replay_state
from .tables import audit_head, audit_identity, audit_log

__all__ = ["GENESIS", "Entry", "Identity", "Anchor", "Verification", "entry_hash", "append", "append_all",
           "entries", "verify", "parse_anchor", "anchor", "identity", "sign_head"]

GENESIS = "0" * 64  # hash(0) of a log that began before revision 0003


def entry_hash(seq: int, time: str, actor: str, action: str, payload: Any, prev: str) -> str:
    """The SHA-256 of an entry's canonical JSON, chained to the previous entry's hash."""
    body = {"seq": seq, "time": time, "actor": actor, "action": action, "payload": payload, "prev": prev}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Identity:
    """Which database a log belongs to (a random id) and the hash its entry #1 chains from."""

    database_id: str
    genesis: str
    created: str

    def entry_mac(self, key: bytes, seq: int, hash_: str) -> str:
        return keys.sign(key, "entry", f"{self.database_id}:{seq}:{hash_}")

    def head_mac(self, key: bytes, seq: int, hash_: str) -> str:
        return keys.sign(key, "head", f"{self.database_id}:{self.genesis}:{seq}:{hash_}")


def identity(conn: Connection) -> Identity | None:
    """The database's identity row (None when it is missing)."""
    row = conn.execute(select(audit_identity).where(audit_identity.c.id == 1)).first()
    return Identity(str(row.database_id), str(row.genesis), str(row.created)) if row is not None else None


@dataclass(frozen=True)
class Entry:
    """One audit entry as stored."""

    seq: int
    created: str
    actor: str
    action: str
    payload: str  # canonical JSON
    prev_hash: str
    hash: str
    mac: str | None = None

    def data(self) -> Any:
        return json.loads(self.payload)

    def event(self) -> Event | None:
        """The typed event, when the payload parses."""
        try:
            data = self.data()
        except ValueError:
            return None
        return event_from_entry(self.action, self.actor, self.created, data) if isinstance(data, dict) else None

    def to_dict(self) -> dict[str, Any]:
        try:
            payload: Any = self.data()
        except ValueError:
            payload = self.payload
        return {"seq": self.seq, "time": self.created, "actor": self.actor, "action": self.action,
                "payload": payload, "prev_hash": self.prev_hash, "hash": self.hash}


def _key_for(conn: Connection) -> tuple[bytes, Path]:
    path = keys.key_path(conn.engine.url)
    key = keys.read_key(path)
    if key is None:
        raise StoreError(f"the audit key `{path}` is missing: changes to the database cannot be signed",
                         help="restore the key file `tranche init` created, or point TRANCHE_AUDIT_KEY at it")
    return key, path


def append(conn: Connection, event: Event) -> Entry:
    """Append one event to the log, inside the caller's write transaction."""
    return append_all(conn, (event,))[-1]


def _refuse(problem: str) -> StoreError:
    return StoreError(f"the audit log cannot be extended: {problem}",
                      help="run `tranche audit verify`; nothing was changed")


def append_all(conn: Connection, events: Iterable[Event], *, adopt: bool = False) -> list[Entry]:
    """Append events in order, signed, inside the caller's write transaction (which serialises appenders).

    The head must carry a valid signature (``adopt``: `tranche init` signs an unsigned head of a log
    that began before revision 0003); a missing head is only accepted for the database's first entry.
    """
    todo = list(events)
    if not todo:
        return []
    ident = identity(conn)
    if ident is None:
        raise _refuse("the database's identity row (audit_identity) is missing")
    key, path = _key_for(conn)
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash, audit_head.c.mac)
                        .where(audit_head.c.id == 1)).first()
    if head is None:
        first = conn.execute(select(audit_log.c.seq).limit(1)).first()
        if first is not None or todo[0].name != "schema-migrated":
            raise _refuse("its head (audit_head) is missing")
        seq, prev = 0, ident.genesis
    else:
        seq, prev = int(head.seq), str(head.hash)
        if head.mac is None:
            if not adopt and seq > 0:
                raise _refuse("its head is not signed")
        elif not hmac.compare_digest(str(head.mac), ident.head_mac(key, seq, prev)):
            raise _refuse(f"its head is not signed by the key `{path}` (the log was altered, or this is the "
                          "wrong key)")
        if seq == 0:
            prev = ident.genesis
    rows: list[dict[str, Any]] = []
    out: list[Entry] = []
    for ev in todo:
        seq += 1
        payload = json.loads(canonical_json(ev.payload()))
        text = canonical_json(payload)
        created = format_time(ev.created)
        h = entry_hash(seq, created, ev.actor, ev.name, payload, prev)
        e = Entry(seq, created, ev.actor, ev.name, text, prev, h, ident.entry_mac(key, seq, h))
        rows.append({"seq": e.seq, "created": e.created, "actor": e.actor, "action": e.action, "payload": e.payload,
                     "prev_hash": e.prev_hash, "hash": e.hash, "mac": e.mac})
        out.append(e)
        prev = h
    for i in range(0, len(rows), 500):
        conn.execute(insert(audit_log), rows[i:i + 500])
    mac = ident.head_mac(key, seq, prev)
    if head is None:
        conn.execute(insert(audit_head).values(id=1, seq=seq, hash=prev, mac=mac))
    else:
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev, mac=mac))
    return out


def sign_head(conn: Connection) -> bool:
    """Sign an unsigned head (a log that began before revision 0003), in the caller's write transaction."""
    ident = identity(conn)
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash, audit_head.c.mac)
                        .where(audit_head.c.id == 1)).first()
    if ident is None or head is None or head.mac is not None:
        return False
    key, _ = _key_for(conn)
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(
        mac=ident.head_mac(key, int(head.seq), str(head.hash))))
    return True


def _row_entry(r: Any) -> Entry:
    return Entry(int(r.seq), str(r.created), str(r.actor), str(r.action), str(r.payload), str(r.prev_hash),
                 str(r.hash), None if r.mac is None else str(r.mac))


def entries(db: Database, since: dt.date | None = None, action: str | None = None, actor: str | None = None,
            limit: int | None = None) -> list[Entry]:
    """Entries in order, optionally from a date (UTC), of one action or one actor; ``limit`` keeps the last ones."""
    q = select(audit_log)
    if since is not None:
        q = q.where(audit_log.c.created >= since.isoformat())
    if action is not None:
        q = q.where(audit_log.c.action == action)
    if actor is not None:
        q = q.where(audit_log.c.actor == actor)
    if limit is not None:
        q = q.order_by(audit_log.c.seq.desc()).limit(limit)
    else:
        q = q.order_by(audit_log.c.seq)
    with db.read() as conn:
        rows = [_row_entry(r) for r in conn.execute(q)]
    return sorted(rows, key=lambda e: e.seq)


# -- anchors ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    """A checkpoint of the log kept outside the database: entry ``seq`` had hash ``hash``."""

    seq: int
    hash: str
    database: str | None = None
    created: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tranche_audit_anchor": 1, "database": self.database, "seq": self.seq, "hash": self.hash,
                "created": self.created}

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


_ANCHOR = re.compile(r"^\s*(\d+):([0-9a-fA-F]{64})\s*$")


def parse_anchor(text: str) -> Anchor:
    """``SEQ:HASH`` (as printed by `tranche audit verify`), or a file written by `tranche audit anchor`."""
    m = _ANCHOR.match(text)
    if m and int(m.group(1)) >= 1:
        return Anchor(int(m.group(1)), m.group(2).lower())
    looks_like_pair = bool(re.match(r"^\s*[^/\\]*:[^/\\]*$", text)) and not Path(text).exists()
    if looks_like_pair or not text.strip():
        raise UsageError(f"`{text}` is not an anchor", help="write SEQ:HASH as printed by `tranche audit verify`, "
                                                         "e.g. 12:3f5a..., or the file `tranche audit anchor` wrote")
    path = Path(text)
    try:
        if path.stat().st_size > 1_000_000 or not path.is_file():
            raise UsageError(f"`{text}` is not an anchor file", help="give the file `tranche audit anchor --out` wrote")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no anchor file `{text}`", help="give SEQ:HASH or the file `tranche audit anchor --out` "
                                                          "wrote") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read anchor file `{text}`: {getattr(exc, 'strerror', None) or 'not JSON'}",
                         help="give the file `tranche audit anchor --out` wrote") from None
    try:
        seq, h = int(data["seq"]), str(data["hash"]).lower()
        if seq < 1 or not re.fullmatch(r"[0-9a-f]{64}", h):
            raise ValueError
        database = data.get("database")
        return Anchor(seq, h, str(database) if database else None, data.get("created"))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise UsageError(f"`{text}` is not an anchor file: it lacks a valid `seq` and `hash`",
                         help="give the file `tranche audit anchor --out` wrote") from None


def anchor(db: Database) -> Anchor:
    """The current head as an anchor, to keep outside the database (the log must verify first)."""
    result = verify(db)
    if not result.ok:
        raise StoreError(f"the audit log does not verify, so it cannot be anchored: {result.summary()}",
                         help="run `tranche audit verify` and investigate first")
    if result.head_seq < 1:
        raise StoreError("the audit log is empty; there is nothing to anchor", help="run `tranche init` first")
    return Anchor(result.head_seq, result.head_hash, result.database, format_time(utc_now()))


# -- verification -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`: the chain, the signatures, the anchor and the replayed state."""

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str = ""
    database: str | None = None
    signatures: str = "unchecked"  # checked | unchecked (no key) | none (nothing signed yet)
    key: str = ""
    anchored: bool = False
    differences: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": {"seq": self.head_seq, "hash": self.head_hash},
                "first_bad": self.first_bad, "problem": self.problem or None, "database": self.database,
                "signatures": self.signatures, "key": self.key, "anchor_checked": self.anchored,
                "state_differences": list(self.differences)}

    def anchor(self) -> str:
        return f"{self.head_seq}:{self.head_hash}"

    def summary(self) -> str:
        if self.problem:
            return self.problem
        if self.differences:
            n = len(self.differences)
            return (f"{n} difference{'s' if n != 1 else ''} between the tables and the replayed log, first: "
                    f"{self.differences[0]}")
        return "intact"


def _check_chain(rows: Sequence[Entry], ident: Identity | None) -> tuple[int | None, str]:
    if ident is None:
        return (1 if rows else None), "the database's identity row (audit_identity) was deleted"
    prev = ident.genesis
    expected = 1
    for e in rows:
        if e.seq != expected:
            if e.seq > expected:
                n = e.seq - expected
                what = f"entry #{expected} is missing" if n == 1 else f"entries #{expected}-#{e.seq - 1} are missing"
                return expected, f"{what}: deleted, or the log was renumbered"
            return e.seq, f"entry #{e.seq} is out of sequence (expected #{expected})"
        try:
            payload = json.loads(e.payload)
        except ValueError:
            return e.seq, f"entry #{e.seq} was modified: its payload is not JSON"
        if canonical_json(payload) != e.payload:
            return e.seq, f"entry #{e.seq} was modified: its payload is not in canonical form"
        if e.prev_hash != prev:
            if e.seq == 1:
                return 1, ("entry #1 does not start from this database's genesis: the log was replaced, or "
                           "belongs to another database")
            return e.seq, (f"entry #{e.seq} does not follow entry #{e.seq - 1}: its previous hash does not match "
                           "(an entry was inserted, deleted or moved here)")
        if entry_hash(e.seq, e.created, e.actor, e.action, payload, e.prev_hash) != e.hash:
            return e.seq, f"entry #{e.seq} was modified: its content does not match its hash"
        if e.seq == 1 and ident.genesis != GENESIS:
            if e.action != "schema-migrated" or not isinstance(payload, dict) or \
                    payload.get("from_revision") is not None or payload.get("database") != ident.database_id:
                return 1, ("entry #1 is not the `schema-migrated` entry that created this database: the log was "
                           "wiped and restarted")
        prev = e.hash
        expected += 1
    return None, ""


def _check_head(rows: Sequence[Entry], head: Any, ident: Identity | None) -> tuple[int | None, str]:
    last = rows[-1] if rows else None
    last_seq = last.seq if last else 0
    if head is None:
        if rows:
            return last_seq, "the log's head (audit_head) was deleted"
        if ident is not None:
            return 1, "the audit log and its head are empty, but the database was initialized: the log was wiped"
        return None, ""
    head_seq, head_hash = int(head.seq), str(head.hash)
    if head_seq > last_seq:
        return last_seq + 1, f"the log ends at entry #{last_seq} but its head is #{head_seq}: entries were deleted"
    if head_seq < last_seq:
        return head_seq + 1, f"entries after #{head_seq} (the head) were added outside tranche"
    if last is not None and head_hash != last.hash:
        return last_seq, f"the head's hash does not match entry #{last_seq}"
    if last is None and ident is not None:
        return 1, "the audit log is empty, but the database was initialized: the log was wiped"
    return None, ""


def _check_signatures(rows: Sequence[Entry], head: Any, ident: Identity, key: bytes) -> tuple[int | None, str]:
    signed_from: int | None = None
    for e in rows:
        if e.mac is None:
            if signed_from is not None:
                return e.seq, f"entry #{e.seq} is not signed, though entries from #{signed_from} are: it was forged"
            continue
        if signed_from is None:
            signed_from = e.seq
        if not hmac.compare_digest(e.mac, ident.entry_mac(key, e.seq, e.hash)):
            return e.seq, (f"entry #{e.seq} is not signed by the audit key: it was forged or rewritten "
                           "(or this is another database's key)")
    if head is not None and rows:
        if head.mac is None:
            return rows[-1].seq, "the log's head is not signed: it was reset outside tranche"
        if not hmac.compare_digest(str(head.mac), ident.head_mac(key, int(head.seq), str(head.hash))):
            return rows[-1].seq, ("the log's head is not signed by the audit key: the log was cut or extended "
                                  "outside tranche (or this is another database's key)")
    return None, ""


def _check_anchor(rows: Sequence[Entry], a: Anchor, ident: Identity | None) -> tuple[int | None, str]:
    if a.database and ident is not None and a.database != ident.database_id:
        return 1, (f"the anchor belongs to database `{a.database}`, this one is `{ident.database_id}`: "
                   "the database was replaced, or this is the wrong anchor")
    last = rows[-1].seq if rows else 0
    if a.seq > last:
        return last + 1, (f"the anchor names entry #{a.seq}, but the log ends at #{last}: entries were deleted "
                          "(or the database was restored from an older copy)")
    by_seq = {e.seq: e.hash for e in rows}
    if by_seq.get(a.seq) != a.hash:
        return 1, f"entry #{a.seq} does not match the anchor: the log was rewritten up to there"
    return None, ""


def verify(db: Database, anchor: str | Anchor | None = None, *, key_file: Path | None = None,
           replay: bool = True) -> Verification:
    """Check the chain, head, signatures, anchor and replayed state; name the first problem and every difference."""

    parsed = parse_anchor(anchor) if isinstance(anchor, str) else anchor
    path = key_file or keys.key_path(db.url)
    key = keys.read_key(path)
    with db.read() as conn:
        rows = [_row_entry(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]
        head = conn.execute(select(audit_head.c.seq, audit_head.c.hash, audit_head.c.mac)
                            .where(audit_head.c.id == 1)).first()
        try:
            ident = identity(conn)
        except SQLAlchemyError:
            ident = None
        bad, problem = _check_chain(rows, ident)
        if bad is None and not problem:
            bad, problem = _check_head(rows, head, ident)
        signatures = "unchecked" if key is None else "checked"
        if key is not None and ident is not None:
            if bad is None and not problem:
                bad, problem = _check_signatures(rows, head, ident, key)
        if parsed is not None and bad is None and not problem:
            bad, problem = _check_anchor(rows, parsed, ident)
        differences = tuple(replay_state(conn, rows)) if replay else ()
    last = rows[-1] if rows else None
    ok = bad is None and not problem and not differences
    return Verification(ok, len(rows), last.seq if last else 0, last.hash if last else GENESIS, bad, problem,
                        ident.database_id if ident else None, signatures, str(path), parsed is not None,
                        differences)
