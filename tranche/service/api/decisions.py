"""Decisions with their explanations: one item, a batch, ad-hoc requests."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
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


@router.get("/api/scenarios/{scenario}/items/{item}/decision", summary="One item's decision and its explanation")
def decision(scenario: str, item: str, request: Request, as_of: dt.date | None = None, regime: str | None = None,
             assume: list[str] | None = Query(None), p: Principal = VIEWER) -> dict[str, Any]:
    v = view(request, scenario, p)
    it = v.item(item)
    ev = _evaluator(request, v, as_of, split(assume), regime)
    return v.redact_doc(ev.decide(it).to_dict())


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
