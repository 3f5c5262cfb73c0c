"""Scenarios, recipients, the posture timeline, programs and line items (what the user's clearance allows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ..auth import Principal, role
from ..errors import ERROR_RESPONSES
from ..timeline import timeline
from .common import desk, split, today, view

router = APIRouter(tags=["scenarios"], responses=ERROR_RESPONSES)
VIEWER = Depends(role("viewer"))


@router.get("/api/scenarios", summary="The stored scenarios")
def scenarios(request: Request, p: Principal = VIEWER) -> dict[str, Any]:
    return {"scenarios": scenario_list(request, p)}


def scenario_list(request: Request, p: Principal) -> list[dict[str, Any]]:
    """The stored scenarios as ``p`` may see them: the line items within their clearance counted, the others as
    ``withheld_items``; where a scenario was loaded from (a path on the server) for admins only."""
    out = []
    for info in desk(request).scenarios():
        v = view(request, info.id, p)
        doc = {**info.to_dict(), "items": len(v.items), "withheld_items": v.withheld_items}
        if p.user.role != "admin":
            doc.pop("path", None)
        out.append(doc)
    return out


@router.get("/api/scenarios/{scenario}", summary="One scenario: recipients, programs, regimes, timelines")
def scenario(scenario: str, request: Request, p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    s = v.scenario
    doc = {"id": s.id, "title": s.title, "description": s.description, "donor": s.donor, "currency": s.currency,
           "recipients": [{"code": k, "name": n} for k, n in s.recipients.items()],
           "channels": list(s.channels), "programs": [_program(x) for x in s.programs.values()],
           "regimes": [{"id": r.id, "title": r.title, "default": r.default.value, "version": r.version,
                        "marking": r.marking, "sources": list(r.sources)} for r in s.regimes.values()],
           "timelines": [{"id": t.id, "recipient": t.recipient, "record": t.record, "title": t.title}
                         for t in s.timelines.values()],
           "law_version": s.law.version, "items": len(v.items),
           "demo": s.demo.to_dict() if s.demo is not None else None}
    return {**v.redact_doc(doc), "withheld": v.withheld()}


def _program(x: Any) -> dict[str, Any]:
    return {"id": x.id, "recipient": x.recipient, "title": x.title, "fiscal_year": x.fiscal_year,
            "total": None if x.total is None else f"{x.total:.2f}", "status": x.status, "sources": list(x.sources)}


@router.get("/api/scenarios/{scenario}/recipients", summary="The recipients of a scenario")
def recipients(scenario: str, request: Request, p: Principal = VIEWER) -> dict[str, Any]:
    s = view(request, scenario, p).scenario
    return {"recipients": [{"code": k, "name": n} for k, n in s.recipients.items()]}


@router.get("/api/scenarios/{scenario}/timeline", summary="A recipient's posture timelines and dated facts")
def get_timeline(scenario: str, request: Request, recipient: str | None = None, as_of: dt.date | None = None,
                 assume: list[str] | None = Query(None), p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    doc = timeline(v.scenario, recipient, today(as_of), v.assume(split(assume)))
    return {**v.redact_doc(doc), "withheld": v.withheld()}


@router.get("/api/scenarios/{scenario}/programs", summary="The fiscal-year programs of a scenario")
def programs(scenario: str, request: Request, p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    return {"programs": [v.redact_doc({**_program(x), "withheld_items": v.withheld_by_program.get(x.id, 0)})
                         for x in v.scenario.programs.values()], "withheld": v.withheld()}


@router.get("/api/scenarios/{scenario}/items", summary="Line items, filtered and paged")
def items(scenario: str, request: Request, program: str | None = None, channel: str | None = None,
          category: str | None = None, recipient: str | None = None,
          offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000), p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    s = v.scenario

    def wanted(i: Any) -> bool:
        return ((program is None or i.program == program) and (channel is None or i.channel == channel)
                and (recipient is None or i.recipient == recipient)
                and (category is None or s.taxonomy.is_under(i.category, category)))

    chosen = [i for i in v.items if wanted(i)]
    page = chosen[offset:offset + limit]
    return {"items": [{**i.to_dict(), "marking": i.marking} for i in page], "total": len(chosen),
            "offset": offset, "limit": limit, "withheld_items": sum(1 for i in v.hidden_items if wanted(i)),
            "withheld": v.withheld()}
