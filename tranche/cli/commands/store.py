"""`tranche init|load|versions`, `tranche fact|review|audit|user ...`: the shared store.

The database is `--db URL` / `TRANCHE_DB` (default: `tranche.db` in the
working folder).  Who acts is the owner of the token in `TRANCHE_TOKEN`; without
a token, and only on a local SQLite file, `--actor NAME` / `TRANCHE_ACTOR`
(default: the operating-system user).  On PostgreSQL a bare name is refused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, List, Optional

import typer

from typing import TYPE_CHECKING

from ...errors import TrancheError, UsageError
from .. import progress, render
from .common import LazyModule, parse_date, split_list, workspace

if TYPE_CHECKING:
    from ... import store
else:
    store = LazyModule("tranche.store")

FORMAT = typer.Option(render.Format.table, "--format", "-f", help="table, json or csv")
ACTOR = typer.Option(None, "--actor", envvar="TRANCHE_ACTOR", show_envvar=True,
                     help="who is acting, on a local SQLite file only (default: the operating-system user); "
                          "otherwise the token in TRANCHE_TOKEN says who acts")
SCENARIO = typer.Option(None, "--scenario", "-s", help="scenario id (default: the only one in the database)")

fact_app = typer.Typer(help="Assert, retract and list the facts of a stored scenario.", no_args_is_help=True,
                       rich_markup_mode=None)
review_app = typer.Typer(help="Case-by-case review: list, show, open, approve and deny cases.",
                         no_args_is_help=True, rich_markup_mode=None)
audit_app = typer.Typer(help="The tamper-evident audit log: verify it, export an anchor, show entries.",
                        no_args_is_help=True, rich_markup_mode=None)
user_app = typer.Typer(help="Users, roles (viewer, analyst, reviewer, approver, admin), clearances, tokens and "
                            "passwords.", no_args_is_help=True,
                       rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("load")(load)
    app.command("versions")(versions)
    app.add_typer(fact_app, name="fact")
    app.add_typer(review_app, name="review")
    app.add_typer(audit_app, name="audit")
    app.add_typer(user_app, name="user")


def _db() -> store.Database:
    return store.open_db(render.state.db)


def _actor(given: Optional[str]) -> str:
    """Who acts: TRANCHE_TOKEN's user; on a local SQLite file without a token, --actor / TRANCHE_ACTOR / the OS user."""
    return store.acting_user_at(render.state.db, given)


def _init_actor(given: Optional[str]) -> str:
    """Who runs `tranche init`: as :func:`_actor`, except that a database with no user yet (or none at all) can be
    created and bootstrapped by name: there is nobody to authenticate against."""
    import os

    if os.environ.get("TRANCHE_TOKEN") or store.resolve_url(render.state.db).startswith("sqlite"):
        return _actor(given)
    try:
        with store.open_db(render.state.db) as db:
            empty = not store.list_users(db)
    except TrancheError:  # no schema yet (or an older one): nothing to authenticate against
        empty = True
    return store.actor_name(given) if empty else _actor(given)


def _short(version: str | None) -> str:
    return version or "—"


# -- init, load, versions --------------------------------------------------------------------------------

def init(
    admin: Optional[str] = typer.Option(None, "--admin", help="make this user an admin (bootstraps an empty database); "
                                        "their API token is printed once"),
    clearance: str = typer.Option("UNCLASSIFIED", "--clearance", help="the new admin's clearance: UNCLASSIFIED, "
                                  "CONFIDENTIAL or SECRET"),
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Create the database or migrate it to this version's schema (no data is lost)."""
    report = store.init_db(render.state.db, admin=admin, actor=_init_actor(actor), clearance=clearance, token=True)
    if format is render.Format.json:
        render.emit_json(report.to_dict())
        return 0
    if format is render.Format.csv:
        d = report.to_dict()
        render.emit_csv(list(d), [list(d.values())])
        return 0
    if report.created:
        render.console.print(f"created database {report.url} (schema revision {report.to_revision})")
    elif report.migrated:
        render.console.print(f"migrated database {report.url} from schema revision {report.from_revision} "
                             f"to {report.to_revision}")
    else:
        render.console.print(f"database {report.url} is up to date (schema revision {report.to_revision})")
    if report.admin:
        render.console.print(f"admin: {report.admin}" + (" (added)" if report.admin_added else " (already admin)"))
    if report.token:
        render.console.print(f"token of `{report.admin}` (shown once; TRANCHE_TOKEN for the command line, "
                             f"`Authorization: Bearer` for the API): {report.token}", soft_wrap=True)
    with _db() as db:
        if not store.list_users(db):
            render.console.print("no users yet: bootstrap one with `tranche init --admin NAME`")
    return 0


def load(
    folder: str = typer.Argument(..., help="scenario folder"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="open review cases for items in review on this date "
                                                              "(default: today)"),
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar (it shows on a terminal, once the work has run half a second)"),
) -> int:
    """Check a scenario and write it to the database in one transaction; changed regimes get new versions."""
    from ...service import Workspace

    day = parse_date(as_of) if as_of else None
    who = _actor(actor)
    with progress.bar(progress.shown(quiet)) as tick:  # lines read, then items written
        scenario = Workspace.folder(folder, progress=tick)
        with _db() as db:
            report = store.load(db, scenario, who, as_of=day, path=str(Path(folder).resolve()), on_progress=tick)
            url = db.display
    if format is render.Format.json:
        render.emit_json({**report.to_dict(), "database": url})
        return 0
    if format is render.Format.csv:
        render.emit_csv(["scenario", "kind", "name", "version", "number", "state"],
                        [[report.scenario, "regime", r, v, n, st] for r, v, n, st in report.regimes])
        return 0
    if report.unchanged:
        render.console.print(f"`{report.scenario}` is loaded already with this content (revision {report.revision}, "
                             f"law version {report.law_version}): nothing changed")
        return 0
    c = report.counts
    render.console.print(f"loaded `{report.scenario}` (revision {report.revision}) into {url}: "
                         f"{c['items']} line items, {c['programs']} programs, {c['facts']} facts, "
                         f"{c['law_rules']} law rules, {c['regimes']} regimes, {c['tests']} policy tests")
    render.console.print(f"law version {report.law_version}" + (" (new)" if report.law_new else ""))
    rows = [[r, f"#{n}", v, st] for r, v, n, st in report.regimes]
    render.console.print(render.table("Regimes", ["Regime", "Number", "Version", "State"], rows))
    if report.facts_changed:
        render.console.print(f"facts changed by the files: {', '.join(report.facts_changed)}")
    render.console.print(f"review cases: {len(report.cases_opened)} opened, {len(report.cases_reopened)} reopened "
                         f"under a new regime version ({len(report.cases_stale)} stale), "
                         f"{len(report.cases_withdrawn)} withdrawn")
    if report.cases_stale:
        render.console.print("  stale (their decision no longer counts): "
                             + ", ".join(str(i) for i in report.cases_stale) + " — see `tranche review list --stale`")
    return 0


def versions(
    scenario: Optional[str] = typer.Argument(None, help="scenario id (default: the only one in the database)"),
    format: render.Format = FORMAT,
) -> int:
    """Every version of the law and of each regime of a stored scenario; current ones marked."""
    with _db() as db:
        rows = store.versions(db, scenario)
    if format is render.Format.json:
        render.emit_json([v.to_dict() for v in rows])
        return 0
    header = ["kind", "name", "number", "version", "current", "created_at", "created_by"]
    data = [[v.kind, v.name, v.number, v.version, v.current, v.created_at, v.created_by] for v in rows]
    if format is render.Format.csv:
        render.emit_csv(header, data)
        return 0
    title = f"Versions of `{rows[0].scenario}`" if rows else "Versions"
    render.console.print(render.table(title, ["Kind", "Name", "#", "Version", "Current", "Created", "By"],
                                      [[k, n, f"#{num}", v, "✓" if cur else "", at, by]
                                       for k, n, num, v, cur, at, by in data]))
    return 0


# -- facts ----------------------------------------------------------------------------------------------

@fact_app.command("assert")
def fact_assert(
    fact: str = typer.Argument(..., help="fact id, as declared in the scenario's facts.yaml"),
    on: str = typer.Option(..., "--on", help="the date the fact holds from, YYYY-MM-DD"),
    source: Optional[str] = typer.Option(None, "--source", help="the source it rests on (a source id)"),
    until: Optional[str] = typer.Option(None, "--until", help="the date it stops holding, YYYY-MM-DD"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="open review cases for items in review on this date "
                                                              "(default: today)"),
    scenario: Optional[str] = SCENARIO,
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Record that a fact holds from a date (with who and when); opens review cases it causes."""
    day = parse_date(on, "--on")
    end = parse_date(until, "--until") if until else None
    when = parse_date(as_of) if as_of else None
    with _db() as db:
        rec = store.assert_fact(db, fact, day, _actor(actor), source, end, scenario, when)
    if format is not render.Format.table:
        render.emit_json(rec.to_dict()) if format is render.Format.json else _facts_csv([rec])
        return 0
    span = f"from {rec.date}" + (f" until {rec.until}" if rec.until else "")
    render.console.print(f"fact `{rec.id}` holds {span} (asserted by {rec.asserted_by} at {rec.asserted_at}; "
                         f"sources: {', '.join(rec.sources) or '—'})")
    if rec.cases_opened:
        render.console.print(f"review cases opened: {', '.join(str(i) for i in rec.cases_opened)}")
    return 0


@fact_app.command("retract")
def fact_retract(
    fact: str = typer.Argument(..., help="fact id"),
    source: Optional[str] = typer.Option(None, "--source", help="the source for the retraction (a source id)"),
    scenario: Optional[str] = SCENARIO,
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Record that a fact is not established (it can still be assumed with --assume)."""
    with _db() as db:
        rec = store.retract_fact(db, fact, _actor(actor), source, scenario)
    if format is not render.Format.table:
        render.emit_json(rec.to_dict()) if format is render.Format.json else _facts_csv([rec])
        return 0
    render.console.print(f"fact `{rec.id}` retracted by {rec.asserted_by} at {rec.asserted_at}")
    return 0


def _facts_csv(recs: List[store.FactRecord]) -> None:
    render.emit_csv(["fact", "date", "until", "sources", "asserted_by", "asserted_at"],
                    [[r.id, r.date, r.until, " ".join(r.sources), r.asserted_by, r.asserted_at] for r in recs])


@fact_app.command("list")
def fact_list(scenario: Optional[str] = SCENARIO, format: render.Format = FORMAT) -> int:
    """The facts of a stored scenario: dates, sources, who asserted them and when."""
    with _db() as db:
        recs = store.list_facts(db, scenario)
    if format is render.Format.json:
        render.emit_json([r.to_dict() for r in recs])
    elif format is render.Format.csv:
        _facts_csv(recs)
    else:
        render.console.print(render.table("Facts", ["Fact", "Holds from", "Until", "Sources", "Asserted by", "At"], [
            [r.id, r.date or "not established", r.until or "", ", ".join(r.sources), r.asserted_by, r.asserted_at]
            for r in recs]))
    return 0


# -- review cases ---------------------------------------------------------------------------------------

CASE_COLUMNS = ["case", "scenario", "item", "regime", "regime_version", "status", "stale", "criterion",
                "requested_by", "decided_by", "revision"]


def _case_row(c: store.Case) -> list[Any]:
    return [c.id, c.scenario, c.item, c.regime, c.regime_version, c.status, c.stale, c.criterion or "",
            c.requested_by, c.decided_by or "", c.revision]


@review_app.command("list")
def review_list(
    status: str = typer.Option("open", "--status", help="open, approved, denied, withdrawn or all"),
    stale: bool = typer.Option(False, "--stale", help="only cases reopened because their regime changed"),
    item: Optional[str] = typer.Option(None, "--item", help="only this line item"),
    regime: Optional[str] = typer.Option(None, "--regime", "-r", help="only this regime"),
    scenario: Optional[str] = SCENARIO,
    format: render.Format = FORMAT,
) -> int:
    """List review cases (open ones by default; --stale for those a regime change reopened)."""
    from rich.text import Text
    with _db() as db:
        cases = store.list_cases(db, scenario, "all" if stale else status, stale, item, regime)
    if format is render.Format.json:
        render.emit_json([c.to_dict() for c in cases])
    elif format is render.Format.csv:
        render.emit_csv(CASE_COLUMNS, [_case_row(c) for c in cases])
    else:
        rows = [[str(c.id), c.item, c.regime, c.regime_version,
                 Text(c.status + (" (stale)" if c.stale else ""), style="yellow" if c.status == "open" else ""),
                 c.criterion or "", c.requested_by, c.decided_by or "", str(c.revision)] for c in cases]
        what = "Stale review cases" if stale else f"Review cases ({status})"
        render.console.print(render.table(what, ["Case", "Item", "Regime", "Version", "Status", "Criterion",
                                                 "Requested by", "Decided by", "Rev"], rows,
                                          caption=None if cases else "no case"))
    return 0


@review_app.command("show")
def review_show(
    case: str = typer.Argument(..., help="case number"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="decide the item on this date (default: today)"),
    assume: Optional[List[str]] = typer.Option(None, "--assume", "-a", help="assume a fact holds; repeatable"),
    format: render.Format = FORMAT,
) -> int:
    """A case, its history, and the item's decision under the case's regime with the case applied."""
    from rich.text import Text
    from ...engine import explain_lines

    day = parse_date(as_of) if as_of else dt.date.today()
    view = workspace().case(case, day, split_list(assume))
    c, history, s, decision = view.case, view.history, view.scenario, view.decision
    if format is render.Format.json:
        render.emit_json({**c.to_dict(), "history": [h.to_dict() for h in history],
                          "decision": decision.to_dict() if decision else None})
        return 0
    if format is render.Format.csv:
        render.emit_csv(CASE_COLUMNS, [_case_row(c)])
        return 0
    state = c.status + (f" (stale: the decision under version {c.stale_version} no longer counts)" if c.stale else "")
    render.console.print(Text(f"case {c.id}: item `{c.item}` under regime `{c.regime}` version {c.regime_version}",
                              style="bold"))
    render.console.print(f"  status: {state} (revision {c.revision})")
    render.console.print(f"  criterion: {c.criterion or '—'}")
    render.console.print(f"  requested by {c.requested_by} at {c.opened_at}")
    if c.decided_by:
        render.console.print(f"  {c.status} by {c.decided_by} at {c.decided_at}: {c.justification}")
    render.console.print(render.table("History", ["Rev", "Action", "By", "At", "Version", "Justification"],
                                      [[str(h.revision), h.action, h.actor, h.at, h.regime_version,
                                        h.justification or ""] for h in history]))
    if decision is not None:
        render.console.print(Text(f"decision on {day} under `{c.regime}` (named):", style="bold"))
        for line in explain_lines(decision, s):
            render.console.print(Text(line))
    return 0


@review_app.command("open")
def review_open(
    item: str = typer.Argument(..., help="line item id"),
    regime: str = typer.Option(..., "--regime", "-r", help="the regime under which the item is in review"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="date of the decision (default: today)"),
    assume: Optional[List[str]] = typer.Option(None, "--assume", "-a", help="assume a fact holds; repeatable"),
    scenario: Optional[str] = SCENARIO,
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Request a case-by-case review of an item whose outcome under a regime is review."""
    day = parse_date(as_of) if as_of else None
    with _db() as db:
        c = store.open_case(db, scenario, item, regime, _actor(actor), day, split_list(assume))
    return _print_case(c, format, "opened")


def _print_case(c: store.Case, format: render.Format, verb: str) -> int:
    if format is render.Format.json:
        render.emit_json(c.to_dict())
    elif format is render.Format.csv:
        render.emit_csv(CASE_COLUMNS, [_case_row(c)])
    else:
        render.console.print(f"case {c.id} {verb}: item `{c.item}` under regime `{c.regime}` version "
                             f"{c.regime_version}" + (f", by {c.decided_by}" if c.decided_by else
                                                      f", requested by {c.requested_by}")
                             + f" (revision {c.revision})")
        if c.justification:
            render.console.print(f"  justification: {c.justification}")
    return 0


JUSTIFICATION = typer.Option(..., "--justification", "-j", help="why (recorded in the case and the audit log)")
REVISION = typer.Option(None, "--revision", help="the case revision you decided on (from `review show`): "
                                                 "refuse if the case changed since")


@review_app.command("approve")
def review_approve(
    case: str = typer.Argument(..., help="case number"),
    justification: str = JUSTIFICATION,
    revision: Optional[int] = REVISION,
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Approve an open case: the item is permitted under this regime version only."""
    with _db() as db:
        c = store.approve(db, case, _actor(actor), justification, revision)
    return _print_case(c, format, "approved")


@review_app.command("deny")
def review_deny(
    case: str = typer.Argument(..., help="case number"),
    justification: str = JUSTIFICATION,
    revision: Optional[int] = REVISION,
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Deny an open case: the item is prohibited under this regime version."""
    with _db() as db:
        c = store.deny(db, case, _actor(actor), justification, revision)
    return _print_case(c, format, "denied")


# -- audit ----------------------------------------------------------------------------------------------

@audit_app.command("verify")
def audit_verify(
    anchor: Optional[str] = typer.Option(None, "--anchor", help="SEQ:HASH printed by an earlier verify, or the file "
                                                                 "`tranche audit anchor` wrote: also check the log up "
                                                                 "to there is unchanged"),
    key: Optional[Path] = typer.Option(None, "--key", help="the audit key file (default: TRANCHE_AUDIT_KEY, else "
                                                            "beside the SQLite file)"),
    format: render.Format = FORMAT,
) -> int:
    """Check the hash chain, signatures, anchor and replayed state: exit 0 if intact, 2 naming what is wrong."""
    with _db() as db:
        result = store.verify(db, anchor, key_file=key)
    if format is render.Format.json:
        render.emit_json(result.to_dict())
    elif format is render.Format.csv:
        render.emit_csv(["ok", "entries", "head_seq", "head_hash", "first_bad", "problem", "signatures",
                         "state_differences"],
                        [[result.ok, result.entries, result.head_seq, result.head_hash, result.first_bad,
                          result.problem, result.signatures, len(result.differences)]])
    elif result.ok:
        render.console.print(f"[green]audit log intact[/]: {result.entries} entries; "
                             f"head #{result.head_seq} {result.head_hash}")
        signed = ("signatures checked" if result.signatures == "checked"
                  else f"signatures not checked (no key at {result.key})")
        render.console.print(f"  {signed}; the tables match the replayed log"
                             + ("; the anchor matches" if result.anchored else ""))
        render.console.print(f"  anchor (keep it elsewhere; check later with --anchor): {result.anchor()}")
    else:
        if result.problem:
            where = f" at entry #{result.first_bad}" if result.first_bad else ""
            render.console.print(f"[bold red]audit log broken{where}[/]: {render.escape(result.problem)}")
        if result.differences:
            n = len(result.differences)
            render.console.print(f"[bold red]the tables differ from the replayed log[/] ({n} difference"
                                 f"{'s' if n != 1 else ''}):")
            for line in result.differences:
                render.console.print(f"  {render.escape(line)}")
    return 0 if result.ok else 2


@audit_app.command("anchor")
def audit_anchor(
    out: Optional[Path] = typer.Option(None, "--out", help="write the anchor (JSON) to this file; "
                                                                  "default: print it"),
) -> int:
    """Export the verified head as an anchor, to keep outside the database (check with `verify --anchor FILE`)."""
    import json

    with _db() as db:
        a = store.anchor(db)
    text = json.dumps(a.to_dict(), indent=2) + "\n"
    if out is None:
        render.console.print(text, end="", markup=False, highlight=False)
        return 0
    if out.exists():
        raise UsageError(f"--out `{out}` exists already", help="anchors are kept, not overwritten; name a new file")
    try:
        with out.open("x", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise UsageError(f"--out `{out}`: cannot write there: {exc.strerror or exc}",
                         help="choose a file in a folder you can write to") from None
    render.console.print(f"anchor #{a.seq} {a.hash} of database {a.database} written to {out}")
    return 0


@audit_app.command("show")
def audit_show(
    since: Optional[str] = typer.Option(None, "--since", help="entries from this date (UTC), YYYY-MM-DD"),
    action: Optional[str] = typer.Option(None, "--action", help="only this action, e.g. case-approved"),
    actor_filter: Optional[str] = typer.Option(None, "--by", help="only entries by this actor"),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help="only the last N entries"),
    format: render.Format = FORMAT,
) -> int:
    """The audit log: time, actor, action and payload of each entry, oldest first."""
    day = parse_date(since, "--since") if since else None
    if limit is not None and limit < 1:
        raise UsageError(f"--limit {limit} is not a positive number")
    with _db() as db:
        rows = store.entries(db, day, action, actor_filter, limit)
    if format is render.Format.json:
        render.emit_json([e.to_dict() for e in rows])
    elif format is render.Format.csv:
        render.emit_csv(["seq", "time", "actor", "action", "payload", "prev_hash", "hash"],
                        [[e.seq, e.created, e.actor, e.action, e.payload, e.prev_hash, e.hash] for e in rows])
    else:
        table_rows = []
        for e in rows:
            ev = e.event()
            what = ev.describe().split(" ", 1)[1] if ev is not None and " " in ev.describe() else e.payload
            table_rows.append([str(e.seq), e.created[:19].replace("T", " "), e.actor, e.action, what, e.hash[:12]])
        render.console.print(render.table("Audit log", ["#", "Time (UTC)", "Actor", "Action", "What", "Hash"],
                                          table_rows, caption=None if rows else "no entry"))
    return 0


# -- users ----------------------------------------------------------------------------------------------

@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="user name (what --actor / TRANCHE_ACTOR say)"),
    role: str = typer.Option(..., "--role", help="viewer, analyst, reviewer, approver or admin"),
    clearance: str = typer.Option("UNCLASSIFIED", "--clearance", help="the highest marking the user may see: "
                                  "UNCLASSIFIED, CONFIDENTIAL or SECRET"),
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Add a user with a role and a clearance (admins only); prints their API token once."""
    who = _actor(actor)
    with _db() as db:
        u, token = store.add_user_with_token(db, name, role, who, clearance)
    if format is render.Format.json:
        render.emit_json({"user": u.to_dict(), "token": token})
    elif format is render.Format.csv:
        render.emit_csv(["name", "role", "clearance", "token"], [[u.name, u.role, u.clearance, token]])
    else:
        render.console.print(f"added user `{u.name}` as {u.role}, cleared {u.clearance}")
        render.console.print(f"token (shown once): {token}", soft_wrap=True)
    return 0


@user_app.command("token")
def user_token(
    name: str = typer.Argument(..., help="user name"),
    actor: Optional[str] = ACTOR,
    format: render.Format = FORMAT,
) -> int:
    """Issue another API token to a user (admins only); prints it once."""
    who = _actor(actor)
    with _db() as db:
        token = store.issue_token(db, name, who)
    if format is render.Format.json:
        render.emit_json({"user": name, "token": token})
    else:
        render.console.print(f"token of `{name}` (shown once): {token}", soft_wrap=True)
    return 0


@user_app.command("revoke")
def user_revoke(
    token_id: Optional[str] = typer.Argument(None, help="the token's id: the part between `tr_` and the next `_`"),
    user: Optional[str] = typer.Option(None, "--user", help="instead: every token and browser session of this "
                                       "user (they sign in again with their password, or get a new token)"),
    actor: Optional[str] = ACTOR,
) -> int:
    """Revoke an API token, or every token and browser session of a user (admins only)."""
    if (token_id is None) == (user is None):
        raise UsageError("give a token id or --user NAME", help="e.g. `tranche user revoke 3f9c0a1b2d4e` or "
                         "`tranche user revoke --user vic`")
    who = _actor(actor)
    with _db() as db:
        if user is not None:
            tokens, sessions = store.revoke_all(db, user, who)
        else:
            store.revoke_token(db, token_id or "", who)
    if user is not None:
        render.console.print(f"`{user}`: {_count(tokens, 'token')} revoked, {_count(sessions, 'session')} ended")
    else:
        render.console.print(f"token `{token_id}` revoked")
    return 0


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@user_app.command("disable")
def user_disable(
    name: str = typer.Argument(..., help="user name"),
    actor: Optional[str] = ACTOR,
) -> int:
    """Disable a user (admins only): every token revoked, every browser session ended, no sign-in or action
    until `tranche user enable`."""
    who = _actor(actor)
    with _db() as db:
        u, tokens, sessions = store.disable_user(db, name, who)
    render.console.print(f"`{u.name}` is disabled ({_count(tokens, 'token')} revoked, "
                         f"{_count(sessions, 'session')} ended)")
    return 0


@user_app.command("enable")
def user_enable(
    name: str = typer.Argument(..., help="user name"),
    actor: Optional[str] = ACTOR,
) -> int:
    """Enable a disabled user again (admins only); issue them a token with `tranche user token`."""
    who = _actor(actor)
    with _db() as db:
        u = store.enable_user(db, name, who)
    render.console.print(f"`{u.name}` is enabled")
    return 0


@user_app.command("password")
def user_password(
    name: str = typer.Argument(..., help="user name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input "
                                        "(for scripts) instead of asking"),
    actor: Optional[str] = ACTOR,
) -> int:
    """Set a user's password for signing in to the web UI (admins, or the user themselves)."""
    import sys

    who = _actor(actor)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _db() as db:
        store.set_password(db, name, password, who)
    render.console.print(f"password of `{name}` set")
    return 0


@user_app.command("clearance")
def user_clearance(
    name: str = typer.Argument(..., help="user name"),
    clearance: str = typer.Argument(..., help="UNCLASSIFIED, CONFIDENTIAL or SECRET"),
    actor: Optional[str] = ACTOR,
) -> int:
    """Change a user's clearance (admins only)."""
    who = _actor(actor)
    with _db() as db:
        u = store.set_clearance(db, name, clearance, who)
    render.console.print(f"`{u.name}` is cleared {u.clearance}")
    return 0


@user_app.command("role")
def user_role(
    name: str = typer.Argument(..., help="user name"),
    role: str = typer.Argument(..., help="viewer, analyst, reviewer, approver or admin"),
    actor: Optional[str] = ACTOR,
) -> int:
    """Change a user's role (admins only)."""
    with _db() as db:
        u = store.set_role(db, name, role, _actor(actor))
    render.console.print(f"`{u.name}` is {u.role}")
    return 0


@user_app.command("list")
def user_list(format: render.Format = FORMAT) -> int:
    """The users, their roles and clearances, and who is disabled."""
    with _db() as db:
        users = store.list_users(db)
    if format is render.Format.json:
        render.emit_json([u.to_dict() for u in users])
    elif format is render.Format.csv:
        render.emit_csv(["name", "role", "clearance", "added_at", "added_by", "disabled"],
                        [[u.name, u.role, u.clearance, u.added_at, u.added_by, str(u.disabled).lower()] for u in users])
    else:
        disabled = any(u.disabled for u in users)  # a column only when someone is
        render.console.print(render.table("Users", ["Name", "Role", "Clearance", "Added", "By",
                                                    *(["Disabled"] if disabled else [])],
                                          [[u.name, u.role, u.clearance, u.added_at, u.added_by,
                                            *(["yes" if u.disabled else ""] if disabled else [])] for u in users]))
    return 0
