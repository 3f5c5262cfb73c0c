"""The append-only, hash-chained audit log.

Every change appends one entry per :class:`~tranche.store.events.Event`, in
the same transaction as the change.  Entry ``n`` stores its time, actor,
action, the canonical JSON of its payload, the hash of entry ``n-1`` and its
own hash::

    hash(n) = sha256(canonical_json({"seq": n, "time": ..., "actor": ..., "action": ...,
                                     "payload": ..., "prev": hash(n-1)}))

with ``hash(0)`` = 64 zeros.  Nothing updates or deletes entries; the head
(last sequence number and hash) is kept beside the log.  :func:`verify`
recomputes the chain and names the first entry that was modified, deleted,
inserted or moved, and notices a log whose tail was cut off.  Keep the head
it prints somewhere else (an *anchor*): a log rewritten from scratch by
someone with write access to the database is detected only against an
anchor (``tranche audit verify --anchor SEQ:HASH``).

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
import json
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, insert, select, update

from ..errors import UsageError
from ..language.scenario import canonical_json
from .db import Database
from .events import Event, event_from_entry, format_time
from .tables import audit_head, audit_log

__all__ = ["GENESIS", "Entry", "Verification", "entry_hash", "append", "append_all", "entries", "verify",
           "parse_anchor"]

GENESIS = "0" * 64


def entry_hash(seq: int, time: str, actor: str, action: str, payload: Any, prev: str) -> str:
    """The SHA-256 of an entry's canonical JSON, chained to the previous entry's hash."""
    body = {"seq": seq, "time": time, "actor": actor, "action": action, "payload": payload, "prev": prev}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


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


def append(conn: Connection, event: Event) -> Entry:
    """Append one event to the log, inside the caller's write transaction."""
    return append_all(conn, (event,))[-1]


def append_all(conn: Connection, events: Iterable[Event]) -> list[Entry]:
    """Append events in order, inside the caller's write transaction (which serialises appenders)."""
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    seq, prev = (head[0], head[1]) if head is not None else (0, GENESIS)
    rows: list[dict[str, Any]] = []
    out: list[Entry] = []
    for ev in events:
        seq += 1
        payload = json.loads(canonical_json(ev.payload()))
        text = canonical_json(payload)
        created = format_time(ev.created)
        h = entry_hash(seq, created, ev.actor, ev.name, payload, prev)
        e = Entry(seq, created, ev.actor, ev.name, text, prev, h)
        rows.append({"seq": e.seq, "created": e.created, "actor": e.actor, "action": e.action, "payload": e.payload,
                     "prev_hash": e.prev_hash, "hash": e.hash})
        out.append(e)
        prev = h
    if not rows:
        return out
    for i in range(0, len(rows), 500):
        conn.execute(insert(audit_log), rows[i:i + 500])
    if head is None:
        conn.execute(insert(audit_head).values(id=1, seq=seq, hash=prev))
    else:
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))
    return out


def _row_entry(r: Any) -> Entry:
    return Entry(int(r.seq), str(r.created), str(r.actor), str(r.action), str(r.payload), str(r.prev_hash),
                 str(r.hash))


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


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`: intact or not, the first bad entry and why, and the head."""

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad: int | None = None
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": {"seq": self.head_seq, "hash": self.head_hash},
                "first_bad": self.first_bad, "problem": self.problem or None}

    def anchor(self) -> str:
        return f"{self.head_seq}:{self.head_hash}"


def parse_anchor(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` (as printed by `tranche audit verify`) -> (seq, hash)."""
    seq, sep, h = text.partition(":")
    try:
        n = int(seq)
    except ValueError:
        n = -1
    h = h.strip().lower()
    if not sep or n < 1 or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise UsageError(f"`{text}` is not an anchor", help="write SEQ:HASH as printed by `tranche audit verify`, "
                                                         "e.g. 12:3f5a...")
    return n, h


def _check(rows: Sequence[Entry], head: tuple[int, str] | None,
           anchor: tuple[int, str] | None) -> tuple[int | None, str]:
    prev = GENESIS
    expected = 1
    by_seq: dict[int, str] = {}
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
            return e.seq, (f"entry #{e.seq} does not follow entry #{e.seq - 1}: its previous hash does not match "
                           "(an entry was inserted, deleted or moved here)")
        if entry_hash(e.seq, e.created, e.actor, e.action, payload, e.prev_hash) != e.hash:
            return e.seq, f"entry #{e.seq} was modified: its content does not match its hash"
        by_seq[e.seq] = e.hash
        prev = e.hash
        expected += 1
    last = expected - 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq > last:
            return last + 1, f"the log ends at entry #{last} but its head is #{head_seq}: entries were deleted"
        if head_seq < last:
            return head_seq + 1, f"entries after #{head_seq} (the head) were added outside tranche"
        if head_hash != prev:
            return last or None, f"the head's hash does not match entry #{last}"
    if anchor is not None:
        a_seq, a_hash = anchor
        if a_seq > last:
            return last + 1, f"the anchor names entry #{a_seq}, but the log ends at #{last}"
        if by_seq.get(a_seq) != a_hash:
            return 1, f"entry #{a_seq} does not match the anchor: the log was rewritten up to there"
    return None, ""


def verify(db: Database, anchor: str | None = None) -> Verification:
    """Recompute the chain; name the first bad entry (modified, deleted, inserted or reordered)."""
    parsed = parse_anchor(anchor) if anchor else None
    with db.read() as conn:
        rows = [_row_entry(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]
        h = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    head = (int(h[0]), str(h[1])) if h is not None else None
    bad, problem = _check(rows, head, parsed)
    last = rows[-1] if rows else None
    return Verification(bad is None, len(rows), last.seq if last else 0, last.hash if last else GENESIS, bad, problem)
