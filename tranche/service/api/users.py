"""``/api/me`` and ``/api/users``: who is asking; users and their tokens (admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from ... import store
from ..auth import Principal, principal, role
from ..errors import ERROR_RESPONSES
from .common import desk

router = APIRouter(tags=["users"], responses=ERROR_RESPONSES)


@router.get("/api/me", summary="The authenticated user: name, role, clearance")
def me(p: Principal = Depends(principal)) -> dict[str, Any]:
    return {**p.user.to_dict(), "via": p.via}


@router.get("/api/users", summary="Every user with role and clearance (admins)")
def users(request: Request, p: Principal = Depends(role("admin"))) -> dict[str, Any]:
    return {"users": [u.to_dict() for u in store.list_users(desk(request).db)]}


class NewUser(BaseModel):
    name: str = Field(description="letters, digits and `_ . @ + -`")
    role: str = Field(description="viewer, analyst, reviewer, approver or admin")
    clearance: str = Field(default="UNCLASSIFIED", description="UNCLASSIFIED, CONFIDENTIAL or SECRET")


@router.post("/api/users", status_code=201, summary="Add a user; the response holds their token, shown once (admins)")
def add_user(body: NewUser, request: Request, p: Principal = Depends(role("admin"))) -> dict[str, Any]:
    user, token = store.add_user_with_token(desk(request).db, body.name, body.role, p.name, body.clearance)
    return {"user": user.to_dict(), "token": token}
