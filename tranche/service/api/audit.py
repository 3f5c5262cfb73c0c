"""The audit log (entries naming what the user may not see are withheld) and its verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ... import store
from ...errors import TrancheError
from ..auth import Principal, role
from ..clearance import View
from ..errors import ERROR_RESPONSES
from .common import desk, view

router = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)


def _views(request: Request, p: Principal) -> list[View]:
    """``p``'s view of every stored scenario."""
    return [view(request, s.id, p) for s in desk(request).scenarios()]


def visible_entries(request: Request, p: Principal, limit: int, action: str | None = None
                    ) -> tuple[list[dict[str, Any]], int]:
    """The last ``limit`` entries ``p`` may see, newest last, and how many were withheld: an entry naming
    something above the clearance in its scenario -- or, naming no scenario, in any -- is withheld whole."""
    views: dict[str, View | None] = {}
    every: list[View] | None = None
    shown, withheld = [], 0
    for e in store.entries(desk(request).db, action=action, limit=limit):
        doc = e.to_dict()
        payload = doc["payload"]
        sid = payload.get("scenario") if isinstance(payload, dict) else None
        if isinstance(sid, str):
            if sid not in views:
                try:
                    views[sid] = view(request, sid, p)
                except TrancheError:
                    views[sid] = None
            found = views[sid]
            judges = [found] if found is not None else []
        else:
            every = _views(request, p) if every is None else every
            judges = every
        if any(v.redact(payload) != payload for v in judges):
            withheld += 1
            continue
        shown.append(doc)
    return shown, withheld


@router.get("/api/audit", summary="The last entries of the audit log, oldest first")
def audit(request: Request, limit: int = Query(100, ge=1, le=10_000), action: str | None = None,
          p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    shown, withheld = visible_entries(request, p, limit, action)
    return {"entries": shown, "withheld": withheld}


def verification_doc(request: Request, p: Principal) -> dict[str, Any]:
    """The verification of the audit log, without names the user may not see; where the server keeps its
    audit key (a path on the server) for admins only."""
    doc = store.verify(desk(request).db).to_dict()
    for v in _views(request, p):
        doc = v.redact_doc(doc)
    if p.user.role != "admin":
        doc["key"] = None
    return doc


@router.get("/api/audit/verify", summary="Verify the chain, signatures and replayed state of the audit log")
def verify(request: Request, p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    return verification_doc(request, p)
