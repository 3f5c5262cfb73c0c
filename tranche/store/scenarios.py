"""Scenarios in the store: load one (in one transaction), read one back, list versions.

:func:`load` writes a scenario that passed every check -- taxonomy, sources,
programs, line items, facts, law, regimes, timelines and policy tests -- in
one write transaction: a failed or interrupted load leaves the database as
it was.  Loading the same content again changes nothing.  The law and each
regime are **versioned and immutable**: a version is the content hash of the
rules (``Regime.version``); loading a changed regime adds a new version row
and makes it current, and the review cases given under the old version are
reopened (see :mod:`tranche.store.reviews`).

Facts are merged: a fact whose entry in the files did not change since the
last load keeps what `tranche fact assert|retract` recorded; a fact whose
file entry changed takes the file's dates.

:func:`read` gives back a :class:`~tranche.language.Scenario` equal to the
one loaded (with the facts as asserted), so that every evaluation works on
the database as on the files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..language.progress import Progress
from ..language.scenario import Scenario
from . import codec
from .audit import append_all
from .db import Database
from .events import (
    Event,
    FactAsserted,
    FactRetracted,
    LawActivated,
    RegimeActivated,
    ScenarioLoaded,
    format_time,
    utc_now,
)
from .tables import (
    facts,
    law_versions,
    line_items,
    policy_tests,
    programs,
    regime_versions,
    regimes,
    scenarios,
    sources,
    taxonomy_nodes,
    timelines,
)
from .reading import pick, read
from .reviews import rebase_cases, sync_cases
from .users import require

__all__ = ["LoadReport", "VersionInfo", "ScenarioInfo", "load", "read", "read_scenario", "list_scenarios",
           "versions", "pick", "Progress"]

CHUNK = 1000


@dataclass(frozen=True)
class VersionInfo:
    """One version of a scenario's law or of one of its regimes."""

    scenario: str
    kind: str  # law | regime
    name: str
    number: int
    version: str
    created_at: str
    created_by: str
    current: bool

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "kind": self.kind, "name": self.name, "number": self.number,
                "version": self.version, "created_at": self.created_at, "created_by": self.created_by,
                "current": self.current}


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario in the store: what it is and when it was last loaded."""

    id: str
    title: str
    revision: int
    loaded_at: str
    loaded_by: str
    law_version: str
    items: int
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "revision": self.revision, "loaded_at": self.loaded_at,
                "loaded_by": self.loaded_by, "law_version": self.law_version, "items": self.items,
                "path": self.path}


@dataclass
class LoadReport:
    """What a load did: new versions, facts changed, review cases opened, reopened or withdrawn."""

    scenario: str
    unchanged: bool
    revision: int
    law_version: str
    law_new: bool = False
    regimes: list[tuple[str, str, int, str]] = field(default_factory=list)  # (regime, version, number, state)
    counts: dict[str, int] = field(default_factory=dict)
    facts_changed: list[str] = field(default_factory=list)
    cases_opened: list[int] = field(default_factory=list)
    cases_reopened: list[int] = field(default_factory=list)  # under a new regime version
    cases_stale: list[int] = field(default_factory=list)  # reopened ones whose decision no longer counts
    cases_withdrawn: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "unchanged": self.unchanged, "revision": self.revision,
                "law_version": self.law_version, "law_new": self.law_new,
                "regimes": [{"regime": r, "version": v, "number": n, "state": st} for r, v, n, st in self.regimes],
                "counts": self.counts, "facts_changed": self.facts_changed, "cases_opened": self.cases_opened,
                "cases_reopened": self.cases_reopened, "cases_stale": self.cases_stale,
                "cases_withdrawn": self.cases_withdrawn}


def _list(value: Any) -> str:
    return codec.dumps(list(value))


def _counts(s: Scenario) -> dict[str, int]:
    return {"items": len(s.items), "programs": len(s.programs), "categories": len(s.taxonomy.nodes),
            "facts": len(s.facts), "law_rules": len(s.law.rules), "regimes": len(s.regimes),
            "timelines": len(s.timelines), "sources": len(s.sources), "tests": len(s.tests)}


def load(db: Database, s: Scenario, actor: str, *, as_of: dt.date | None = None, path: str | None = None,
         on_progress: Progress | None = None) -> LoadReport:
    """Write a validated scenario in one transaction; see the module's docstring."""
    digest = codec.content_hash(s)
    day = as_of or dt.date.today()
    with db.write() as conn:
        row = conn.execute(select(scenarios).where(scenarios.c.id == s.id)).first()
        if row is not None and row.content_hash == digest:
            return LoadReport(s.id, True, row.revision, row.law_version, counts=_counts(s))
        require(conn, actor, "scenario.load")
        created = utc_now()
        now = format_time(created)
        revision = row.revision + 1 if row is not None else 1
        report = LoadReport(s.id, False, revision, s.law.version, counts=_counts(s))
        events: list[Event] = []
        where_from = path if path is not None else str(s.root)
        values: dict[str, Any] = {"title": s.title, "manifest": codec.dumps(codec.manifest_doc(s)),
                  "path": where_from, "content_hash": digest,
                  "law_version": s.law.version, "revision": revision, "loaded_at": now, "loaded_by": actor}
        if row is None:
            conn.execute(insert(scenarios).values(id=s.id, **values))
        else:
            conn.execute(update(scenarios).where(scenarios.c.id == s.id).values(**values))
        _write_parts(conn, s, on_progress)
        events += _write_facts(conn, s, actor, now, report)
        previous_law = row.law_version if row is not None else None
        law_event = _write_law(conn, s, actor, now, previous_law, report)
        changed, removed, regime_events = _write_regimes(conn, s, actor, now, report)
        events = [ScenarioLoaded(actor=actor, created=created, scenario=s.id, revision=revision, content_hash=digest,
                                 law_version=s.law.version,
                                 regime_versions={r.id: r.version for r in s.regimes.values()},
                                 counts=report.counts, path=where_from, facts=_fact_states(conn, s.id),
                                 parts_hash=codec.parts_hash(s)),
                  *([law_event] if law_event else []), *regime_events, *events]
        append_all(conn, events)

        stored = read(conn, s.id)
        reopened, stale, withdrawn = rebase_cases(conn, stored, changed, removed, actor, day)
        report.cases_reopened, report.cases_stale, report.cases_withdrawn = reopened, stale, withdrawn
        report.cases_opened = sync_cases(conn, stored, actor, day)
        return report


def _fact_states(conn: Connection, sid: str) -> dict[str, list[str | None]]:
    """fact -> [date, until] as the facts table holds them (recorded in `scenario-loaded` for replay)."""
    return {r.id: [r.date.isoformat() if r.date else None, r.until.isoformat() if r.until else None]
            for r in conn.execute(select(facts.c.id, facts.c.date, facts.c.until).where(facts.c.scenario_id == sid))}


def _write_parts(conn: Connection, s: Scenario, on_progress: Progress | None) -> None:
    sid = s.id
    for table in (taxonomy_nodes, sources, programs, line_items, timelines, policy_tests):
        conn.execute(delete(table).where(table.c.scenario_id == sid))
    if s.taxonomy.nodes:
        conn.execute(insert(taxonomy_nodes), [
            {"scenario_id": sid, "id": n.id, "position": i, "parent": n.parent, "title": n.title,
             "description": n.description, "sources": _list(n.sources)}
            for i, n in enumerate(s.taxonomy.nodes.values())])
    if s.sources:
        conn.execute(insert(sources), [
            {"scenario_id": sid, "id": x.id, "position": i, "title": x.title, "kind": x.kind, "citation": x.citation,
             "date": x.date, "file": x.file, "notes": _list(x.notes), "marking": x.marking}
            for i, x in enumerate(s.sources.values())])
    if s.programs:
        conn.execute(insert(programs), [
            {"scenario_id": sid, "id": p.id, "position": i, "recipient": p.recipient, "title": p.title,
             "fiscal_year": p.fiscal_year, "total": p.total, "status": p.status, "sources": _list(p.sources),
             "notes": _list(p.notes)} for i, p in enumerate(s.programs.values())])
    total = len(s.items)
    for start in range(0, total, CHUNK):
        chunk = s.items[start:start + CHUNK]
        conn.execute(insert(line_items), [
            {"scenario_id": sid, "id": it.id, "position": start + i, "line": it.line, "recipient": it.recipient,
             "program": it.program, "channel": it.channel, "category": it.category, "amount": it.amount,
             "flags": _list(sorted(it.flags)), "description": it.description, "program_status": it.program_status,
             "attrs": codec.dumps(codec.attrs_doc(it.attrs)), "marking": it.marking} for i, it in enumerate(chunk)])
        if on_progress is not None:
            on_progress("items", min(start + CHUNK, total), total)
    if s.timelines:
        conn.execute(insert(timelines), [
            {"scenario_id": sid, "id": t.id, "position": i, "document": codec.dumps(codec.timeline_doc(t))}
            for i, t in enumerate(s.timelines.values())])
    if s.tests:
        conn.execute(insert(policy_tests), [
            {"scenario_id": sid, "position": i, "document": codec.dumps(codec.test_doc(t))}
            for i, t in enumerate(s.tests)])


def _write_facts(conn: Connection, s: Scenario, actor: str, now: str, report: LoadReport) -> list[Event]:
    events: list[Event] = []
    existing = {r.id: r for r in conn.execute(select(facts).where(facts.c.scenario_id == s.id))}
    for pos, f in enumerate(s.facts.values()):
        r = existing.pop(f.id, None)
        base = {"position": pos, "title": f.title, "kind": f.kind, "recipient": f.recipient,
                "notes": _list(f.notes), "file_date": f.date, "file_until": f.until, "marking": f.marking}
        if r is None:
            conn.execute(insert(facts).values(scenario_id=s.id, id=f.id, date=f.date, until=f.until,
                                              sources=_list(f.sources), asserted_by=actor, asserted_at=now, **base))
            continue
        where = (facts.c.scenario_id == s.id) & (facts.c.id == f.id)
        if (r.file_date, r.file_until) == (f.date, f.until):  # the files did not change it: keep what was asserted
            kept = list(f.sources) + [x for x in codec.loads(r.sources) if x not in f.sources]
            conn.execute(update(facts).where(where).values(sources=_list(kept), **base))
            continue
        conn.execute(update(facts).where(where).values(date=f.date, until=f.until, sources=_list(f.sources),
                                                       asserted_by=actor, asserted_at=now, **base))
        if (r.date, r.until) != (f.date, f.until):
            report.facts_changed.append(f.id)
            if f.date is None:
                events.append(FactRetracted(actor=actor, scenario=s.id, fact=f.id, previous_date=r.date,
                                            previous_until=r.until, sources=f.sources))
            else:
                events.append(FactAsserted(actor=actor, scenario=s.id, fact=f.id, date=f.date, until=f.until,
                                           sources=f.sources, previous_date=r.date, previous_until=r.until))
    for gone in existing:
        conn.execute(delete(facts).where((facts.c.scenario_id == s.id) & (facts.c.id == gone)))
        report.facts_changed.append(gone)
    return events


def _write_law(conn: Connection, s: Scenario, actor: str, now: str, previous: str | None,
               report: LoadReport) -> Event | None:
    version = s.law.version
    known = conn.execute(select(law_versions.c.number).where(
        (law_versions.c.scenario_id == s.id) & (law_versions.c.version == version))).scalar_one_or_none()
    if known is None:
        top = conn.execute(select(func.max(law_versions.c.number)).where(
            law_versions.c.scenario_id == s.id)).scalar_one_or_none() or 0
        known = top + 1
        conn.execute(insert(law_versions).values(scenario_id=s.id, version=version, number=known,
                                                 document=codec.dumps(codec.law_doc(s.law)), created_at=now,
                                                 created_by=actor))
        report.law_new = True
    if previous == version:
        return None
    return LawActivated(actor=actor, scenario=s.id, version=version, number=known, previous_version=previous)


def _write_regimes(conn: Connection, s: Scenario, actor: str, now: str,
                   report: LoadReport) -> tuple[dict[str, tuple[str, str]], set[str], list[Event]]:
    current = {r.regime_id: r.current_version
               for r in conn.execute(select(regimes).where(regimes.c.scenario_id == s.id))}
    changed: dict[str, tuple[str, str]] = {}
    events: list[Event] = []
    for pos, regime in enumerate(s.regimes.values()):
        version = regime.version
        number = conn.execute(select(regime_versions.c.number).where(
            (regime_versions.c.scenario_id == s.id) & (regime_versions.c.regime_id == regime.id)
            & (regime_versions.c.version == version))).scalar_one_or_none()
        state = "unchanged"
        if number is None:
            top = conn.execute(select(func.max(regime_versions.c.number)).where(
                (regime_versions.c.scenario_id == s.id) & (regime_versions.c.regime_id == regime.id)
            )).scalar_one_or_none() or 0
            number = top + 1
            conn.execute(insert(regime_versions).values(
                scenario_id=s.id, regime_id=regime.id, version=version, number=number,
                document=codec.dumps(codec.regime_doc(regime)), created_at=now, created_by=actor))
        previous = current.pop(regime.id, None)
        where = (regimes.c.scenario_id == s.id) & (regimes.c.regime_id == regime.id)
        if previous is None:
            conn.execute(insert(regimes).values(scenario_id=s.id, regime_id=regime.id, position=pos,
                                                current_version=version, activated_at=now, activated_by=actor,
                                                marking=regime.marking))
            state = "new"
        elif previous != version:
            conn.execute(update(regimes).where(where).values(position=pos, current_version=version,
                                                             activated_at=now, activated_by=actor,
                                                             marking=regime.marking))
            changed[regime.id] = (previous, version)
            state = "changed"
        else:
            conn.execute(update(regimes).where(where).values(position=pos, marking=regime.marking))
        if state != "unchanged":
            events.append(RegimeActivated(actor=actor, scenario=s.id, regime=regime.id, version=version,
                                          number=number, previous_version=previous))
        report.regimes.append((regime.id, version, number, state))
    for gone in current:
        conn.execute(delete(regimes).where((regimes.c.scenario_id == s.id) & (regimes.c.regime_id == gone)))
    return changed, set(current), events


# -- reading --------------------------------------------------------------------------------------------

def read_scenario(db: Database, scenario_id: str | None = None) -> Scenario:
    """Read a scenario (the only one, if ``scenario_id`` is None) in one consistent snapshot."""
    with db.read() as conn:
        return read(conn, pick(conn, scenario_id, db.display))


def list_scenarios(db: Database) -> list[ScenarioInfo]:
    with db.read() as conn:
        counts = {r[0]: r[1] for r in conn.execute(
            select(line_items.c.scenario_id, func.count()).group_by(line_items.c.scenario_id))}
        return [ScenarioInfo(r.id, r.title, r.revision, r.loaded_at, r.loaded_by, r.law_version,
                             int(counts.get(r.id, 0)), r.path)
                for r in conn.execute(select(scenarios).order_by(scenarios.c.id))]


def versions(db: Database, scenario_id: str | None = None) -> list[VersionInfo]:
    """Every law and regime version, oldest first, with the current ones marked."""
    with db.read() as conn:
        sid = pick(conn, scenario_id, db.display)
        current_law = conn.execute(select(scenarios.c.law_version).where(scenarios.c.id == sid)).scalar_one()
        current = {r.regime_id: r.current_version
                   for r in conn.execute(select(regimes).where(regimes.c.scenario_id == sid))}
        order = {r.regime_id: r.position
                 for r in conn.execute(select(regimes).where(regimes.c.scenario_id == sid))}
        out = [VersionInfo(sid, "law", "law", r.number, r.version, r.created_at, r.created_by,
                           r.version == current_law)
               for r in conn.execute(select(law_versions).where(law_versions.c.scenario_id == sid)
                                     .order_by(law_versions.c.number))]
        regime_rows = list(conn.execute(select(regime_versions).where(regime_versions.c.scenario_id == sid)))
        regime_rows.sort(key=lambda r: (order.get(r.regime_id, len(order)), r.regime_id, r.number))
        out += [VersionInfo(sid, "regime", r.regime_id, r.number, r.version, r.created_at, r.created_by,
                            current.get(r.regime_id) == r.version) for r in regime_rows]
        return out
