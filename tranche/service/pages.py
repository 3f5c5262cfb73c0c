"""The desk's pages: server-rendered HTML (Jinja2), plain forms and links, no script needed.

Every page needs a signed-in user (a session from ``/login``, or a bearer token); every form that changes
something carries the session's CSRF token.  The pages read through the same functions as the API, so a
figure on a page is the API's figure.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections import Counter
from decimal import Decimal
from typing import Any, Callable

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from .. import __version__, store
from ..analysis import diff as diff_options
from ..errors import NotAuthenticated, PermissionDenied, TrancheError, UsageError
from ..language import OUTCOMES
from .api.analysis import comparison_doc
from .api.audit import verification_doc, visible_entries
from .api.cases import visible_case, visible_cases
from .api.common import desk, split, view
from .api.scenarios import scenario_list
from .auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_SECONDS, Principal, need, principal
from .charts import OUTCOME_COLOURS, compare_svg, timeline_svg
from .clearance import View
from .timeline import timeline

__all__ = ["router", "template_filters"]

router = APIRouter(include_in_schema=False)


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):,.2f}"


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def template_filters() -> dict[str, Callable[..., Any]]:
    return {"money": _money, "pct": _pct}


def _render(request: Request, name: str, p: Principal | None, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    response: HTMLResponse = templates.TemplateResponse(
        request, name, {"principal": p, "version": __version__, "outcomes": [o.value for o in OUTCOMES],
                        "colours": OUTCOME_COLOURS, **context})
    return response


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- signing in ------------------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", failed: bool = False) -> HTMLResponse:
    token = request.app.state.auth.login_csrf()
    response = _render(request, "login.html", None, csrf=token, next=_safe_next(next), failed=failed)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600,
                        secure=request.url.scheme == "https", path="/login")
    return response


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form(""),
          next: str = Form("/")) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or cookie != csrf:
        raise PermissionDenied("the sign-in form expired or came from another site", help="reload /login and retry")
    try:
        _, session = request.app.state.auth.login(name, password)
    except NotAuthenticated:
        return RedirectResponse("/login?failed=1&next=" + urllib.parse.quote(_safe_next(next)), status_code=303)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", max_age=SESSION_SECONDS,
                        secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, p: Principal = Depends(principal)) -> Response:
    """Sign out: the session ends on the server (its cookie, if kept, no longer signs anyone in)."""
    request.app.state.auth.logout(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- reading ---------------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request, p: Principal = Depends(principal)) -> HTMLResponse:
    return _render(request, "home.html", p, scenarios=scenario_list(request, p))


def _defaults(v: View, as_of: dt.date | None, options: str | None, assume: str | None
              ) -> tuple[dt.date, list[str], list[str]]:
    """A page's date, options and assumed facts: as given, else the scenario's `demo:` block, else today."""
    demo = v.scenario.demo
    day = as_of or (demo.as_of if demo is not None else dt.date.today())
    opts = split(options) or (list(demo.options) if demo is not None else list(v.scenario.regimes)[:3])
    facts = split(assume) if assume is not None else [f for f in (demo.assume if demo is not None else ())
                                                      if f.split("@", 1)[0] not in v.hidden]  # defaults it may see
    return day, [o for o in opts if o not in v.hidden], facts


def _query(**params: Any) -> str:
    return urllib.parse.urlencode({k: v for k, v in params.items() if v not in (None, "", [])})


@router.get("/scenarios/{scenario}", response_class=HTMLResponse)
def dashboard(scenario: str, request: Request, recipient: str | None = None, as_of: dt.date | None = None,
              p: Principal = Depends(principal)) -> HTMLResponse:
    v = view(request, scenario, p)
    day, _, assume = _defaults(v, as_of, None, None)
    tl = v.redact(timeline(v.scenario, recipient, day, v.assume(assume)))
    ev = desk(request).evaluator(scenario, day, v.assume(assume))
    by_program: dict[str, dict[str, Decimal]] = {}
    for it in v.items:
        if it.recipient != tl["recipient"]:
            continue
        row = by_program.setdefault(it.program, {o.value: Decimal(0) for o in OUTCOMES} | {"total": Decimal(0)})
        row[ev.decide(it).outcome.value] += it.amount
        row["total"] += it.amount
    return _render(request, "dashboard.html", p, s=v.scenario, view=v, timeline=tl, as_of=day, assume=assume,
                   chart=Markup(timeline_svg(tl)), by_program=by_program,
                   withheld=v.withheld(), query=_query(as_of=day, assume=",".join(assume)))


@router.get("/scenarios/{scenario}/pipeline", response_class=HTMLResponse)
def pipeline(scenario: str, request: Request, as_of: dt.date | None = None, regime: str | None = None,
             assume: str | None = None, program: str | None = None, outcome: str | None = None,
             channel: str | None = None, page: int = Query(1, ge=1, le=100_000),
             p: Principal = Depends(principal)) -> HTMLResponse:
    v = view(request, scenario, p)
    day, _, facts = _defaults(v, as_of, None, assume)
    ev = desk(request).evaluator(scenario, day, v.assume(facts), v.option(regime) if regime else None)
    rows = []
    for it in v.items:
        if (program and it.program != program) or (channel and it.channel != channel):
            continue
        d = ev.decide(it)
        if outcome and d.outcome.value != outcome:
            continue
        rows.append((it, v.redact(d.to_dict())))
    size = 100
    pages = max(1, (len(rows) + size - 1) // size)
    shown = rows[(page - 1) * size:page * size]
    counts = Counter(d["outcome"] for _, d in rows)
    return _render(request, "pipeline.html", p, s=v.scenario, view=v, rows=shown, counts=counts, as_of=day,
                   regime=regime or "", assume=",".join(facts), program=program or "", outcome=outcome or "",
                   channel=channel or "", page=page, pages=pages, total=len(rows), withheld=v.withheld(),
                   sources=v.scenario.sources, hidden=v.hidden)


def _comparison(request: Request, scenario: str, p: Principal, as_of: dt.date | None, options: str | None,
                assume: str | None) -> tuple[View, dt.date, list[str], list[str], dict[str, Any]]:
    v = view(request, scenario, p)
    day, opts, facts = _defaults(v, as_of, options, assume)
    if not opts:
        raise UsageError("no options to compare", help="add ?options=A,B (regimes or timelines)")
    doc = comparison_doc(request, scenario, p, day, opts, facts, None)
    return v, day, opts, facts, doc


@router.get("/scenarios/{scenario}/compare", response_class=HTMLResponse)
def compare_page(scenario: str, request: Request, as_of: dt.date | None = None, options: str | None = None,
                 assume: str | None = None, p: Principal = Depends(principal)) -> HTMLResponse:
    v, day, opts, facts, doc = _comparison(request, scenario, p, as_of, options, assume)
    q = _query(as_of=day, options=",".join(opts), assume=",".join(facts))
    return _render(request, "compare.html", p, s=v.scenario, view=v, doc=doc, as_of=day, options=",".join(opts),
                   assume=",".join(facts), chart=Markup(compare_svg(doc)), query=q, withheld=v.withheld())


@router.get("/scenarios/{scenario}/memo", response_class=HTMLResponse)
def memo(scenario: str, request: Request, as_of: dt.date | None = None, options: str | None = None,
         assume: str | None = None, p: Principal = Depends(principal)) -> HTMLResponse:
    v, day, opts, facts, doc = _comparison(request, scenario, p, as_of, options, assume)
    s = v.scenario
    diffs = []
    for a, b in zip(opts, opts[1:]):
        try:
            result = v.redact(diff_options(v.scenario_for_totals(), a, b, as_of=day, assume=facts).to_dict())
            law = v.redact(diff_options(v.scenario_for_totals(), a, b, as_of=day, assume=facts, law=True).to_dict())
            result["duties"], result["caps"] = law.get("duties") or [], law.get("caps") or []  # the law's, on finals
            diffs.append(result)
        except TrancheError as exc:
            diffs.append({"a": a, "b": b, "error": exc.message, "statements": []})
    cited: dict[str, None] = {}
    regimes = {r for o in doc["options"] for r in o.get("regimes", [])}
    for rule in s.law.rules:
        cited.update(dict.fromkeys(rule.sources))
    for rid in regimes:
        if rid in s.regimes and rid not in v.hidden:
            r = s.regimes[rid]
            cited.update(dict.fromkeys(r.sources))
            for rule in r.rules:
                cited.update(dict.fromkeys(rule.sources))
    for f in s.facts.values():
        if f.id not in v.hidden and (f.date is not None and f.date <= day or f.id in facts):
            cited.update(dict.fromkeys(f.sources))
    cited.update(dict.fromkeys(s.law.sources))
    footnotes = [s.sources[x] for x in cited if x in s.sources and x not in v.hidden]
    marking = max((x.marking for x in footnotes), key=lambda m: ("UNCLASSIFIED", "CONFIDENTIAL", "SECRET").index(m),
                  default="UNCLASSIFIED")
    return _render(request, "memo.html", p, s=s, view=v, doc=doc, diffs=diffs, as_of=day, options=opts,
                   assume=facts, footnotes=footnotes, marking=marking, withheld=v.withheld(),
                   query=_query(as_of=day, options=",".join(opts), assume=",".join(facts)))


@router.get("/scenarios/{scenario}/diff", response_class=HTMLResponse)
def diff_page(scenario: str, request: Request, a: str | None = None, b: str | None = None,
              as_of: dt.date | None = None, assume: str | None = None, with_law: bool = False,
              p: Principal = Depends(principal)) -> HTMLResponse:
    v = view(request, scenario, p)
    _, opts, facts = _defaults(v, as_of, None, assume)
    regimes = [r for r in v.scenario.regimes if r not in v.hidden]
    a = a or (opts[0] if opts else regimes[0])
    b = b or (opts[1] if len(opts) > 1 else regimes[-1])
    result = diff_options(v.scenario_for_totals(), v.option(a), v.option(b), as_of=as_of,
                          assume=v.assume(facts) if assume is not None else [], law=with_law)
    return _render(request, "diff.html", p, s=v.scenario, view=v, doc=v.redact(result.to_dict()), a=a, b=b,
                   as_of=as_of or "", assume=assume or "", with_law=with_law, regimes=regimes)


@router.get("/reviews", response_class=HTMLResponse)
def reviews(request: Request, scenario: str | None = None, status: str = "open", done: str | None = None,
            p: Principal = Depends(principal)) -> HTMLResponse:
    if status not in ("all", *store.tables.CASE_STATUSES):
        raise UsageError(f"unknown status `{status}`")
    shown, withheld = visible_cases(request, p, scenario, status)
    return _render(request, "reviews.html", p, cases=shown, withheld=withheld, status=status, done=done,
                   can_decide=_allowed(p, "reviewer"))


def _allowed(p: Principal, least: str) -> bool:
    try:
        need(p, least)
    except PermissionDenied:
        return False
    return True


@router.post("/reviews/{case}/{action}")
def decide_case(case: int, action: str, request: Request, justification: str = Form(""),
                revision: int | None = Form(None), p: Principal = Depends(principal)) -> Response:
    if action not in ("approve", "deny"):
        raise UsageError(f"`{action}` is not a review action", help="approve or deny")
    need(p, "reviewer")
    visible_case(request, p, case)
    decide = store.approve if action == "approve" else store.deny
    c = decide(desk(request).db, case, p.name, justification, revision)
    return RedirectResponse(f"/reviews?done=case+{c.id}+{c.status}", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, p: Principal = Depends(principal)) -> HTMLResponse:
    shown, withheld = visible_entries(request, p, 200)
    return _render(request, "audit.html", p, entries=list(reversed(shown)), withheld=withheld,
                   verification=verification_doc(request, p))
