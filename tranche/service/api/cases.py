"""Review cases: list, show, open (analysts), approve and deny (reviewers; never the requester)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from ... import store
from ...errors import NotFound
from ..auth import Principal, role
from ..errors import ERROR_RESPONSES
from .common import desk, split, today, view

router = APIRouter(tags=["cases"], responses=ERROR_RESPONSES)
CASE = Path(..., ge=1, le=2**31 - 1, description="the case number")


def visible_cases(request: Request, p: Principal, scenario: str | None = None,
                  status: str | None = "open") -> tuple[list[store.Case], int]:
    """The cases ``p`` may see (item and regime within their clearance), and how many were withheld."""
    d = desk(request)
    sids = [scenario] if scenario else [s.id for s in d.scenarios()]
    shown: list[store.Case] = []
    withheld = 0
    for sid in sids:
        v = view(request, sid, p)
        for c in d.cases(sid):
            if status not in (None, "all") and c.status != status:
                continue
            if c.item in v.hidden or c.regime in v.hidden:
                withheld += 1
            else:
                shown.append(c)
    return sorted(shown, key=lambda c: c.id), withheld


def visible_case(request: Request, p: Principal, case: int) -> store.Case:
    c = store.get_case(desk(request).db, case)
    v = view(request, c.scenario, p)
    if c.item in v.hidden or c.regime in v.hidden:
        raise NotFound(f"unknown case `{case}`")
    return c


@router.get("/api/cases", summary="Review cases (default: the open ones)")
def cases(request: Request, scenario: str | None = None,
          status: str = Query("open", description="open, approved, denied, withdrawn or all"),
          p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    if status not in ("all", *store.tables.CASE_STATUSES):
        store.list_cases(desk(request).db, None, status)  # raises with did-you-mean
    shown, withheld = visible_cases(request, p, scenario, status)
    return {"cases": [c.to_dict() for c in shown], "withheld": withheld}


@router.get("/api/cases/{case}", summary="A case, its history, and its item's decision with every case applied")
def case(request: Request, case: int = CASE, as_of: dt.date | None = None,
         p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    c = visible_case(request, p, case)
    v = view(request, c.scenario, p)
    history = store.case_history(desk(request).db, case)
    decision = None
    if v.scenario.has_item(c.item) and c.regime in v.scenario.regimes:
        decision = desk(request).evaluator(c.scenario, today(as_of), (), c.regime).decide(v.scenario.item(c.item))
    return v.redact_doc({"case": c.to_dict(), "history": [h.to_dict() for h in history],
                     "decision": decision.to_dict() if decision is not None else None})


class Opening(BaseModel):
    scenario: str
    item: str
    regime: str = Field(description="the regime the item is reviewed under")
    as_of: dt.date | None = Field(default=None, description="its outcome there on this date must be review")
    assume: list[str] = Field(default_factory=list)


@router.post("/api/cases", status_code=201, summary="Request a case-by-case review of an item (analysts)")
def open_case(body: Opening, request: Request, p: Principal = Depends(role("analyst"))) -> dict[str, Any]:
    v = view(request, body.scenario, p)
    v.item(body.item)
    c = store.open_case(desk(request).db, body.scenario, body.item, v.option(body.regime), p.name, today(body.as_of),
                        v.assume(split(body.assume)))
    return c.to_dict()


class Decision(BaseModel):
    justification: str = Field(min_length=1, max_length=10_000, description="why (recorded in the audit log)")
    revision: int | None = Field(default=None, ge=0, description="the case revision you saw (optimistic locking)")


@router.post("/api/cases/{case}/approve", summary="Approve a case (reviewers; not its requester)")
def approve(body: Decision, request: Request, case: int = CASE,
            p: Principal = Depends(role("reviewer"))) -> dict[str, Any]:
    visible_case(request, p, case)
    return store.approve(desk(request).db, case, p.name, body.justification, body.revision).to_dict()


@router.post("/api/cases/{case}/deny", summary="Deny a case (reviewers; not its requester)")
def deny(body: Decision, request: Request, case: int = CASE,
         p: Principal = Depends(role("reviewer"))) -> dict[str, Any]:
    visible_case(request, p, case)
    return store.deny(desk(request).db, case, p.name, body.justification, body.revision).to_dict()
