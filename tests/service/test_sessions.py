"""Sessions and tokens end on the server: signing out, `tranche user revoke --user`, `tranche user disable`,
a new password; on SQLite and PostgreSQL.

A session cookie kept after its session ended (copied, or replayed by an attacker) signs nobody in; a token
revoked by another process (the command line) stops working within the desk's interval
(:data:`tranche.service.desk.STAMP_SECONDS`), one revoked through the service at the next request.  Every
change is audited and the audit log still verifies (its replay knows who is disabled).
"""

from __future__ import annotations

import re
import time
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

import tranche.store as store
from tranche.errors import PermissionDenied, UsageError
from tranche.service.app import create_app
from tranche.service.auth import SESSION_COOKIE
from tranche.service.desk import STAMP_SECONDS
from tranche.store.tables import users

from ..helpers import run
from .conftest import PASSWORD, Desk


@pytest.fixture
def app_client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk.url)) as c:
        yield c


def sign_in(app: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    """A new browser (its own cookie jar) signed in as ``name``."""
    browser = TestClient(app.app)  # type: ignore[arg-type]
    page = browser.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    r = browser.post("/login", data={"name": name, "password": password, "csrf": csrf.group(1)},
                     follow_redirects=False)
    assert r.status_code == 303 and "failed" not in r.headers["location"], r.headers["location"]
    return browser


def csrf_of(browser: TestClient) -> str:
    page = browser.get("/")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def replay(app: TestClient, cookie: str) -> int:
    """The status of `GET /api/me` with only a (kept) session cookie."""
    with TestClient(app.app) as other:  # type: ignore[arg-type]
        other.cookies.set(SESSION_COOKIE, cookie)
        return other.get("/api/me").status_code


def until_refused(client: TestClient, token: str, limit: float) -> float:
    """Seconds until the token is refused (401), polling; fails after ``limit``."""
    start = time.monotonic()
    while client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
        assert time.monotonic() - start < limit, f"the token still works after {limit} s"
        time.sleep(0.05)
    return time.monotonic() - start


def test_signing_out_ends_the_session_on_the_server(app_client: TestClient) -> None:
    browser = sign_in(app_client, "viewer")
    cookie = browser.cookies[SESSION_COOKIE]
    assert browser.get("/api/me").json()["via"] == "session"
    assert replay(app_client, cookie) == 200
    r = browser.post("/logout", data={"csrf": csrf_of(browser)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # the cookie kept from before signing out is refused: the session is gone from the store
    assert replay(app_client, cookie) == 401
    # a cookie whose signature does not match is refused before the store is asked
    secret, _, mac = cookie.rpartition("|")
    assert replay(app_client, f"{secret}|{'0' * len(mac)}") == 401


def test_revoking_a_user_ends_their_sessions_and_tokens(app_client: TestClient, desk: Desk,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with store.open_db(desk.url) as db:
        store.set_password(db, "analyst", PASSWORD, "admin")
        _, token = store.add_user_with_token(db, "ana", "analyst", "admin", "SECRET")
        store.set_password(db, "ana", PASSWORD, "admin")
        before = len(store.entries(db))
    h = {"Authorization": f"Bearer {token}"}
    browser = sign_in(app_client, "ana")
    kept = browser.cookies[SESSION_COOKIE]
    bystander = sign_in(app_client, "analyst")  # another user's session is untouched
    assert app_client.get("/api/me", headers=h).status_code == 200  # checked once, then remembered
    # `tranche user revoke --user ana`, from another process as far as the service knows
    monkeypatch.setenv("TRANCHE_TOKEN", desk.tokens["admin"])
    code, out, err = run(capsys, "--db", desk.url, "user", "revoke", "--user", "ana")
    assert code == 0, err
    assert "`ana`: 1 token revoked, 1 session ended" in out
    assert replay(app_client, kept) == 401
    assert until_refused(app_client, token, STAMP_SECONDS + 2) <= STAMP_SECONDS + 1
    assert bystander.get("/api/me").json()["name"] == "analyst"
    # the user signs in again with their password
    assert sign_in(app_client, "ana").get("/api/me").json()["name"] == "ana"
    with store.open_db(desk.url) as db:
        new = [(e.action, e.data()["user"]) for e in store.entries(db)[before:]]
        assert new == [("token-revoked", "ana"), ("sessions-ended", "ana")]
        assert store.verify(db).ok


def test_disabling_a_user(app_client: TestClient, desk: Desk, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    with store.open_db(desk.url) as db:
        _, token = store.add_user_with_token(db, "dora", "reviewer", "admin", "SECRET")
        store.set_password(db, "dora", PASSWORD, "admin")
    h = {"Authorization": f"Bearer {token}"}
    browser = sign_in(app_client, "dora")
    kept = browser.cookies[SESSION_COOKIE]
    assert app_client.get("/api/me", headers=h).status_code == 200
    # through the service's own store: the next request sees it
    monkeypatch.setenv("TRANCHE_TOKEN", desk.tokens["admin"])
    code, out, err = run(capsys, "--db", desk.url, "user", "disable", "dora")
    assert code == 0, err
    assert "`dora` is disabled (1 token revoked, 1 session ended)" in out
    assert replay(app_client, kept) == 401
    until_refused(app_client, token, STAMP_SECONDS + 2)
    with TestClient(app_client.app) as fresh:  # type: ignore[arg-type]
        page = fresh.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        r = fresh.post("/login", data={"name": "dora", "password": PASSWORD, "csrf": csrf.group(1)},
                       follow_redirects=False)
        assert "failed=1" in r.headers["location"]  # the same answer as a wrong password
    code, out, _ = run(capsys, "--db", desk.url, "user", "list", "--format", "csv")
    assert "dora,reviewer,SECRET," in out and out.split("dora,")[1].splitlines()[0].endswith(",true")
    code, _, err = run(capsys, "--db", desk.url, "user", "token", "dora")
    assert code == 1 and "`dora` is disabled" in err
    with store.open_db(desk.url) as db:
        with pytest.raises(PermissionDenied, match="is disabled"):
            store.revoke_all(db, "admin", "dora")  # a disabled user cannot act, whatever their role
        assert store.verify(db).ok
    code, out, err = run(capsys, "--db", desk.url, "user", "enable", "dora")
    assert code == 0 and "`dora` is enabled" in out
    assert sign_in(app_client, "dora").get("/api/me").json()["name"] == "dora"
    assert app_client.get("/api/me", headers=h).status_code == 401  # the old token stays revoked
    with store.open_db(desk.url) as db:
        assert store.verify(db).ok
        actions = [e.action for e in store.entries(db) if e.data().get("user") == "dora"]
        assert actions[-4:] == ["token-revoked", "sessions-ended", "user-disabled", "user-enabled"]


def test_the_last_admin_cannot_be_disabled(desk: Desk) -> None:
    with store.open_db(desk.url) as db:
        with pytest.raises(UsageError, match="last admin"):
            store.disable_user(db, "admin", "admin")


def test_a_new_password_ends_the_sessions(app_client: TestClient, desk: Desk) -> None:
    browser = sign_in(app_client, "reviewer")
    kept = browser.cookies[SESSION_COOKIE]
    assert replay(app_client, kept) == 200
    with store.open_db(desk.url) as db:
        store.set_password(db, "reviewer", PASSWORD, "admin")
    assert replay(app_client, kept) == 401


def test_a_disabled_user_written_outside_tranche_is_reported(desk: Desk) -> None:
    with store.open_db(desk.url) as db:
        with db.write() as conn:
            conn.execute(update(users).where(users.c.name == "viewer").values(disabled_at="2026-12-20T00:00:00Z"))
        try:
            found = store.verify(db)
            assert not found.ok
            assert any("`viewer` is disabled in the users table, enabled by the audit log" in p
                       for p in found.to_dict()["state_differences"]), found.to_dict()
        finally:
            with db.write() as conn:
                conn.execute(update(users).where(users.c.name == "viewer").values(disabled_at=None))
        assert store.verify(db).ok
