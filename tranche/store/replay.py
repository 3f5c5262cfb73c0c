"""State replay: the tables must be what the audit log says happened.

:func:`state` reads what the tables hold -- users and roles, each scenario's
revision, content hash, current law and regime versions, the versions
stored, the facts' dates and the row counts, every review case and every
review decision -- as plain data.  :func:`derive` computes the same data from
the audit log's events alone.  :func:`replay` compares the two and names
every difference, so that a change made to a state table outside tranche (an
``UPDATE review_cases SET status = 'approved'``, a user given the admin role,
a fact's date moved) is reported by `tranche audit verify` even though the
log itself is intact.

A log that began before schema revision 0003 starts its replay from the
``baseline`` recorded in the ``schema-migrated`` entry that migrated it (the
state as found then).

>>> derive([])["users"]
{}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, func, select

from ..errors import TrancheError
from . import codec
from .reading import read
from .tables import (
    facts,
    law_versions,
    line_items,
    policy_tests,
    programs,
    regime_versions,
    regimes,
    review_cases,
    review_decisions,
    scenarios,
    sources,
    taxonomy_nodes,
    timelines,
    api_tokens,
    users,
)

__all__ = ["state", "derive", "replay", "differences"]

State = dict[str, dict[str, Any]]
COUNTED = {"items": line_items, "programs": programs, "categories": taxonomy_nodes, "facts": facts,
           "regimes": regimes, "timelines": timelines, "sources": sources, "tests": policy_tests}
CASE_FIELDS = ("scenario", "item", "regime", "regime_version", "criterion", "status", "stale_version",
               "requested_by", "decided_by", "decided_at", "justification", "revision")


def _digest(value: str | None) -> str | None:
    """The SHA-256 of a stored credential hash (what the audit log records of it), or None."""
    return None if value is None else hashlib.sha256(value.encode("utf-8")).hexdigest()


def _day(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


def _parts_hash(conn: Connection, sid: str) -> str:

    try:
        return codec.parts_hash(read(conn, sid))
    except TrancheError as exc:
        return f"unreadable ({exc.message})"
    except (KeyError, TypeError, ValueError) as exc:  # rows that no load wrote
        return f"unreadable ({type(exc).__name__})"


def state(conn: Connection) -> State:
    """What the tables hold, in the shape :func:`derive` computes from the log."""
    out: State = {"users": {}, "scenarios": {}, "cases": {}, "decisions": {}, "tokens": {}}
    for u in conn.execute(select(users)):
        out["users"][u.name] = {"role": u.role, "added_by": u.added_by, "added_at": u.added_at,
                                "clearance": u.clearance, "password": _digest(u.password_hash)}
        if u.disabled_at is not None:  # only then: logs from before revision 0005 know of no such field
            out["users"][u.name]["disabled"] = True
    for t in conn.execute(select(api_tokens)):
        out["tokens"][t.id] = {"user": t.user_name, "digest": _digest(t.hash)}
    for s in conn.execute(select(scenarios)):
        sid = s.id
        counts = {name: int(conn.execute(select(func.count()).select_from(t).where(t.c.scenario_id == sid))
                            .scalar_one()) for name, t in COUNTED.items()}
        out["scenarios"][sid] = {
            "revision": int(s.revision), "content_hash": s.content_hash, "law_version": s.law_version,
            "regimes": {r.regime_id: r.current_version for r in conn.execute(
                select(regimes).where(regimes.c.scenario_id == sid))},
            "law_versions": {r.version: int(r.number) for r in conn.execute(
                select(law_versions).where(law_versions.c.scenario_id == sid))},
            "regime_versions": {f"{r.regime_id}@{r.version}": int(r.number) for r in conn.execute(
                select(regime_versions).where(regime_versions.c.scenario_id == sid))},
            "facts": {f.id: [_day(f.date), _day(f.until)] for f in conn.execute(
                select(facts).where(facts.c.scenario_id == sid))},
            "counts": counts,
            "parts_hash": _parts_hash(conn, sid),
        }
    for c in conn.execute(select(review_cases)):
        out["cases"][str(c.id)] = {
            "scenario": c.scenario_id, "item": c.item_id, "regime": c.regime_id, "regime_version": c.regime_version,
            "criterion": c.criterion, "status": c.status, "stale_version": c.stale_version,
            "requested_by": c.requested_by, "decided_by": c.decided_by, "decided_at": c.decided_at,
            "justification": c.justification, "revision": int(c.revision)}
    for d in conn.execute(select(review_decisions)):
        out["decisions"][f"{d.case_id}#{d.revision}"] = {
            "action": d.action, "actor": d.actor, "at": d.at, "regime_version": d.regime_version,
            "justification": d.justification}
    return out


class _Replay:
    """Applies events, in order, to a state."""

    def __init__(self) -> None:
        self.s: State = {"users": {}, "scenarios": {}, "cases": {}, "decisions": {}, "tokens": {}}
        self.unknown_facts: set[str] = set()  # scenarios loaded before the load event recorded its facts

    def apply(self, action: str, actor: str, time: str, p: dict[str, Any]) -> None:
        handler = getattr(self, "on_" + action.replace("-", "_"), None)
        if handler is not None:
            handler(actor, time, p)

    def on_schema_migrated(self, actor: str, time: str, p: dict[str, Any]) -> None:
        baseline = p.get("baseline")
        if isinstance(baseline, dict):
            self.s = json.loads(json.dumps(baseline))
            for key in ("users", "scenarios", "cases", "decisions", "tokens"):
                self.s.setdefault(key, {})

    def on_user_added(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self.s["users"][p["user"]] = {"role": p["role"], "added_by": actor, "added_at": time,
                                      "clearance": p.get("clearance", "UNCLASSIFIED"), "password": None}

    def _user(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.s["users"].setdefault(name, {"role": None, "added_by": None, "added_at": None})
        return found

    def on_user_clearance_changed(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._user(p["user"])["clearance"] = p["clearance"]

    def on_user_password_set(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._user(p["user"])["password"] = p["digest"]

    def on_token_issued(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self.s["tokens"][p["token"]] = {"user": p["user"], "digest": p["digest"]}

    def on_token_revoked(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self.s["tokens"].pop(p["token"], None)

    def on_user_disabled(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._user(p["user"])["disabled"] = True

    def on_user_enabled(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._user(p["user"]).pop("disabled", None)

    def on_user_role_changed(self, actor: str, time: str, p: dict[str, Any]) -> None:
        user = self.s["users"].setdefault(p["user"], {"role": None, "added_by": None, "added_at": None})
        user["role"] = p["role"]

    def on_scenario_loaded(self, actor: str, time: str, p: dict[str, Any]) -> None:
        sid = p["scenario"]
        old = self.s["scenarios"].get(sid, {})
        counts = {k: v for k, v in (p.get("counts") or {}).items() if k in COUNTED}
        self.s["scenarios"][sid] = {
            "revision": p["revision"], "content_hash": p["content_hash"], "law_version": p["law_version"],
            "regimes": dict(p.get("regime_versions") or {}), "law_versions": old.get("law_versions", {}),
            "regime_versions": old.get("regime_versions", {}),
            "facts": {k: list(v) for k, v in p["facts"].items()} if p.get("facts") is not None else {},
            "counts": counts, "parts_hash": p.get("parts_hash") or None}
        if p.get("facts") is None:
            self.unknown_facts.add(sid)
        else:
            self.unknown_facts.discard(sid)

    def _scenario(self, sid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.s["scenarios"].setdefault(sid, {"law_versions": {}, "regime_versions": {},
                                                                     "facts": {}})
        return found

    def on_law_activated(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._scenario(p["scenario"]).setdefault("law_versions", {}).setdefault(p["version"], p["number"])

    def on_regime_activated(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._scenario(p["scenario"]).setdefault("regime_versions", {}).setdefault(
            f"{p['regime']}@{p['version']}", p["number"])

    def on_fact_asserted(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._scenario(p["scenario"]).setdefault("facts", {})[p["fact"]] = [p.get("date"), p.get("until")]

    def on_fact_retracted(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._scenario(p["scenario"]).setdefault("facts", {})[p["fact"]] = [None, None]

    def _decision(self, case: str, revision: int, action: str, actor: str, time: str, version: str,
                  justification: str | None) -> None:
        self.s["decisions"][f"{case}#{revision}"] = {"action": action, "actor": actor, "at": time,
                                                     "regime_version": version, "justification": justification}

    def on_case_opened(self, actor: str, time: str, p: dict[str, Any]) -> None:
        cid = str(p["case"])
        c = self.s["cases"].get(cid)
        revision = 1 if c is None else int(c["revision"]) + 1
        stale = None if c is None else c.get("stale_version")
        self.s["cases"][cid] = {
            "scenario": p["scenario"], "item": p["item"], "regime": p["regime"], "regime_version": p["regime_version"],
            "criterion": p.get("criterion"), "status": "open", "stale_version": stale,
            "requested_by": p.get("requested_by", actor), "decided_by": None, "decided_at": None,
            "justification": None, "revision": revision}
        self._decision(cid, revision, "opened", actor, time, p["regime_version"], None)

    def _decided(self, status: str, actor: str, time: str, p: dict[str, Any]) -> None:
        cid = str(p["case"])
        c = self.s["cases"].setdefault(cid, {k: None for k in CASE_FIELDS})
        c.update(status=status, decided_by=actor, decided_at=time, justification=p["justification"],
                 revision=p["revision"])
        self._decision(cid, p["revision"], status, actor, time, p["regime_version"], p["justification"])

    def on_case_approved(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._decided("approved", actor, time, p)

    def on_case_denied(self, actor: str, time: str, p: dict[str, Any]) -> None:
        self._decided("denied", actor, time, p)

    def on_case_reopened(self, actor: str, time: str, p: dict[str, Any]) -> None:
        cid = str(p["case"])
        c = self.s["cases"].setdefault(cid, {k: None for k in CASE_FIELDS} | {"revision": 0})
        revision = int(c["revision"] or 0) + 1
        c.update(status="open", regime_version=p["regime_version"], criterion=p.get("criterion"),
                 stale_version=p["previous_version"] if p.get("stale") else c.get("stale_version"),
                 decided_by=None, decided_at=None, justification=None, revision=revision)
        text = f"regime `{p['regime']}` changed from version {p['previous_version']}" + (
            f"; the {p['previous_status']} decision no longer counts" if p.get("stale") else "")
        self._decision(cid, revision, "reopened", actor, time, p["regime_version"], text)

    def on_case_withdrawn(self, actor: str, time: str, p: dict[str, Any]) -> None:
        cid = str(p["case"])
        c = self.s["cases"].setdefault(cid, {k: None for k in CASE_FIELDS} | {"revision": 0})
        revision = int(c["revision"] or 0) + 1
        c.update(status="withdrawn", revision=revision)
        self._decision(cid, revision, "withdrawn", actor, time, c.get("regime_version") or "", p.get("reason"))


def derive(entries: Iterable[Any]) -> State:
    """The state the log's entries describe (entries with ``action``, ``actor``, ``created``, ``payload``)."""
    return _derive(entries).s


def _derive(entries: Iterable[Any]) -> _Replay:
    r = _Replay()
    for e in entries:
        try:
            payload = json.loads(e.payload)
        except ValueError:
            continue
        if isinstance(payload, dict):
            try:
                r.apply(e.action, e.actor, e.created, payload)
            except (KeyError, TypeError, ValueError):
                continue  # a payload that does not fit its action: the chain check names the entry
    return r


def _show(value: Any) -> str:
    return "nothing" if value is None else f"`{value}`"


def differences(table: State, log: State, unknown_facts: Sequence[str] = ()) -> list[str]:
    """Every difference between the tables' state and the log's, one line each."""
    out: list[str] = []
    for name in sorted(set(table["users"]) | set(log["users"])):
        t, g = table["users"].get(name), log["users"].get(name)
        if g is None:
            out.append(f"user `{name}` is in the users table, but no audit entry added it")
        elif t is None:
            out.append(f"user `{name}` was added by the audit log, but is missing from the users table")
        else:
            out += [f"user `{name}`: {k} is {_show(t[k])} in the table, {_show(g.get(k))} by the audit log"
                    for k in ("role", "added_by", "added_at", "clearance") if k in g and t[k] != g.get(k)
                    and g.get(k) is not None]
            if "password" in g and t["password"] != g["password"]:
                out.append(f"user `{name}`: the password hash in the table is not the one the audit log set")
            if t.get("disabled", False) != g.get("disabled", False):
                out.append(f"user `{name}` is {'disabled' if t.get('disabled') else 'enabled'} in the users table, "
                           f"{'disabled' if g.get('disabled') else 'enabled'} by the audit log")
    for tid in sorted(set(table.get("tokens", {})) | set(log.get("tokens", {}))):
        tt, gt = table.get("tokens", {}).get(tid), log.get("tokens", {}).get(tid)
        if gt is None:
            out.append(f"token `{tid}` is in the api_tokens table, but no audit entry issued it")
        elif tt is None:
            out.append(f"token `{tid}` was issued by the audit log, but is missing from the api_tokens table")
        elif tt != gt:
            out.append(f"token `{tid}` of `{gt['user']}`: the table holds another user or hash than the audit log "
                       "issued")
    for sid in sorted(set(table["scenarios"]) | set(log["scenarios"])):
        t, g = table["scenarios"].get(sid), log["scenarios"].get(sid)
        if g is None or "revision" not in g:
            out.append(f"scenario `{sid}` is in the tables, but no audit entry loaded it")
            continue
        if t is None:
            out.append(f"scenario `{sid}` was loaded by the audit log, but is missing from the tables")
            continue
        for k in ("revision", "content_hash", "law_version"):
            if t[k] != g[k]:
                out.append(f"scenario `{sid}`: {k} is {_show(t[k])} in the table, {_show(g[k])} by the audit log")
        if g.get("parts_hash") and t.get("parts_hash") != g["parts_hash"]:
            out.append(f"scenario `{sid}`: its stored rows (items, programs, taxonomy, sources, law, regimes, "
                       "timelines or tests) are not what its last load wrote: they were changed outside tranche")
        for group, what in (("regimes", "current version of regime"), ("law_versions", "law version"),
                            ("regime_versions", "regime version"), ("counts", "number of")):
            tg, gg = t.get(group, {}), g.get(group, {})
            for k in sorted(set(tg) | set(gg)):
                if tg.get(k) != gg.get(k):
                    out.append(f"scenario `{sid}`: {what} `{k}` is {_show(tg.get(k))} in the tables, "
                               f"{_show(gg.get(k))} by the audit log")
        if sid not in unknown_facts:
            tf, gf = t.get("facts", {}), g.get("facts", {})
            for k in sorted(set(tf) | set(gf)):
                if tf.get(k) != gf.get(k):
                    out.append(f"scenario `{sid}`: fact `{k}` holds {_span(tf.get(k))} in the facts table, "
                               f"{_span(gf.get(k))} by the audit log")
    for cid in sorted(set(table["cases"]) | set(log["cases"]), key=lambda x: (len(x), x)):
        t, g = table["cases"].get(cid), log["cases"].get(cid)
        if g is None:
            out.append(f"review case {cid} is in review_cases, but no audit entry opened it")
        elif t is None:
            out.append(f"review case {cid} was opened by the audit log, but is missing from review_cases")
        else:
            out += [f"review case {cid}: {k} is {_show(t[k])} in review_cases, {_show(g.get(k))} by the audit log"
                    for k in CASE_FIELDS if t[k] != g.get(k)]
    for key in sorted(set(table["decisions"]) | set(log["decisions"])):
        t, g = table["decisions"].get(key), log["decisions"].get(key)
        case, _, rev = key.partition("#")
        if g is None:
            out.append(f"review decision {rev} of case {case} is in review_decisions, but not in the audit log")
        elif t is None:
            out.append(f"review decision {rev} of case {case} is in the audit log, but missing from review_decisions")
        else:
            out += [f"review decision {rev} of case {case}: {k} is {_show(t[k])} in review_decisions, "
                    f"{_show(g.get(k))} by the audit log" for k in t if t[k] != g.get(k)]
    return out


def _span(value: Any) -> str:
    if not value or value[0] is None:
        return "on no date"
    return f"from {value[0]}" + (f" until {value[1]}" if value[1] else "")


def replay(conn: Connection, entries: Sequence[Any]) -> list[str]:
    """Replay ``entries`` and compare with the tables read on ``conn``: every difference, one line each."""
    r = _derive(entries)
    return differences(state(conn), r.s, sorted(r.unknown_facts))


def baseline(conn: Connection) -> dict[str, Any]:
    """The state as the tables hold it now, as JSON-ready data (recorded when a pre-0003 log is migrated)."""
    found: dict[str, Any] = json.loads(codec.dumps(state(conn)))
    return found
