"""Who is asking: API tokens, browser sessions with CSRF protection, roles and clearances.

Every request but ``GET /api/health`` is authenticated, in one of two ways:

- ``Authorization: Bearer tr_<id>_<secret>``: a token `tranche user add` printed, checked against its argon2
  hash in the store (:func:`tranche.store.users.authenticate_token`).  For scripts; accepted by every
  endpoint and page; no CSRF token is needed (a browser never sends it by itself).
- a session cookie, set by ``POST /login`` (name and password, checked against the argon2 hash): a random
  secret whose SHA-256 is a row of the store's ``sessions`` table (:func:`tranche.store.users.start_session`),
  signed with a key derived from the store's audit key, ``HttpOnly``, ``SameSite=Strict``, valid for 8 hours.
  The session ends on the server when its user signs out (``POST /logout`` deletes the row), when an admin
  revokes the user's credentials or disables the user, or when the password changes; every request reads the
  row.  A request that changes something with a session must carry the session's CSRF token (the ``csrf``
  form field, or the ``X-CSRF-Token`` header); the pages put it in every form.

Roles are ordered (viewer < analyst < reviewer < approver < admin); :func:`need` refuses a role too low with
403, a missing or invalid credential is 401.  The store checks roles and separation of duties again on every
write, with the authenticated user as the actor.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..errors import NotAuthenticated, PermissionDenied
from ..store import keys
from ..store.tables import ROLES
from ..store.users import User, authenticate_password, authenticate_token, end_session, session_user, start_session
from .desk import Desk

__all__ = ["Auth", "Principal", "need", "principal", "role", "SESSION_COOKIE", "LOGIN_CSRF_COOKIE", "CSRF_HEADER"]

SESSION_COOKIE = "tranche_session"
LOGIN_CSRF_COOKIE = "tranche_login_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 8 * 3600
TOKEN_SECONDS = 60.0  # a checked token's user is reused this long, while the store's version stands
_TOKENS_MAX = 10_000
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

bearer = HTTPBearer(auto_error=False, description="an API token from `tranche user add`: `tr_<id>_<secret>`")


@dataclass(frozen=True)
class Principal:
    """An authenticated user, how they authenticated, and (for a session) its CSRF token."""

    user: User
    via: str  # token | session
    csrf: str | None = None

    @property
    def name(self) -> str:
        return self.user.name


class Auth:
    """Sessions and credentials for one desk (its signing key comes from the store's audit key)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._key = keys.ensure_key(keys.key_path(desk.db.url))
        self._tokens: dict[bytes, tuple[User, int, float]] = {}
        self._tokens_lock = threading.Lock()

    def _sign(self, domain: str, text: str) -> str:
        return keys.sign(self._key, f"tranche-web-{domain}", text)

    # -- sessions ------------------------------------------------------------------------------------------
    def login(self, name: str, password: str) -> tuple[User, str]:
        """Check the password and start a session: the user and the session cookie's value."""
        user = authenticate_password(self.desk.db, name, password)
        secret = start_session(self.desk.db, user.name, SESSION_SECONDS)
        return user, f"{secret}|{self._sign('session', secret)}"

    def _secret(self, value: str) -> str | None:
        """The secret of a well-signed session cookie, else None."""
        secret, _, mac = value.rpartition("|")
        if not secret or not hmac.compare_digest(mac, self._sign("session", secret)):
            return None
        return secret

    def session(self, value: str) -> Principal | None:
        """The user of a session cookie that is well signed and whose session has not ended; else None."""
        secret = self._secret(value)
        if secret is None:
            return None
        user = session_user(self.desk.db, secret)
        if user is None:
            return None
        return Principal(user, "session", self._sign("csrf", secret)[:40])

    def logout(self, value: str | None) -> None:
        """End the session of a cookie on the server (nothing if it is not one)."""
        secret = self._secret(value or "")
        if secret is not None:
            end_session(self.desk.db, secret)

    def login_csrf(self) -> str:
        """A fresh token for the login form (double-submitted: cookie and field must agree)."""
        return secrets.token_urlsafe(24)

    # -- tokens --------------------------------------------------------------------------------------------
    def token(self, token: str) -> User:
        """The user of an API token, checked against its argon2 hash in the store.

        A token once checked is remembered (keyed by its SHA-256, never the token itself) for
        :data:`TOKEN_SECONDS`, and only while the store's version (:meth:`Desk.stamp`) stands: every change
        to the store -- a token revoked, a user disabled, a role or clearance changed -- appends an audit entry
        and so moves the version, after which the token is checked against the store again.  A change made
        through this service takes effect at the next request, one made by another process (the command line)
        within :data:`~tranche.service.desk.STAMP_SECONDS`.  This keeps argon2 and the token's row off the
        path of every request but the first.
        """
        key = hashlib.sha256(token.encode("utf-8")).digest()
        now = time.monotonic()
        stamp = self.desk.stamp()
        with self._tokens_lock:
            hit = self._tokens.get(key)
        if hit is not None and hit[1] == stamp and hit[2] > now:
            return hit[0]
        user = authenticate_token(self.desk.db, token)
        with self._tokens_lock:
            if len(self._tokens) >= _TOKENS_MAX:
                self._tokens.clear()
            self._tokens[key] = (user, stamp, now + TOKEN_SECONDS)
        return user

    # -- requests ------------------------------------------------------------------------------------------
    def identify(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        """The principal of a request, or :class:`NotAuthenticated`."""
        header = request.headers.get("authorization")
        if header is not None:
            if credentials is None or credentials.scheme.lower() != "bearer":
                raise NotAuthenticated("the Authorization header must be `Bearer TOKEN`",
                                       help="send `Authorization: Bearer tr_...` with a token from `tranche user add`")
            return Principal(self.token(credentials.credentials), "token")
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = self.session(cookie)
            if found is not None:
                return found
        raise NotAuthenticated("sign in first: no API token and no session",
                               help="send `Authorization: Bearer TOKEN` (a token from `tranche user add`), or sign "
                                    "in at /login")


def need(p: Principal, least: str) -> None:
    """Refuse (403) a principal whose role is below ``least``."""
    if p.user.role not in ROLES or ROLES.index(p.user.role) < ROLES.index(least):
        article = "an" if p.user.role[:1] in "aeiou" else "a"
        raise PermissionDenied(f"`{p.name}` is {article} {p.user.role}; this needs the {least} role or higher",
                               help="an admin can change it: `tranche user role NAME ROLE`")


async def _check_csrf(request: Request, p: Principal) -> None:
    if p.via != "session" or request.method not in UNSAFE:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not given or p.csrf is None or not hmac.compare_digest(given, p.csrf):
        raise PermissionDenied("the form's CSRF token is missing or wrong",
                               help="reload the page and submit again (a form from another site is refused)")


async def principal(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    """Dependency: the authenticated principal (any role), CSRF-checked for a session's changes."""
    auth: Auth = request.app.state.auth
    p = auth.identify(request, credentials)
    await _check_csrf(request, p)
    return p


def role(least: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the principal, refused with 403 below ``least`` (one dependency, not two: it is on
    the path of every request of the API)."""
    async def dependency(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
                         ) -> Principal:
        p = await principal(request, credentials)
        need(p, least)
        return p
    dependency.__name__ = f"role_{least}"
    return dependency
