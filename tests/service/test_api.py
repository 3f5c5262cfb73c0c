"""The JSON API through the ASGI client, on SQLite and PostgreSQL.

Every endpoint but health refuses an unauthenticated request (401) and a role too low (403), in the one error
shape; the figures are the record's (6,100,000.00 of 9,000,000.00); every change appends its audit event as the
command line does; separation of duties holds as in the store.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

import tranche.store as store
from tranche.errors import DIAGNOSTIC_KEYS, ERROR_KEYS
from tranche.service.app import create_app

from .conftest import PASSWORD, Desk

COMPARE = ("/api/scenarios/peru-1962/compare?as_of=1962-10-03&options=limited,recommended,full"
           "&assume=congress.appropriation.FY1963")

# every API route -> the least role (None: no authentication); a new route must be added here
LEAST_ROLE: dict[tuple[str, str], str | None] = {
    ("GET", "/api/health"): None,
    ("GET", "/api/me"): "viewer",
    ("GET", "/api/users"): "admin",
    ("POST", "/api/users"): "admin",
    ("GET", "/api/scenarios"): "viewer",
    ("GET", "/api/scenarios/{scenario}"): "viewer",
    ("GET", "/api/scenarios/{scenario}/recipients"): "viewer",
    ("GET", "/api/scenarios/{scenario}/timeline"): "viewer",
    ("GET", "/api/scenarios/{scenario}/programs"): "viewer",
    ("GET", "/api/scenarios/{scenario}/items"): "viewer",
    ("GET", "/api/scenarios/{scenario}/items/{item}/decision"): "viewer",
    ("POST", "/api/scenarios/{scenario}/decisions"): "viewer",
    ("POST", "/api/scenarios/{scenario}/requests"): "viewer",
    ("GET", "/api/scenarios/{scenario}/compare"): "viewer",
    ("GET", "/api/scenarios/{scenario}/compare.csv"): "viewer",
    ("GET", "/api/scenarios/{scenario}/diff"): "viewer",
    ("GET", "/api/scenarios/{scenario}/lint"): "viewer",
    ("GET", "/api/scenarios/{scenario}/facts"): "viewer",
    ("POST", "/api/scenarios/{scenario}/facts/{fact}/assert"): "reviewer",
    ("POST", "/api/scenarios/{scenario}/facts/{fact}/retract"): "reviewer",
    ("GET", "/api/cases"): "viewer",
    ("GET", "/api/cases/{case}"): "viewer",
    ("POST", "/api/cases"): "analyst",
    ("POST", "/api/cases/{case}/approve"): "reviewer",
    ("POST", "/api/cases/{case}/deny"): "reviewer",
    ("GET", "/api/audit"): "viewer",
    ("GET", "/api/audit/verify"): "viewer",
}
ROLES = ("viewer", "analyst", "reviewer", "approver", "admin")
PARAMS = {"scenario": "peru-1962", "item": "F62-MNT-01", "fact": "congress.appropriation.FY1963", "case": "1"}


def assert_error_shape(body: dict[str, Any], status: int) -> None:
    assert tuple(body) == ERROR_KEYS and body["ok"] is False and body["status"] == status
    assert body["errors"] and all(tuple(e) == DIAGNOSTIC_KEYS for e in body["errors"])


def test_every_api_route_is_classified(desk: Desk) -> None:
    app = create_app(desk.url)
    paths = app.openapi()["paths"]
    app.state.desk.close()
    found = {(m.upper(), path) for path, ops in paths.items() for m in ops}
    assert found == set(LEAST_ROLE)


def test_health_needs_no_token(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["ok"] is True


@pytest.mark.parametrize("method,path", sorted(k for k, v in LEAST_ROLE.items() if v is not None))
def test_unauthenticated_is_401(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path.format(**PARAMS), json={})
    assert r.status_code == 401, r.text
    assert_error_shape(r.json(), 401)
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("method,path", sorted(k for k, v in LEAST_ROLE.items() if v not in (None, "viewer")))
def test_role_too_low_is_403(client: TestClient, desk: Desk, method: str, path: str) -> None:
    least = LEAST_ROLE[(method, path)]
    assert least is not None
    below = ROLES[ROLES.index(least) - 1]
    r = client.request(method, path.format(**PARAMS), json={"justification": "x", "on": "1962-10-01",
                                                             "scenario": "peru-1962", "item": "F62-SEN-01",
                                                             "regime": "recommended", "name": "x", "role": "viewer"},
                       headers=desk.auth(below))
    assert r.status_code == 403, r.text
    assert_error_shape(r.json(), 403)


@pytest.mark.parametrize("header", ["Bearer tr_000000000000_" + "x" * 43, "Bearer nonsense", "Basic abc"])
def test_bad_tokens_are_401(client: TestClient, header: str) -> None:
    r = client.get("/api/scenarios", headers={"Authorization": header})
    assert r.status_code == 401
    assert_error_shape(r.json(), 401)


def test_the_record_figures(client: TestClient, desk: Desk) -> None:
    doc = client.get(COMPARE, headers=desk.auth("viewer")).json()
    limited = {p["program"]: p for p in doc["options"][0]["programs"]}
    assert (limited["FY1962"]["permitted"], limited["FY1962"]["total"]) == ("6100000.00", "9000000.00")
    assert (limited["FY1963"]["permitted"], limited["FY1963"]["total"]) == ("1500000.00", "13800000.00")
    assert doc["withheld"]["items"] == 0 and doc["options"][0]["totals"]["withheld_items"] == 0
    csv = client.get(COMPARE.replace("/compare?", "/compare.csv?"), headers=desk.auth("viewer"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "limited,FY1962,9000000.00,6100000.00" in csv.text


def test_reads(client: TestClient, desk: Desk) -> None:
    h = desk.auth("viewer")
    assert client.get("/api/me", headers=h).json()["role"] == "viewer"
    assert [s["id"] for s in client.get("/api/scenarios", headers=h).json()["scenarios"]] == ["peru-1962"]
    sc = client.get("/api/scenarios/peru-1962", headers=h).json()
    assert sc["recipients"] == [{"code": "PER", "name": "Peru"}]
    tl = client.get("/api/scenarios/peru-1962/timeline?as_of=1962-10-03", headers=h).json()
    assert tl["recipient"] == "PER" and tl["timelines"]
    items = client.get("/api/scenarios/peru-1962/items?program=FY1962&limit=5", headers=h).json()
    assert len(items["items"]) == 5 and items["total"] == 18 and items["withheld_items"] == 0
    d = client.get("/api/scenarios/peru-1962/items/F62-MNT-01/decision?as_of=1962-10-03&regime=limited",
                   headers=h).json()
    assert d["outcome"] == "permitted" and d["regime"]["id"] == "limited"
    batch = client.post("/api/scenarios/peru-1962/decisions", json={"as_of": "1962-10-03", "regime": "limited"},
                        headers=h).json()
    with store.open_db(desk.url) as db:
        assert len(batch["decisions"]) == len(store.read_scenario(db, "peru-1962").items)
    req = client.post("/api/scenarios/peru-1962/requests", headers=h, json={
        "as_of": "1962-10-03", "regime": "limited",
        "requests": [{"recipient": "PER", "program": "FY1962", "channel": "grant", "category": "maintenance",
                      "amount": "100.00"}]}).json()
    assert req["decisions"][0]["outcome"] == "permitted"
    diff = client.get("/api/scenarios/peru-1962/diff?a=limited&b=recommended", headers=h).json()
    assert len(diff["statements"]) == 3
    lint = client.get("/api/scenarios/peru-1962/lint?regime=full&as_of=1962-10-03", headers=h).json()
    assert lint["ok"] is True and any(w["code"] == "law-conflict" for w in lint["warnings"])
    facts = client.get("/api/scenarios/peru-1962/facts", headers=h).json()["facts"]
    assert any(f["fact"] == "coup.PER" for f in facts)


@pytest.mark.parametrize("path,status,needle", [
    ("/api/scenarios/nope", 404, "no scenario `nope`"),
    ("/api/scenarios/peru-1962/items/NOPE/decision", 404, "unknown item `NOPE`"),
    ("/api/scenarios/peru-1962/items/F62-MNT-01/decision?as_of=1962-13-01", 422, "query `as_of`"),
    ("/api/scenarios/peru-1962/compare?options=limted", 404, "limted"),
    ("/api/scenarios/peru-1962/compare", 422, "query `options`"),
    ("/api/scenarios/peru-1962/diff?a=limited&b=nope", 404, "nope"),
    ("/api/scenarios/peru-1962/compare?options=limited&assume=nope", 400, "nope"),
    ("/api/cases/999", 404, "999"),
    ("/api/cases?status=opne", 400, "opne"),
    ("/api/nothing-here", 404, "no such page or endpoint"),
])
def test_user_errors_are_4xx_in_the_one_shape(client: TestClient, desk: Desk, path: str, status: int,
                                              needle: str) -> None:
    r = client.get(path, headers=desk.auth("viewer"))
    assert r.status_code == status, r.text
    body = r.json()
    assert_error_shape(body, status)
    assert needle in body["error"] or any(needle in e["message"] for e in body["errors"])


def test_review_flow_audited_with_separation_of_duties(client: TestClient, desk: Desk) -> None:
    with store.open_db(desk.url) as db:
        before = len(store.entries(db))
    opened = client.post("/api/cases", headers=desk.auth("analyst"), json={
        "scenario": "peru-1962", "item": "F62-SEN-01", "regime": "limited", "as_of": "1962-10-03"})
    # F62-SEN-01 is prohibited under `limited`: only review items get a case
    assert opened.status_code == 400 and "not review" in opened.json()["error"]
    cases = client.get("/api/cases", headers=desk.auth("viewer")).json()["cases"]
    case = next(c for c in cases if c["requested_by"] == "approver")
    mine = client.post(f"/api/cases/{case['case']}/approve", headers=desk.auth("approver"),
                       json={"justification": "mine"})
    assert mine.status_code == 403 and "may not approve" in mine.json()["error"]
    ok = client.post(f"/api/cases/{case['case']}/approve", headers=desk.auth("reviewer"),
                     json={"justification": "urgent necessity shown", "revision": case["revision"]})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = client.post(f"/api/cases/{case['case']}/deny", headers=desk.auth("reviewer"),
                        json={"justification": "changed my mind", "revision": case["revision"]})
    assert again.status_code in (400, 409)
    with store.open_db(desk.url) as db:
        new = store.entries(db)[before:]
        assert [(e.action, e.actor) for e in new] == [("case-approved", "reviewer")]
        assert store.verify(db).ok
    shown = client.get(f"/api/cases/{case['case']}", headers=desk.auth("viewer")).json()
    assert shown["decision"]["outcome"] == "permitted"
    assert [h["action"] for h in shown["history"]] == ["opened", "approved"]


def test_facts_and_users_through_the_api(client: TestClient, desk: Desk) -> None:
    with store.open_db(desk.url) as db:
        before = len(store.entries(db))
    r = client.post("/api/scenarios/peru-1962/facts/congress.appropriation.FY1963/assert",
                    headers=desk.auth("reviewer"), json={"on": "1962-10-10"})
    assert r.status_code == 200 and r.json()["date"] == "1962-10-10"
    r = client.post("/api/scenarios/peru-1962/facts/congress.appropriation.FY1963/retract",
                    headers=desk.auth("reviewer"), json={})
    assert r.status_code == 200 and r.json()["date"] is None
    added = client.post("/api/users", headers=desk.auth("admin"),
                        json={"name": "newbie", "role": "viewer", "clearance": "CONFIDENTIAL"})
    assert added.status_code == 201
    token = added.json()["token"]
    assert re.match(r"^tr_[0-9a-f]{12}_", token)
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["name"], me["clearance"]) == ("newbie", "CONFIDENTIAL")
    with store.open_db(desk.url) as db:
        new = [(e.action, e.actor) for e in store.entries(db)[before:] if e.action != "case-opened"]
        assert new == [("fact-asserted", "reviewer"), ("fact-retracted", "reviewer"), ("user-added", "admin"),
                       ("token-issued", "admin")]
        assert store.verify(db).ok


def test_tokens_and_passwords_are_stored_only_as_hashes(desk: Desk) -> None:
    from sqlalchemy import select

    from tranche.store.tables import api_tokens, users
    with store.open_db(desk.url) as db, db.read() as conn:
        hashes = [r.hash for r in conn.execute(select(api_tokens))]
        passwords = [r.password_hash for r in conn.execute(select(users)) if r.password_hash]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert passwords and all(p.startswith("$argon2id$") for p in passwords)
    assert not any(t.split("_", 2)[2] in h for t in desk.tokens.values() for h in hashes)
    assert not any(PASSWORD in p for p in passwords)


def test_browser_session_needs_csrf(client: TestClient, desk: Desk) -> None:
    with TestClient(client.app) as browser:  # type: ignore[arg-type]
        page = browser.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        bad = browser.post("/login", data={"name": "viewer", "password": "wrong", "csrf": csrf.group(1)},
                           follow_redirects=False)
        assert bad.status_code == 303 and "failed=1" in bad.headers["location"]
        ok = browser.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf": csrf.group(1),
                                          "next": "/scenarios/peru-1962"}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/scenarios/peru-1962"
        assert browser.get("/api/me").json()["via"] == "session"
        # a change with the session but without its CSRF token is refused
        r = browser.post("/api/cases", json={"scenario": "peru-1962", "item": "x", "regime": "limited"})
        assert r.status_code == 403 and "CSRF" in r.json()["error"]
