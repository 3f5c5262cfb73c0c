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


def visible_entries(request: Request, p: Principal, limit: int, action: str | None = None
                    ) -> tuple[list[dict[str, Any]], int]:
    """The last ``limit`` entries ``p`` may see, newest last, and how many were withheld."""
    views: dict[str, View | None] = {}
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
            v = views[sid]
            if v is not None and v.redact(payload) != payload:
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
    """The verification of the audit log, without names the user may not see."""
    doc = store.verify(desk(request).db).to_dict()
    for sid in [s.id for s in desk(request).scenarios()]:
        redacted = view(request, sid, p).redact(doc)
        assert isinstance(redacted, dict)
        doc = redacted
    return doc


@router.get("/api/audit/verify", summary="Verify the chain, signatures and replayed state of the audit log")
def verify(request: Request, p: Principal = Depends(role("viewer"))) -> dict[str, Any]:
    return verification_doc(request, p)
