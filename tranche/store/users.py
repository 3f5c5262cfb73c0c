"""Users and their roles: who may do what to the store.

Roles are ordered; each includes the ones before it:

========  ==========================================================================
analyst   read everything; request a case-by-case review (`tranche review open`)
reviewer  + approve or deny review cases; assert and retract facts
approver  + load scenarios (which activates new law and regime versions)
admin     + add users and change roles
========  ==========================================================================

Whoever requested a review may not approve it (separation of duties). The
actor is ``--actor NAME``, else ``TRANCHE_ACTOR``, else the operating-system
user.  The first admin comes from `tranche init --admin NAME`.

>>> allows("reviewer", "review.decide"), allows("analyst", "review.decide")
(True, False)
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from ..errors import NotFound, PermissionDenied, UsageError, did_you_mean
from .audit import append
from .db import Database
from .events import UserAdded, UserRoleChanged, format_time
from .tables import ROLES, users

__all__ = ["ROLES", "PERMISSIONS", "User", "actor_name", "allows", "require", "get_user", "list_users", "add_user",
           "set_role", "bootstrap_admin"]

ENV_ACTOR = "TRANCHE_ACTOR"

PERMISSIONS: dict[str, tuple[str, str]] = {  # action -> (least role, what it is, for messages)
    "review.open": ("analyst", "requesting a review"),
    "review.decide": ("reviewer", "deciding a review case"),
    "fact.change": ("reviewer", "asserting or retracting a fact"),
    "scenario.load": ("approver", "loading a scenario"),
    "user.manage": ("admin", "managing users"),
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$")


@dataclass(frozen=True)
class User:
    """A user of the store and their role."""

    name: str
    role: str
    added_at: str
    added_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "added_at": self.added_at, "added_by": self.added_by}


def actor_name(given: str | None = None) -> str:
    """``given``, else ``TRANCHE_ACTOR``, else the operating-system user."""
    name = given or os.environ.get(ENV_ACTOR)
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = ""
    if not name:
        raise UsageError("who is acting? no user name", help="pass --actor NAME or set TRANCHE_ACTOR")
    return name


def allows(role: str, action: str) -> bool:
    """True when ``role`` may do ``action`` (roles include the ones below them)."""
    least = PERMISSIONS[action][0]
    return role in ROLES and ROLES.index(role) >= ROLES.index(least)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"unknown role `{role}`",
                         help=did_you_mean(role, ROLES) or "roles: " + ", ".join(f"`{r}`" for r in ROLES))
    return role


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"`{name}` is not a user name",
                         help="use letters, digits and `_ . @ + -`, starting with a letter or digit")
    return name


def _user(row: Any) -> User:
    return User(row.name, row.role, row.added_at, row.added_by)


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row is not None else None


def require(conn: Connection, actor: str, action: str) -> User:
    """The actor's user record, or :class:`PermissionDenied` if unknown or their role is too low."""
    least, what = PERMISSIONS[action]
    user = get_user(conn, actor)
    if user is None:
        known = [r[0] for r in conn.execute(select(users.c.name))]
        raise PermissionDenied(f"`{actor}` is not a user of this database; {what} needs the {least} role",
                               help=did_you_mean(actor, known)
                               or "an admin adds users with `tranche user add NAME --role ROLE`; pass --actor NAME "
                                  "or set TRANCHE_ACTOR to act as another user")
    if not allows(user.role, action):
        raise PermissionDenied(f"`{actor}` is {_a(user.role)}; {what} needs the {least} role or higher",
                               help="an admin can change it: `tranche user role NAME ROLE`")
    return user


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def list_users(db: Database) -> list[User]:
    with db.read() as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def add_user(db: Database, name: str, role: str, actor: str) -> User:
    """Add a user with a role (admins only)."""
    check_name(name)
    check_role(role)
    with db.write() as conn:
        require(conn, actor, "user.manage")
        if get_user(conn, name) is not None:
            raise UsageError(f"user `{name}` exists already", help=f"change the role with `tranche user role {name} ROLE`")
        return _insert(conn, name, role, actor)


def _insert(conn: Connection, name: str, role: str, actor: str) -> User:
    ev = UserAdded(actor=actor, user=name, role=role)
    user = User(name, role, format_time(ev.created), actor)
    conn.execute(insert(users).values(**user.to_dict()))
    append(conn, ev)
    return user


def set_role(db: Database, name: str, role: str, actor: str) -> User:
    """Change a user's role (admins only; the last admin keeps theirs)."""
    check_role(role)
    with db.write() as conn:
        require(conn, actor, "user.manage")
        user = get_user(conn, name)
        if user is None:
            known = [r[0] for r in conn.execute(select(users.c.name))]
            raise NotFound(f"unknown user `{name}`", help=did_you_mean(name, known))
        if user.role == role:
            return user
        if user.role == "admin":
            admins = conn.execute(select(func.count()).select_from(users).where(users.c.role == "admin")).scalar_one()
            if admins <= 1:
                raise UsageError(f"`{name}` is the last admin", help="make another user admin first")
        conn.execute(update(users).where(users.c.name == name).values(role=role))
        append(conn, UserRoleChanged(actor=actor, user=name, role=role, previous_role=user.role))
        return User(name, role, user.added_at, user.added_by)


def bootstrap_admin(db: Database, name: str, actor: str) -> tuple[User, bool]:
    """Make ``name`` an admin: freely while the database has no user, else as an admin; (user, added?)."""
    check_name(name)
    with db.write() as conn:
        count = conn.execute(select(func.count()).select_from(users)).scalar_one()
        existing = get_user(conn, name)
        if existing is not None and existing.role == "admin":
            return existing, False
        if count:
            require(conn, actor, "user.manage")
        if existing is not None:
            conn.execute(update(users).where(users.c.name == name).values(role="admin"))
            append(conn, UserRoleChanged(actor=actor, user=name, role="admin", previous_role=existing.role))
            return User(name, "admin", existing.added_at, existing.added_by), True
        return _insert(conn, name, "admin", actor), True

