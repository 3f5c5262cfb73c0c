"""Facts as stored (dates as asserted), and asserting or retracting them (reviewers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ... import store
from ...errors import NotFound, did_you_mean
from ..auth import Principal, role
from ..clearance import View
from ..errors import ERROR_RESPONSES
from .common import desk, view

router = APIRouter(tags=["facts"], responses=ERROR_RESPONSES)


@router.get("/api/scenarios/{scenario}/facts", summary="Every fact you may see, with its dates and who asserted them")
def facts(scenario: str, request: Request, p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    v = view(request, scenario, p)
    records = [f for f in store.list_facts(desk(request).db, scenario) if f.id not in v.hidden]
    marks = {f.id: f for f in v.scenario.facts.values()}
    return {"facts": [v.redact_doc({**r.to_dict(), "role": marks[r.id].role if r.id in marks else None,
                                "marking": marks[r.id].marking if r.id in marks else None}) for r in records],
            "withheld": v.withheld()}


def _visible(v: View, fact: str, source: str | None) -> None:
    if fact in v.hidden or fact not in v.scenario.facts:
        raise NotFound(f"unknown fact `{fact}`",
                       help=did_you_mean(fact, [f for f in v.scenario.facts if f not in v.hidden]))
    if source is not None and (source in v.hidden or source not in v.scenario.sources):
        raise NotFound(f"unknown source `{source}`",
                       help=did_you_mean(source, [x for x in v.scenario.sources if x not in v.hidden]))


class Assertion(BaseModel):
    on: dt.date = Field(description="the fact holds from this date")
    until: dt.date | None = Field(default=None, description="until this date, if it stopped holding")
    source: str | None = Field(default=None, description="a source id of the scenario")


class Retraction(BaseModel):
    source: str | None = None


@router.post("/api/scenarios/{scenario}/facts/{fact}/assert", summary="Record that a fact holds (reviewers)")
def assert_fact(scenario: str, fact: str, body: Assertion, request: Request,
                p: Principal = Depends(role("reviewer"))) -> dict[str, Any]:
    v = view(request, scenario, p)
    _visible(v, fact, body.source)
    rec = store.assert_fact(desk(request).db, fact, body.on, p.name, body.source, body.until, scenario)
    return v.redact_doc(rec.to_dict())


@router.post("/api/scenarios/{scenario}/facts/{fact}/retract", summary="Record that a fact no longer holds (reviewers)")
def retract_fact(scenario: str, fact: str, body: Retraction, request: Request,
                 p: Principal = Depends(role("reviewer"))) -> dict[str, Any]:
    v = view(request, scenario, p)
    _visible(v, fact, body.source)
    rec = store.retract_fact(desk(request).db, fact, p.name, body.source, scenario)
    return v.redact_doc(rec.to_dict())
