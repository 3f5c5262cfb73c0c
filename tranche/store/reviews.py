"""Case-by-case review: cases for `review` items, decided by reviewers, valid for one regime version.

A **case** is one line item under one regime whose outcome there is
`review`; it carries the criterion (e.g. "urgent necessity").  Cases are
opened by a load or a fact change (:func:`sync_cases`, requested by the actor
who made the change) or on request (:func:`open_case`).  A reviewer approves
or denies an open case with a justification; the requester may not approve
it.  Decisions use **optimistic locking**: a case has a revision that every
change increments, a decision names the revision it was made on, and when two
reviewers decide the same case at once exactly one succeeds -- the other gets
:class:`~tranche.errors.ConflictError`.

An approval counts only under the regime version it was given under: when a
load changes the regime, the case is reopened under the new version and
listed as **stale** (:func:`rebase_cases`); if the item no longer needs
review there, the case is withdrawn.  :func:`review_map` gives the engine the
cases that apply to an evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, insert, select, update

from ..engine import Evaluator, ReviewCase
from ..errors import ConflictError, EvaluationError, NotFound, PermissionDenied, UsageError, did_you_mean
from ..language.scenario import Outcome, Scenario
from .audit import append, append_all
from .db import Database
from .events import CaseApproved, CaseDenied, CaseOpened, CaseReopened, CaseWithdrawn, Event, format_time, utc_now
from .reading import pick, read
from .tables import CASE_STATUSES, review_cases, review_decisions
from .users import require

__all__ = ["Case", "CaseDecision", "parse_case_id", "get_case", "case_history", "list_cases", "open_case", "approve",
           "deny", "decide_case", "rebase_cases", "sync_cases", "review_map", "cases_of"]


@dataclass(frozen=True)
class Case:
    """A review case as stored."""

    id: int
    scenario: str
    item: str
    regime: str
    regime_version: str
    criterion: str | None
    status: str  # open | approved | denied | withdrawn
    stale_version: str | None
    requested_by: str
    opened_at: str
    decided_by: str | None
    decided_at: str | None
    justification: str | None
    revision: int

    @property
    def stale(self) -> bool:
        """Reopened because the regime changed after a decision: the old decision no longer counts."""
        return self.status == "open" and self.stale_version is not None

    def to_review_case(self) -> ReviewCase:
        return ReviewCase(str(self.id), self.item, self.status, self.regime, self.regime_version,
                          self.justification or "", self.decided_by or "")

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.id, "scenario": self.scenario, "item": self.item, "regime": self.regime,
                "regime_version": self.regime_version, "criterion": self.criterion, "status": self.status,
                "stale": self.stale, "stale_version": self.stale_version, "requested_by": self.requested_by,
                "opened_at": self.opened_at, "decided_by": self.decided_by, "decided_at": self.decided_at,
                "justification": self.justification, "revision": self.revision}


@dataclass(frozen=True)
class CaseDecision:
    """One step in a case's history: opened, approved, denied, reopened or withdrawn."""

    revision: int
    action: str
    actor: str
    at: str
    regime_version: str
    justification: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "action": self.action, "actor": self.actor, "at": self.at,
                "regime_version": self.regime_version, "justification": self.justification}


def _case(r: Any) -> Case:
    return Case(int(r.id), r.scenario_id, r.item_id, r.regime_id, r.regime_version, r.criterion, r.status,
                r.stale_version, r.requested_by, r.opened_at, r.decided_by, r.decided_at, r.justification,
                int(r.revision))


def parse_case_id(text: str | int) -> int:
    """``12`` or ``#12`` -> 12."""
    if isinstance(text, int):
        return text
    raw = text.strip().lstrip("#")
    if not raw.isdigit():
        raise NotFound(f"unknown case `{text}`", help="cases are numbers; list them with `tranche review list`")
    return int(raw)


def _get(conn: Connection, case_id: int) -> Case:
    row = conn.execute(select(review_cases).where(review_cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"unknown case `{case_id}`", help="list the cases with `tranche review list --status all`")
    return _case(row)


def get_case(db: Database, case_id: int | str) -> Case:
    with db.read() as conn:
        return _get(conn, parse_case_id(case_id))


def case_history(db: Database, case_id: int | str) -> list[CaseDecision]:
    cid = parse_case_id(case_id)
    with db.read() as conn:
        _get(conn, cid)
        return [CaseDecision(r.revision, r.action, r.actor, r.at, r.regime_version, r.justification)
                for r in conn.execute(select(review_decisions).where(review_decisions.c.case_id == cid)
                                      .order_by(review_decisions.c.revision))]


def list_cases(db: Database, scenario: str | None = None, status: str | None = "open", stale: bool = False,
               item: str | None = None, regime: str | None = None) -> list[Case]:
    """Cases by id; ``status`` None or "all" lists every status; ``stale`` only the reopened ones."""
    if status not in (None, "all", *CASE_STATUSES):
        raise UsageError(f"unknown status `{status}`", help=did_you_mean(status or "", (*CASE_STATUSES, "all"))
                         or "one of " + ", ".join(f"`{s}`" for s in (*CASE_STATUSES, "all")))
    q = select(review_cases).order_by(review_cases.c.id)
    with db.read() as conn:
        if scenario is not None:
            q = q.where(review_cases.c.scenario_id == pick(conn, scenario, db.display))
        if status not in (None, "all"):
            q = q.where(review_cases.c.status == status)
        if item is not None:
            q = q.where(review_cases.c.item_id == item)
        if regime is not None:
            q = q.where(review_cases.c.regime_id == regime)
        cases = [_case(r) for r in conn.execute(q)]
    return [c for c in cases if c.stale] if stale else cases


def cases_of(conn: Connection, scenario_id: str) -> list[Case]:
    return [_case(r) for r in conn.execute(select(review_cases).where(review_cases.c.scenario_id == scenario_id)
                                           .order_by(review_cases.c.id))]


def _record(conn: Connection, case_id: int, revision: int, action: str, actor: str, at: str, version: str,
            justification: str | None = None) -> None:
    conn.execute(insert(review_decisions).values(case_id=case_id, revision=revision, action=action, actor=actor,
                                                 at=at, regime_version=version, justification=justification))


def _open(conn: Connection, scenario: Scenario, item: str, regime: str, criterion: str | None,
          actor: str) -> tuple[int, Event]:
    ev_time = utc_now()
    now = format_time(ev_time)
    version = scenario.regimes[regime].version
    result = conn.execute(insert(review_cases).values(
        scenario_id=scenario.id, item_id=item, regime_id=regime, regime_version=version, criterion=criterion,
        status="open", stale_version=None, requested_by=actor, opened_at=now, revision=1))
    pk = result.inserted_primary_key
    assert pk is not None
    case_id = int(pk[0])
    _record(conn, case_id, 1, "opened", actor, now, version)
    return case_id, CaseOpened(actor=actor, created=ev_time, case=case_id, scenario=scenario.id, item=item,
                               regime=regime, regime_version=version, criterion=criterion, requested_by=actor)


def sync_cases(conn: Connection, scenario: Scenario, actor: str, as_of: dt.date) -> list[int]:
    """Open a case for every (item, regime) whose outcome under that regime at ``as_of`` is `review` and has none."""
    existing = {(c.item, c.regime) for c in cases_of(conn, scenario.id)}
    opened: list[int] = []
    events: list[Event] = []
    for regime in scenario.regimes.values():
        ev = Evaluator(scenario, as_of, (), regime.id)
        for item in scenario.items:
            if (item.id, regime.id) in existing or not regime.applies_to(item.recipient):
                continue
            d = ev.decide(item)
            if d.outcome is Outcome.REVIEW:
                case_id, event = _open(conn, scenario, item.id, regime.id, d.criterion, actor)
                opened.append(case_id)
                events.append(event)
    append_all(conn, events)
    return opened


def rebase_cases(conn: Connection, scenario: Scenario, changed: dict[str, tuple[str, str]], removed: Iterable[str],
                 actor: str, as_of: dt.date) -> tuple[list[int], list[int], list[int]]:
    """After a load: reopen the cases of changed regimes (stale if decided) or withdraw them.

    Returns (reopened, stale, withdrawn): stale ones are the reopened cases whose decision no longer counts.
    """
    gone = set(removed)
    reopened: list[int] = []
    stale: list[int] = []
    withdrawn: list[int] = []
    events: list[Event] = []
    evaluators: dict[str, Evaluator] = {}
    for c in cases_of(conn, scenario.id):
        if c.status == "withdrawn":
            continue
        reason = None
        outcome: Outcome | None = None
        criterion = c.criterion
        if c.regime in gone or c.regime not in scenario.regimes:
            reason = f"regime `{c.regime}` is no longer in the scenario"
        elif not scenario.has_item(c.item):
            reason = f"item `{c.item}` is no longer in the pipeline"
        elif c.regime in changed and c.regime_version != scenario.regimes[c.regime].version:
            ev = evaluators.get(c.regime)
            if ev is None:
                ev = evaluators[c.regime] = Evaluator(scenario, as_of, (), c.regime)
            d = ev.decide(scenario.item(c.item))
            outcome, criterion = d.outcome, d.criterion
            if outcome is not Outcome.REVIEW:
                reason = (f"under version {scenario.regimes[c.regime].version} of `{c.regime}` the item is "
                          f"{outcome.value}, no longer review")
        else:
            continue
        ev_time = utc_now()
        now = format_time(ev_time)
        revision = c.revision + 1
        where = (review_cases.c.id == c.id) & (review_cases.c.revision == c.revision)
        if reason is not None:
            conn.execute(update(review_cases).where(where).values(status="withdrawn", revision=revision))
            _record(conn, c.id, revision, "withdrawn", actor, now, c.regime_version, reason)
            events.append(CaseWithdrawn(actor=actor, created=ev_time, case=c.id, scenario=scenario.id, item=c.item,
                                        regime=c.regime, previous_status=c.status, reason=reason))
            withdrawn.append(c.id)
            continue
        new_version = scenario.regimes[c.regime].version
        decided = c.status in ("approved", "denied")
        stale_version = c.regime_version if decided else c.stale_version
        conn.execute(update(review_cases).where(where).values(
            status="open", regime_version=new_version, criterion=criterion, stale_version=stale_version,
            decided_by=None, decided_at=None, justification=None, revision=revision))
        _record(conn, c.id, revision, "reopened", actor, now, new_version,
                f"regime `{c.regime}` changed from version {c.regime_version}"
                + (f"; the {c.status} decision no longer counts" if decided else ""))
        events.append(CaseReopened(actor=actor, created=ev_time, case=c.id, scenario=scenario.id, item=c.item,
                                   regime=c.regime, regime_version=new_version, previous_version=c.regime_version,
                                   previous_status=c.status, criterion=criterion, stale=decided))
        reopened.append(c.id)
        if decided:
            stale.append(c.id)
    append_all(conn, events)
    return reopened, stale, withdrawn


def open_case(db: Database, scenario: str | None, item: str, regime: str, actor: str,
              as_of: dt.date | None = None, assume: Sequence[str] = ()) -> Case:
    """Request a review of ``item`` under ``regime``: its outcome there (at ``as_of``) must be `review`."""
    day = as_of or dt.date.today()
    with db.write() as conn:
        require(conn, actor, "review.open")
        s = read(conn, pick(conn, scenario, db.display))
        if not s.has_item(item):
            raise NotFound(f"unknown item `{item}`", help=did_you_mean(item, [i.id for i in s.items]))
        if regime not in s.regimes:
            raise NotFound(f"unknown regime `{regime}`", help=did_you_mean(regime, s.regimes)
                           or "known: " + ", ".join(f"`{r}`" for r in s.regimes))
        found = conn.execute(select(review_cases).where(
            (review_cases.c.scenario_id == s.id) & (review_cases.c.item_id == item)
            & (review_cases.c.regime_id == regime))).first()
        if found is not None and found.status != "withdrawn":
            raise ConflictError(f"item `{item}` has case {found.id} under `{regime}` already ({found.status})",
                                help=f"see it with `tranche review show {found.id}`")
        d = Evaluator(s, day, assume, regime).decide(s.item(item))
        if d.outcome is not Outcome.REVIEW:
            raise UsageError(f"item `{item}` is {d.outcome.value} under `{regime}` on {day}, not review",
                             help="only items whose outcome is review get a case")
        if found is not None:  # a withdrawn case comes back
            ev_time = utc_now()
            now = format_time(ev_time)
            version = s.regimes[regime].version
            revision = int(found.revision) + 1
            conn.execute(update(review_cases).where(review_cases.c.id == found.id).values(
                status="open", regime_version=version, criterion=d.criterion, requested_by=actor, opened_at=now,
                decided_by=None, decided_at=None, justification=None, revision=revision))
            _record(conn, found.id, revision, "opened", actor, now, version)
            append(conn, CaseOpened(actor=actor, created=ev_time, case=found.id, scenario=s.id, item=item,
                                    regime=regime, regime_version=version, criterion=d.criterion,
                                    requested_by=actor))
            return _get(conn, found.id)
        case_id, event = _open(conn, s, item, regime, d.criterion, actor)
        append(conn, event)
        return _get(conn, case_id)


def approve(db: Database, case_id: int | str, actor: str, justification: str,
            expected_revision: int | None = None) -> Case:
    """Approve an open case (not by its requester); the item becomes permitted under this regime version."""
    return decide_case(db, case_id, "approved", actor, justification, expected_revision)


def deny(db: Database, case_id: int | str, actor: str, justification: str,
         expected_revision: int | None = None) -> Case:
    """Deny an open case; the item becomes prohibited under this regime version."""
    return decide_case(db, case_id, "denied", actor, justification, expected_revision)


def _who(c: Case) -> str:
    return f" by `{c.decided_by}` at {c.decided_at}" if c.decided_by else ""


def decide_case(db: Database, case_id: int | str, status: str, actor: str, justification: str,
                expected_revision: int | None = None) -> Case:
    """Approve or deny, on the revision the reviewer saw (``expected_revision``, else the one read first)."""
    if status not in ("approved", "denied"):
        raise UsageError(f"a case is approved or denied, not `{status}`")
    text = (justification or "").strip()
    if not text:
        raise UsageError("a decision needs a justification", help='pass --justification "TEXT"')
    cid = parse_case_id(case_id)
    if expected_revision is None:
        with db.read() as conn:
            expected_revision = _get(conn, cid).revision
    with db.write() as conn:
        require(conn, actor, "review.decide")
        c = _get(conn, cid)
        if c.revision != expected_revision:
            raise ConflictError(f"case {cid} changed while you were deciding: it is now {c.status}{_who(c)} "
                                f"(revision {c.revision}, you decided on revision {expected_revision})",
                                help=f"look again with `tranche review show {cid}`")
        if c.status != "open":
            raise ConflictError(f"case {cid} is {c.status} already{_who(c)}",
                                help="a decision is final for its regime version; the case reopens if the regime "
                                     "changes")
        if status == "approved" and actor == c.requested_by:
            raise PermissionDenied(f"`{actor}` requested case {cid} and may not approve it",
                                   help="separation of duties: another reviewer must approve it")
        ev_time = utc_now()
        now = format_time(ev_time)
        revision = c.revision + 1
        result = conn.execute(update(review_cases).where(
            (review_cases.c.id == cid) & (review_cases.c.revision == c.revision)).values(
            status=status, decided_by=actor, decided_at=now, justification=text, revision=revision))
        if result.rowcount != 1:
            raise ConflictError(f"case {cid} changed while you were deciding",
                                help=f"look again with `tranche review show {cid}`")
        _record(conn, cid, revision, status, actor, now, c.regime_version, text)
        cls = CaseApproved if status == "approved" else CaseDenied
        append(conn, cls(actor=actor, created=ev_time, case=cid, scenario=c.scenario, item=c.item, regime=c.regime,
                         regime_version=c.regime_version, revision=revision, justification=text))
        return _get(conn, cid)


def review_map(ev: Evaluator, cases: Iterable[Case]) -> dict[str, ReviewCase]:
    """item id -> the case that applies under the regime in force for the item in this evaluation."""
    by_item: dict[str, list[Case]] = {}
    for c in cases:
        if c.status != "withdrawn":
            by_item.setdefault(c.item, []).append(c)
    out: dict[str, ReviewCase] = {}
    for item_id, item_cases in by_item.items():
        if not ev.scenario.has_item(item_id):
            continue
        try:
            regime = ev.in_force(ev.scenario.item(item_id).recipient).regime
        except EvaluationError:
            continue
        for c in item_cases:
            if c.regime == regime.id:
                out[item_id] = c.to_review_case()
    return out
