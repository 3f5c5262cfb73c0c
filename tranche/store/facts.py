"""Facts in the store: assert that a fact holds from a date, or retract it, with who and when.

A fact must be declared by the scenario (its ``facts.yaml``): the rules and
timelines name it.  Asserting sets the date it holds from (and optionally
until); retracting makes it unestablished again (it can still be assumed in
a what-if).  Each change records the actor and time on the fact, appends
`fact-asserted` or `fact-retracted` to the audit log and opens review cases
for items that now need review -- all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import select, update

from ..errors import NotFound, UsageError, did_you_mean
from . import codec
from .audit import append
from .db import Database
from .events import FactAsserted, FactRetracted, format_time, utc_now
from .reading import pick, read
from .reviews import sync_cases
from .tables import facts, sources
from .users import require

__all__ = ["FactRecord", "assert_fact", "retract_fact", "list_facts"]


@dataclass(frozen=True)
class FactRecord:
    """A fact as stored: its dates, sources, and who asserted its current state, when."""

    scenario: str
    id: str
    title: str
    kind: str
    date: dt.date | None
    until: dt.date | None
    sources: tuple[str, ...]
    asserted_by: str
    asserted_at: str
    cases_opened: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "fact": self.id, "title": self.title, "kind": self.kind,
                "date": self.date.isoformat() if self.date else None,
                "until": self.until.isoformat() if self.until else None, "sources": list(self.sources),
                "asserted_by": self.asserted_by, "asserted_at": self.asserted_at,
                "cases_opened": list(self.cases_opened)}


def _record(r: Any, opened: Sequence[int] = ()) -> FactRecord:
    return FactRecord(r.scenario_id, r.id, r.title, r.kind, r.date, r.until, tuple(codec.loads(r.sources)),
                      r.asserted_by, r.asserted_at, tuple(opened))


def list_facts(db: Database, scenario: str | None = None) -> list[FactRecord]:
    with db.read() as conn:
        sid = pick(conn, scenario, db.display)
        return [_record(r) for r in conn.execute(select(facts).where(facts.c.scenario_id == sid)
                                                 .order_by(facts.c.position))]


def _fact_row(conn: Any, sid: str, fact: str) -> Any:
    row = conn.execute(select(facts).where((facts.c.scenario_id == sid) & (facts.c.id == fact))).first()
    if row is None:
        known = [r[0] for r in conn.execute(select(facts.c.id).where(facts.c.scenario_id == sid))]
        raise NotFound(f"unknown fact `{fact}`", help=did_you_mean(fact, known)
                       or "a fact must be declared in the scenario's facts.yaml; list them with `tranche fact list`")
    return row


def _check_source(conn: Any, sid: str, source: str) -> None:
    known = [r[0] for r in conn.execute(select(sources.c.id).where(sources.c.scenario_id == sid))]
    if source not in known:
        raise NotFound(f"unknown source `{source}`", help=did_you_mean(source, known)
                       or "declare it in the scenario's sources.yaml and `tranche load` it")


def assert_fact(db: Database, fact: str, on: dt.date, actor: str, source: str | None = None,
                until: dt.date | None = None, scenario: str | None = None,
                as_of: dt.date | None = None) -> FactRecord:
    """Record that ``fact`` holds from ``on`` (until ``until``), citing ``source``."""
    if until is not None and until <= on:
        raise UsageError(f"--until {until} is not after --on {on}", help="a fact holds from --on until --until")
    with db.write() as conn:
        require(conn, actor, "fact.change")
        sid = pick(conn, scenario, db.display)
        row = _fact_row(conn, sid, fact)
        srcs = list(codec.loads(row.sources))
        if source is not None:
            _check_source(conn, sid, source)
            if source not in srcs:
                srcs.append(source)
        if (row.date, row.until) == (on, until) and tuple(srcs) == tuple(codec.loads(row.sources)):
            return _record(row)
        created = utc_now()
        conn.execute(update(facts).where((facts.c.scenario_id == sid) & (facts.c.id == fact)).values(
            date=on, until=until, sources=codec.dumps(srcs), asserted_by=actor, asserted_at=format_time(created)))
        append(conn, FactAsserted(actor=actor, created=created, scenario=sid, fact=fact, date=on, until=until,
                                  sources=tuple(srcs), previous_date=row.date, previous_until=row.until))

        opened = sync_cases(conn, read(conn, sid), actor, as_of or dt.date.today())
        return _record(_fact_row(conn, sid, fact), opened)


def retract_fact(db: Database, fact: str, actor: str, source: str | None = None, scenario: str | None = None) -> FactRecord:
    """Record that ``fact`` is not established (it no longer holds on any date)."""
    with db.write() as conn:
        require(conn, actor, "fact.change")
        sid = pick(conn, scenario, db.display)
        row = _fact_row(conn, sid, fact)
        if row.date is None:
            raise UsageError(f"fact `{fact}` is not asserted", help="nothing to retract; see `tranche fact list`")
        srcs = list(codec.loads(row.sources))
        if source is not None:
            _check_source(conn, sid, source)
            if source not in srcs:
                srcs.append(source)
        created = utc_now()
        conn.execute(update(facts).where((facts.c.scenario_id == sid) & (facts.c.id == fact)).values(
            date=None, until=None, sources=codec.dumps(srcs), asserted_by=actor, asserted_at=format_time(created)))
        append(conn, FactRetracted(actor=actor, created=created, scenario=sid, fact=fact, previous_date=row.date,
                                   previous_until=row.until, sources=tuple(srcs)))
        return _record(_fact_row(conn, sid, fact))
