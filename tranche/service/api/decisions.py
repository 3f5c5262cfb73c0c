"""Decisions with their explanations: one item, a batch, ad-hoc requests."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ...engine import Evaluator
from ..auth import Principal, role
from ..clearance import View
from ..errors import ERROR_RESPONSES
from ..request import request_item
from .common import desk, split, today, view

router = APIRouter(tags=["decisions"], responses=ERROR_RESPONSES)
VIEWER = Depends(role("viewer"))


def _evaluator(request: Request, v: View, as_of: dt.date | None, assume: list[str], regime: str | None) -> Evaluator:
    return desk(request).evaluator(v.scenario.id, today(as_of), v.assume(assume),
                                   v.option(regime) if regime else None)


def decision_doc(request: Request, scenario: str, item: str, p: Principal, as_of: dt.date | None,
                 regime: str | None, assume: list[str], cached: bool = False) -> dict[str, Any] | None:
    """One item's decision as ``p`` may see it; with ``cached``, None unless everything it needs is cached."""
    d = desk(request)
    v = d.view_if_cached(scenario, p.user.clearance) if cached else view(request, scenario, p)
    if v is None:
        return None
    it = v.item(item)
    day, facts, option = today(as_of), v.assume(assume), v.option(regime) if regime else None
    ev = d.evaluator_if_cached(scenario, day, facts, option) if cached else d.evaluator(scenario, day, facts, option)
    if ev is None:
        return None
    return v.redact_doc(ev.decide(it).to_dict())


@router.get("/api/scenarios/{scenario}/items/{item}/decision", summary="One item's decision and its explanation")
async def decision(scenario: str, item: str, request: Request, as_of: dt.date | None = None,
                   regime: str | None = None, assume: list[str] | None = Query(None),
                   p: Principal = VIEWER) -> dict[str, Any]:
    # the desk's most frequent request: answered at once when its evaluator is cached (the item's own work, tens
    # of microseconds), else in the thread pool, where reading the store and allocating caps do not hold up others
    args = (request, scenario, item, p, as_of, regime, split(assume))
    found = decision_doc(*args, cached=True)
    if found is None:
        found = await run_in_threadpool(decision_doc, *args)
    assert found is not None  # not cached only
    return found


class Batch(BaseModel):
    as_of: dt.date | None = Field(default=None, description="YYYY-MM-DD; default: today")
    regime: str | None = Field(default=None, description="a regime or timeline; default: each recipient's record")
    assume: list[str] = Field(default_factory=list, description="facts assumed to hold: FACT or FACT@YYYY-MM-DD")
    items: list[str] | None = Field(default=None, description="item ids; default: every item you may see",
                                    max_length=100_000)


@router.post("/api/scenarios/{scenario}/decisions", summary="Decisions of many items (default: all you may see)")
def decisions(scenario: str, body: Batch, request: Request, p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    chosen = [v.item(i) for i in body.items] if body.items is not None else list(v.items)
    ev = _evaluator(request, v, body.as_of, body.assume, body.regime)
    out = [v.redact_doc(ev.decide(i).to_dict()) for i in chosen]
    counts = Counter(d["outcome"] for d in out)
    return {"as_of": today(body.as_of).isoformat(), "decisions": out, "outcomes": dict(sorted(counts.items())),
            "withheld_items": v.withheld_items if body.items is None else 0, "withheld": v.withheld()}


class Requests(BaseModel):
    as_of: dt.date | None = Field(default=None, description="YYYY-MM-DD; default: today")
    regime: str | None = None
    assume: list[str] = Field(default_factory=list)
    requests: list[dict[str, Any]] = Field(min_length=1, max_length=10_000, description=(
        "line items that are not in the pipeline: recipient, program, channel, category, amount, flags, "
        "attributes"))


@router.post("/api/scenarios/{scenario}/requests", summary="Decide ad-hoc requests (items not in the pipeline)")
def requests(scenario: str, body: Requests, request: Request, p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    ev = _evaluator(request, v, body.as_of, body.assume, body.regime)
    items = [request_item(v.scenario, doc, str(doc.get("id") or f"request {n}"))
             for n, doc in enumerate(body.requests, 1)]
    return {"as_of": today(body.as_of).isoformat(), "decisions": [v.redact_doc(ev.decide(i).to_dict()) for i in items]}
