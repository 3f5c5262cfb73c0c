"""Users and their roles: who may do what to the store.

Roles are ordered; each includes the ones before it:

========  ==========================================================================
viewer    read (what their clearance allows): scenarios, decisions, comparisons, cases
analyst   + request a case-by-case review (`tranche review open`)
reviewer  + approve or deny review cases; assert and retract facts
approver  + load scenarios (which activates new law and regime versions)
admin     + add users and change roles
========  ==========================================================================

Whoever requested a review may not approve it (separation of duties).

Each user has a clearance (a marking: UNCLASSIFIED, CONFIDENTIAL, SECRET) and
may hold API tokens and a browser-login password, stored only as argon2
hashes.  A token reads ``tr_<id>_<secret>``: the id finds the row, the secret
is checked against its hash (:func:`authenticate_token`).  A browser session
is a row too (the SHA-256 of its secret, :func:`start_session`), so that
signing out ends it on the server (:func:`end_session`), and an admin ends
every token and session of a user at once (:func:`revoke_all`), or disables
the user (:func:`disable_user`: no sign-in, token or action until
:func:`enable_user`).

Who acts (:func:`acting_user`): the user whose token is in ``TRANCHE_TOKEN``;
without one, and only on a local SQLite file, ``--actor NAME``, else
``TRANCHE_ACTOR``, else the operating-system user.  On a shared database
(PostgreSQL) a name alone is refused.  The first admin comes from
`tranche init --admin NAME`, which prints the admin's token once.

>>> allows("reviewer", "review.decide"), allows("analyst", "review.decide")
(True, False)
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, insert, select, update

from ..errors import NotAuthenticated, NotFound, PermissionDenied, UsageError, did_you_mean
from ..language.scenario import MARKINGS, UNCLASSIFIED
from .audit import append
from .db import Database, resolve_url
from .events import (SessionsEnded, TokenIssued, TokenRevoked, UserAdded, UserClearanceChanged, UserDisabled,
                     UserEnabled, UserPasswordSet, UserRoleChanged, format_time, utc_now)
from .tables import ROLES, api_tokens, sessions, users

__all__ = ["ROLES", "PERMISSIONS", "User", "actor_name", "allows", "require", "get_user", "list_users", "add_user",
           "set_role", "set_clearance", "set_password", "issue_token", "revoke_token", "bootstrap_admin",
           "authenticate_token", "authenticate_password", "acting_user", "acting_user_at", "check_clearance", "ENV_TOKEN",
           "start_session", "session_user", "end_session", "revoke_all", "disable_user", "enable_user", "token_user"]

ENV_ACTOR = "TRANCHE_ACTOR"
ENV_TOKEN = "TRANCHE_TOKEN"

# Passwords: argon2id with the library's defaults (RFC 9106's second recommendation).  Tokens carry 256
# random bits, so guessing is hopeless whatever the cost; a cheaper argon2id keeps the first request fast.
_PASSWORDS = PasswordHasher()
_TOKENS = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_TOKEN = re.compile(r"^tr_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
MIN_PASSWORD = 10

PERMISSIONS: dict[str, tuple[str, str]] = {  # action -> (least role, what it is, for messages)
    "read": ("viewer", "reading"),
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
    clearance: str = UNCLASSIFIED
    has_password: bool = False
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "clearance": self.clearance, "added_at": self.added_at,
                "added_by": self.added_by, "disabled": self.disabled}


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


def check_clearance(clearance: str) -> str:
    if clearance not in MARKINGS:
        raise UsageError(f"unknown clearance `{clearance}`",
                         help=did_you_mean(clearance.upper(), MARKINGS)
                         or "clearances: " + ", ".join(f"`{m}`" for m in MARKINGS))
    return clearance


def _user(row: Any) -> User:
    return User(row.name, row.role, row.added_at, row.added_by, row.clearance, row.password_hash is not None,
                row.disabled_at is not None)


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
    if user.disabled:
        raise PermissionDenied(f"`{actor}` is disabled; {what} needs an enabled user",
                               help="an admin enables users with `tranche user enable NAME`")
    if not allows(user.role, action):
        raise PermissionDenied(f"`{actor}` is {_a(user.role)}; {what} needs the {least} role or higher",
                               help="an admin can change it: `tranche user role NAME ROLE`")
    return user


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def list_users(db: Database) -> list[User]:
    with db.read() as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def add_user(db: Database, name: str, role: str, actor: str, clearance: str = UNCLASSIFIED) -> User:
    """Add a user with a role and a clearance (admins only)."""
    user, _ = _add(db, name, role, actor, clearance, token=False)
    return user


def add_user_with_token(db: Database, name: str, role: str, actor: str,
                        clearance: str = UNCLASSIFIED) -> tuple[User, str]:
    """Add a user and issue their first API token, in one transaction: (user, token shown once)."""
    user, token = _add(db, name, role, actor, clearance, token=True)
    assert token is not None
    return user, token


def _add(db: Database, name: str, role: str, actor: str, clearance: str, token: bool) -> tuple[User, str | None]:
    check_name(name)
    check_role(role)
    check_clearance(clearance)
    with db.write() as conn:
        require(conn, actor, "user.manage")
        if get_user(conn, name) is not None:
            raise UsageError(f"user `{name}` exists already", help=f"change the role with `tranche user role {name} ROLE`")
        user = _insert(conn, name, role, actor, clearance)
        return user, (_issue(conn, name, actor) if token else None)


def _insert(conn: Connection, name: str, role: str, actor: str, clearance: str = UNCLASSIFIED) -> User:
    ev = UserAdded(actor=actor, user=name, role=role, clearance=clearance)
    user = User(name, role, format_time(ev.created), actor, clearance)
    conn.execute(insert(users).values(name=name, role=role, added_at=user.added_at, added_by=actor,
                                      clearance=clearance))
    append(conn, ev)
    return user


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _issue(conn: Connection, name: str, actor: str) -> str:
    tid = secrets.token_hex(6)
    token = f"tr_{tid}_{secrets.token_urlsafe(32)}"
    hashed = _TOKENS.hash(token)
    ev = TokenIssued(actor=actor, user=name, token=tid, digest=_digest(hashed))
    conn.execute(insert(api_tokens).values(id=tid, user_name=name, hash=hashed, created_at=format_time(ev.created),
                                           created_by=actor))
    append(conn, ev)
    return token


def _known(conn: Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        known = [r[0] for r in conn.execute(select(users.c.name))]
        raise NotFound(f"unknown user `{name}`", help=did_you_mean(name, known))
    return user


def issue_token(db: Database, name: str, actor: str) -> str:
    """A new API token for ``name`` (admins only; printed once, stored as an argon2 hash)."""
    with db.write() as conn:
        require(conn, actor, "user.manage")
        if _known(conn, name).disabled:
            raise UsageError(f"`{name}` is disabled", help=f"enable them first: `tranche user enable {name}`")
        return _issue(conn, name, actor)


def revoke_token(db: Database, token_id: str, actor: str) -> None:
    """Revoke the token with public id ``token_id`` (admins only)."""
    with db.write() as conn:
        require(conn, actor, "user.manage")
        row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFound(f"no token `{token_id}`", help="`tranche user list --format json` shows no tokens; the id "
                                                         "is the part after `tr_` of a token")
        conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id))
        append(conn, TokenRevoked(actor=actor, user=row.user_name, token=token_id))
    _VERIFIED.clear()


def set_password(db: Database, name: str, password: str, actor: str) -> User:
    """Set ``name``'s browser-login password (admins, or the user themselves); stored as an argon2 hash."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters",
                         help="choose a longer one (a passphrase of a few words is good)")
    hashed = _PASSWORDS.hash(password)
    with db.write() as conn:
        if actor != name:
            require(conn, actor, "user.manage")
        user = _known(conn, name)
        conn.execute(update(users).where(users.c.name == name).values(password_hash=hashed))
        conn.execute(delete(sessions).where(sessions.c.user_name == name))  # signed in with the old one: no more
        append(conn, UserPasswordSet(actor=actor, user=name, digest=_digest(hashed)))
        return User(user.name, user.role, user.added_at, user.added_by, user.clearance, True, user.disabled)


def set_clearance(db: Database, name: str, clearance: str, actor: str) -> User:
    """Change a user's clearance (admins only)."""
    check_clearance(clearance)
    with db.write() as conn:
        require(conn, actor, "user.manage")
        user = _known(conn, name)
        if user.clearance == clearance:
            return user
        conn.execute(update(users).where(users.c.name == name).values(clearance=clearance))
        append(conn, UserClearanceChanged(actor=actor, user=name, clearance=clearance,
                                          previous_clearance=user.clearance))
        return User(user.name, user.role, user.added_at, user.added_by, clearance, user.has_password, user.disabled)


# token -> (token id, expiry): a token verified once is not hashed again for a while (argon2 is slow on
# purpose); every request still reads its row, so a revoked token or a changed role takes effect at once
_VERIFIED: dict[str, tuple[str, float]] = {}
_VERIFIED_LOCK = threading.Lock()
_VERIFIED_SECONDS = 300.0


def authenticate_token(db: Database, token: str) -> User:
    """The user ``token`` belongs to, checked against its stored hash; :class:`NotAuthenticated` otherwise."""
    refused = NotAuthenticated("the token is not valid", help="use a token `tranche user add` or `tranche user "
                                                              "token` printed; it may have been revoked")
    m = _TOKEN.match(token.strip())
    if m is None:
        raise NotAuthenticated("that is not a tranche token", help="tokens read `tr_<id>_<secret>`, as `tranche "
                                                                   "user add` printed them")
    tid = m.group(1)
    with db.read() as conn:
        row = conn.execute(select(users, api_tokens.c.hash.label("token_hash"))
                           .join(api_tokens, api_tokens.c.user_name == users.c.name)
                           .where(api_tokens.c.id == tid)).first()
    if row is None or row.disabled_at is not None:
        raise refused
    key = _digest(token)
    now = time.monotonic()
    with _VERIFIED_LOCK:
        cached = _VERIFIED.get(key)
    if cached is None or cached[0] != tid or cached[1] < now:
        try:
            _TOKENS.verify(row.token_hash, token)
        except (VerificationError, InvalidHashError):
            raise refused from None
        with _VERIFIED_LOCK:
            if len(_VERIFIED) > 10_000:
                _VERIFIED.clear()
            _VERIFIED[key] = (tid, now + _VERIFIED_SECONDS)
    return _user(row)


def authenticate_password(db: Database, name: str, password: str) -> User:
    """The user ``name`` if ``password`` is theirs; :class:`NotAuthenticated` (the same message whatever was
    wrong) otherwise."""
    refused = NotAuthenticated("unknown user or wrong password",
                               help="an admin sets a password with `tranche user password NAME`")
    with db.read() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first() if _NAME.match(name) else None
    if row is None or row.password_hash is None or row.disabled_at is not None:
        _PASSWORDS.hash(password)  # the same work as a real check: no timing difference for unknown names
        raise refused
    try:
        _PASSWORDS.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    return _user(row)


def acting_user_at(url: str | None, given: str | None = None) -> str:
    """:func:`acting_user` on the database at ``url``, opened only when a token must be checked or the
    database is not a local SQLite file."""

    if not os.environ.get(ENV_TOKEN) and resolve_url(url).startswith("sqlite"):
        return actor_name(given)
    with Database(url) as db:
        return acting_user(db, given)


def token_user(db: Database) -> User | None:
    """The user of the token in ``TRANCHE_TOKEN`` (checked against its hash), or None without one: who reads
    ``db`` from the command line, and so whose clearance applies."""
    token = os.environ.get(ENV_TOKEN)
    return authenticate_token(db, token) if token else None


def acting_user(db: Database, given: str | None = None) -> str:
    """Who acts on ``db`` from the command line: the owner of ``TRANCHE_TOKEN``; without a token, on a local
    SQLite file only, ``given`` (``--actor``), else ``TRANCHE_ACTOR``, else the operating-system user."""
    token = os.environ.get(ENV_TOKEN)
    if token:
        user = authenticate_token(db, token)
        if given and given != user.name:
            raise UsageError(f"--actor `{given}`, but TRANCHE_TOKEN is the token of `{user.name}`",
                             help="drop --actor: with a token, the token says who acts")
        return user.name
    if db.dialect != "sqlite":
        raise NotAuthenticated(f"on a shared database (`{db.display}`) tranche acts only with a user's token",
                               help="set TRANCHE_TOKEN to the token `tranche user add` printed for you; a bare "
                                    "--actor is accepted only on a local SQLite file")
    return actor_name(given)


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
            admins = conn.execute(select(func.count()).select_from(users).where(
                users.c.role == "admin", users.c.disabled_at.is_(None))).scalar_one()
            if admins <= 1 and not user.disabled:
                raise UsageError(f"`{name}` is the last admin", help="make another user admin first")
        conn.execute(update(users).where(users.c.name == name).values(role=role))
        append(conn, UserRoleChanged(actor=actor, user=name, role=role, previous_role=user.role))
        return User(name, role, user.added_at, user.added_by, user.clearance, user.has_password, user.disabled)


def bootstrap_admin(db: Database, name: str, actor: str) -> tuple[User, bool]:
    """Make ``name`` an admin: freely while the database has no user, else as an admin; (user, added?)."""
    user, added, _ = bootstrap(db, name, actor)
    return user, added


def bootstrap(db: Database, name: str, actor: str, clearance: str = UNCLASSIFIED,
              token: bool = False) -> tuple[User, bool, str | None]:
    """:func:`bootstrap_admin`, with the new admin's clearance and, with ``token``, a first API token for them
    when they were added or promoted: (user, added?, token shown once or None)."""
    check_name(name)
    check_clearance(clearance)
    with db.write() as conn:
        count = conn.execute(select(func.count()).select_from(users)).scalar_one()
        existing = get_user(conn, name)
        if existing is not None and existing.role == "admin":
            return existing, False, None
        if count:
            require(conn, actor, "user.manage")
        if existing is not None:
            conn.execute(update(users).where(users.c.name == name).values(role="admin"))
            append(conn, UserRoleChanged(actor=actor, user=name, role="admin", previous_role=existing.role))
            user = User(name, "admin", existing.added_at, existing.added_by, existing.clearance,
                        existing.has_password)
        else:
            user = _insert(conn, name, "admin", actor, clearance)
        return user, True, (_issue(conn, name, actor) if token else None)


def get_user_record(db: Database, name: str) -> User | None:
    """The user ``name`` (None when unknown), in a read transaction of its own."""
    with db.read() as conn:
        return get_user(conn, name)


# -- browser sessions ------------------------------------------------------------------------------------------

def _session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(db: Database, name: str, seconds: int) -> str:
    """A new browser session of ``name`` (already authenticated) lasting ``seconds``: its secret, for the cookie
    (the store keeps only its SHA-256).  Sessions that have ended are cleared away."""
    secret = secrets.token_urlsafe(32)
    now = utc_now()
    with db.write() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at < format_time(now)))
        conn.execute(insert(sessions).values(id=_session_id(secret), user_name=name, created_at=format_time(now),
                                             expires_at=format_time(now + dt.timedelta(seconds=seconds))))
    return secret


def session_user(db: Database, secret: str) -> User | None:
    """The user of a session that has not ended (signed out, revoked, expired) and is enabled; else None."""
    with db.read() as conn:
        row = conn.execute(select(users).join(sessions, sessions.c.user_name == users.c.name)
                           .where(sessions.c.id == _session_id(secret),
                                  sessions.c.expires_at > format_time(utc_now()))).first()
    return None if row is None or row.disabled_at is not None else _user(row)


def end_session(db: Database, secret: str) -> bool:
    """End one session (signing out); whether it was there."""
    with db.write() as conn:
        return bool(conn.execute(delete(sessions).where(sessions.c.id == _session_id(secret))).rowcount)


def _revoke_all(conn: Connection, name: str, actor: str) -> tuple[int, int]:
    tokens = [r.id for r in conn.execute(select(api_tokens.c.id).where(api_tokens.c.user_name == name)
                                         .order_by(api_tokens.c.id))]
    for tid in tokens:
        conn.execute(delete(api_tokens).where(api_tokens.c.id == tid))
        append(conn, TokenRevoked(actor=actor, user=name, token=tid))
    ended = conn.execute(delete(sessions).where(sessions.c.user_name == name)).rowcount or 0
    if ended:
        append(conn, SessionsEnded(actor=actor, user=name, sessions=ended))
    return len(tokens), ended


def revoke_all(db: Database, name: str, actor: str) -> tuple[int, int]:
    """Revoke every API token of ``name`` and end every browser session (admins only): (tokens, sessions)."""
    with db.write() as conn:
        require(conn, actor, "user.manage")
        _known(conn, name)
        found = _revoke_all(conn, name, actor)
    _VERIFIED.clear()
    return found


def disable_user(db: Database, name: str, actor: str) -> tuple[User, int, int]:
    """Disable ``name`` (admins only; not the last enabled admin): every token revoked, every session ended,
    and no sign-in, token or action until :func:`enable_user`.  (user, tokens revoked, sessions ended)."""
    with db.write() as conn:
        require(conn, actor, "user.manage")
        user = _known(conn, name)
        if user.disabled:
            return user, 0, 0
        if user.role == "admin":
            admins = conn.execute(select(func.count()).select_from(users).where(
                users.c.role == "admin", users.c.disabled_at.is_(None))).scalar_one()
            if admins <= 1:
                raise UsageError(f"`{name}` is the last admin", help="make another user admin first")
        tokens, ended = _revoke_all(conn, name, actor)
        ev = UserDisabled(actor=actor, user=name)
        conn.execute(update(users).where(users.c.name == name).values(disabled_at=format_time(ev.created)))
        append(conn, ev)
    _VERIFIED.clear()
    return (User(user.name, user.role, user.added_at, user.added_by, user.clearance, user.has_password, True),
            tokens, ended)


def enable_user(db: Database, name: str, actor: str) -> User:
    """Enable a disabled user again (admins only); they need a new token (`tranche user token`) -- their
    password, if they had one, signs them in again."""
    with db.write() as conn:
        require(conn, actor, "user.manage")
        user = _known(conn, name)
        if not user.disabled:
            return user
        conn.execute(update(users).where(users.c.name == name).values(disabled_at=None))
        append(conn, UserEnabled(actor=actor, user=name))
    return User(user.name, user.role, user.added_at, user.added_by, user.clearance, user.has_password, False)
