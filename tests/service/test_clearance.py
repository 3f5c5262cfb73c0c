"""A property over random markings, users and clearances: nothing above a user's clearance appears in any
response of any endpoint or page, and every total accounts for each withheld item.

Each example marks the Peru scenario's items, facts, sources and regimes at random, stores it under a new id,
adds a user with a random role and clearance, and asks every API endpoint and every page about it (a test
checks that none is left out): lists, decisions, batch decisions, ad-hoc requests, the timeline, facts,
comparisons (JSON and CSV), diff, lint, cases, the audit log and its verification, and the errors of
misspelled names (whose did-you-mean suggests only what the user may see).  What the user must not see is
every id marked above their clearance (and the rules and timelines of a hidden regime); it must not appear
quoted in any response, nor as a word in a page.  The totals are checked against an independent sum over
the visible items; the list of scenarios counts only the visible items.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import tranche.store as store
from tranche.language import MARKINGS, Scenario, load_scenario, marking_rank
from tranche.service.app import create_app

ROOT = Path(__file__).parent.parent.parent
PERU = load_scenario(ROOT / "scenarios" / "peru-1962")
ROLES = ("viewer", "analyst", "reviewer", "approver", "admin")
COUNTER = itertools.count(1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TestClient]]:
    folder = tmp_path_factory.mktemp("clearance")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRANCHE_AUDIT_KEY", str(folder / "audit.key"))
    url = f"sqlite:///{folder / 'c.db'}"
    store.init_db(url, admin="admin", actor="admin", clearance="SECRET")
    try:
        with TestClient(create_app(url)) as client:
            yield url, client
    finally:
        mp.undo()


markings = st.sampled_from(MARKINGS)


LOW = st.sampled_from(MARKINGS + ("UNCLASSIFIED",) * 3)  # mostly visible
LOWER = st.sampled_from(MARKINGS + ("UNCLASSIFIED",) * 6)
MARKS = st.fixed_dictionaries({
    "items": st.lists(LOW, min_size=len(PERU.items), max_size=len(PERU.items)),
    "facts": st.lists(LOW, min_size=len(PERU.facts), max_size=len(PERU.facts)),
    "sources": st.lists(LOW, min_size=len(PERU.sources), max_size=len(PERU.sources)),
    "regimes": st.lists(LOWER, min_size=len(PERU.regimes), max_size=len(PERU.regimes)),
})


def marked(marks: dict[str, list[str]]) -> Scenario:
    """Peru with the drawn markings, under a new id."""
    items = tuple(dataclasses.replace(i, marking=m) for i, m in zip(PERU.items, marks["items"]))
    facts = {k: dataclasses.replace(f, marking=m) for (k, f), m in zip(PERU.facts.items(), marks["facts"])}
    sources = {k: dataclasses.replace(x, marking=m) for (k, x), m in zip(PERU.sources.items(), marks["sources"])}
    regimes = {k: dataclasses.replace(r, marking=m) for (k, r), m in zip(PERU.regimes.items(), marks["regimes"])}
    return dataclasses.replace(PERU, id=f"peru-{next(COUNTER)}", items=items, facts=facts, sources=sources,
                               regimes=regimes)


def hidden_names(s: Scenario, clearance: str) -> set[str]:
    """Independently of the service: every name the user must not see."""
    rank = marking_rank(clearance)
    above = {i.id for i in s.items if marking_rank(i.marking) > rank}
    above |= {f.id for f in s.facts.values() if marking_rank(f.marking) > rank}
    above |= {x.id for x in s.sources.values() if marking_rank(x.marking) > rank}
    regimes = {r.id for r in s.regimes.values() if marking_rank(r.marking) > rank}
    above |= regimes | {rule.id for r in regimes for rule in s.regimes[r].rules}
    above |= {t.id for t in s.timelines.values() if any(e.regime in regimes for e in t.entries)}
    return above


def leaks(text: str, hidden: set[str]) -> list[str]:
    return sorted(h for h in hidden if f'"{h}"' in text or f"`{h}`" in text or f",{h}," in text)




def word_leaks(text: str, hidden: set[str]) -> list[str]:
    """:func:`leaks`, and a hidden name standing as a word, where the name cannot be an ordinary word (it holds
    a digit, a dot or a dash): for pages and tables, where names are not quoted."""
    found = set(leaks(text, hidden))
    for h in hidden:
        if re.search(r"[-._0-9]", h) and re.search(rf"(?<![\w.@/-]){re.escape(h)}(?![\w@-]|\.\w)", text):
            found.add(h)
    return sorted(found)


def near(name: str) -> str:
    """A misspelling of ``name`` that did-you-mean finds (its last two letters swapped)."""
    return name[:-2] + name[-1] + name[-2] if len(name) > 3 else name + "x"


# every route of the application -> how the property reaches it (a new route must be added here)
ROUTES = {
    ("GET", "/api/me"): "api", ("GET", "/api/scenarios"): "api", ("GET", "/api/scenarios/{scenario}"): "api",
    ("GET", "/api/scenarios/{scenario}/recipients"): "api", ("GET", "/api/scenarios/{scenario}/timeline"): "api",
    ("GET", "/api/scenarios/{scenario}/programs"): "api", ("GET", "/api/scenarios/{scenario}/items"): "api",
    ("GET", "/api/scenarios/{scenario}/items/{item}/decision"): "api",
    ("POST", "/api/scenarios/{scenario}/decisions"): "api", ("POST", "/api/scenarios/{scenario}/requests"): "api",
    ("GET", "/api/scenarios/{scenario}/compare"): "api", ("GET", "/api/scenarios/{scenario}/compare.csv"): "api",
    ("GET", "/api/scenarios/{scenario}/diff"): "api", ("GET", "/api/scenarios/{scenario}/lint"): "api",
    ("GET", "/api/scenarios/{scenario}/facts"): "api",
    ("POST", "/api/scenarios/{scenario}/facts/{fact}/assert"): "api (a hidden fact: refused as unknown)",
    ("POST", "/api/scenarios/{scenario}/facts/{fact}/retract"): "api (a hidden fact: refused as unknown)",
    ("GET", "/api/cases"): "api", ("GET", "/api/cases/{case}"): "api",
    ("POST", "/api/cases"): "api (a hidden item: refused as unknown)",
    ("POST", "/api/cases/{case}/approve"): "api (a case of a hidden item: refused as unknown)",
    ("POST", "/api/cases/{case}/deny"): "api (a case of a hidden item: refused as unknown)",
    ("GET", "/api/audit"): "api", ("GET", "/api/audit/verify"): "api",
    ("GET", "/"): "page", ("GET", "/scenarios/{scenario}"): "page", ("GET", "/scenarios/{scenario}/pipeline"): "page",
    ("GET", "/scenarios/{scenario}/compare"): "page", ("GET", "/scenarios/{scenario}/memo"): "page",
    ("GET", "/scenarios/{scenario}/diff"): "page", ("GET", "/reviews"): "page", ("GET", "/audit"): "page",
    ("POST", "/reviews/{case}/{action}"): "page (a case of a hidden item: refused as unknown)",
    # nothing of a scenario in them
    ("GET", "/api/health"): "none", ("GET", "/api/users"): "none (users, admins)",
    ("POST", "/api/users"): "none (users, admins)", ("GET", "/login"): "none", ("POST", "/login"): "none",
    ("POST", "/logout"): "none",
}


def routes(router: Any) -> Iterator[tuple[str, str]]:
    """Every (method, path) of a router, through the routers it includes."""
    for r in router.routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from routes(inner)
        for m in getattr(r, "methods", None) or ():
            yield m, r.path


def test_every_route_is_reached(served: tuple[str, TestClient]) -> None:
    _, client = served
    found = {(m, path) for m, path in routes(client.app) if m != "HEAD"} - {("GET", "/api/openapi.json")}
    assert found == set(ROUTES)


@settings(max_examples=20, deadline=None, print_blob=False, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(marks=MARKS, clearance=markings, role=st.sampled_from(ROLES))
def test_nothing_above_the_clearance_and_totals_account_for_it(served: tuple[str, TestClient],
                                                               marks: dict[str, list[str]], clearance: str,
                                                               role: str) -> None:
    url, client = served
    s = marked(marks)
    name = f"u{next(COUNTER)}"
    with store.open_db(url) as db:
        store.add_user(db, "loader", "approver", "admin") if store.get_user_record(db, "loader") is None else None
        store.load(db, s, "loader")
        _, token = store.add_user_with_token(db, name, role, "admin", clearance)
        cases = store.list_cases(db, s.id, "all")
    h = {"Authorization": f"Bearer {token}"}
    hidden = hidden_names(s, clearance)
    visible = [i for i in s.items if i.id not in hidden]
    base = f"/api/scenarios/{s.id}"
    options = [r for r in ("limited", "recommended", "full") if r not in hidden]
    refused = {404, 403}  # as unknown, or (a role too low) before anything is looked up
    responses: list[tuple[Any, set[int]]] = [(r, {200}) for r in (
        client.get("/api/me", headers=h), client.get("/api/scenarios", headers=h),
        client.get(base, headers=h), client.get(f"{base}/recipients", headers=h),
        client.get(f"{base}/items?limit=1000", headers=h),
        client.get(f"{base}/programs", headers=h), client.get(f"{base}/facts", headers=h),
        client.get(f"{base}/timeline?as_of=1962-10-03", headers=h),
        client.post(f"{base}/decisions", json={"as_of": "1962-10-03"}, headers=h),
        client.post(f"{base}/requests", headers=h, json={"as_of": "1962-10-03", "requests": [
            {"recipient": "PER", "program": "FY1962", "channel": "grant", "category": "maintenance",
             "amount": "100.00"}]}),
        client.get(f"/api/cases?status=all&scenario={s.id}", headers=h),
        client.get(f"{base}/lint?as_of=1962-10-03", headers=h),
        client.get("/api/audit/verify", headers=h),
        client.get("/", headers=h), client.get(f"/scenarios/{s.id}", headers=h),
        client.get(f"/scenarios/{s.id}/pipeline?as_of=1962-10-03", headers=h),
        client.get(f"/reviews?status=all&scenario={s.id}", headers=h), client.get("/audit", headers=h),
    )]
    for item in s.items[:6]:
        responses.append((client.get(f"{base}/items/{item.id}/decision?as_of=1962-10-03", headers=h), {200, 404}))
    for c in cases[:4]:
        responses.append((client.get(f"/api/cases/{c.id}", headers=h), {200, 404}))
    # what cannot be named is refused as unknown (or, a role too low, before anything is looked up)
    for hid in sorted(hidden)[:5]:
        if s.has_item(hid):
            responses.append((client.post("/api/cases", headers=h, json={
                "scenario": s.id, "item": hid, "regime": options[0] if options else "limited"}), refused))
        if hid in s.facts:
            responses.append((client.post(f"{base}/facts/{hid}/assert", headers=h, json={"on": "1962-10-01"}),
                              refused))
            responses.append((client.post(f"{base}/facts/{hid}/retract", headers=h, json={}), refused))
    for c in cases:
        if c.item in hidden or c.regime in hidden:
            responses.append((client.post(f"/api/cases/{c.id}/approve", headers=h, json={"justification": "x"}),
                              refused))
            responses.append((client.post(f"/api/cases/{c.id}/deny", headers=h, json={"justification": "x"}),
                              refused))
            responses.append((client.post(f"/reviews/{c.id}/approve", headers={**h, "Accept": "text/html"},
                                          data={"justification": "x"}), refused))
            break
    # misspelled names: the suggestions are among what the user may see
    for hid in sorted(hidden & (set(s.regimes) | set(s.facts)))[:3]:
        key = "options" if hid in s.regimes else "assume"
        other = f"&options={options[0]}" if key == "assume" and options else ""
        responses.append((client.get(f"{base}/compare?as_of=1962-10-03&{key}={near(hid)}{other}", headers=h),
                          {400, 404, 422}))
    if options:
        q = f"as_of=1962-10-03&options={','.join(options)}&assume=congress.appropriation.FY1963"
        if "congress.appropriation.FY1963" in hidden:
            q = q.split("&assume")[0]
        compare = client.get(f"{base}/compare?{q}", headers=h)
        responses += [(compare, {200}), (client.get(f"{base}/compare.csv?{q}", headers=h), {200}),
                      (client.get(f"/scenarios/{s.id}/compare?{q}", headers=h), {200}),
                      (client.get(f"/scenarios/{s.id}/memo?{q}", headers=h), {200})]
        if len(options) > 1:
            responses += [(client.get(f"{base}/diff?a={options[0]}&b={options[-1]}", headers=h), {200}),
                          (client.get(f"/scenarios/{s.id}/diff?a={options[0]}&b={options[-1]}", headers=h), {200})]
        doc = compare.json()
        assert compare.status_code == 200, compare.text
        withheld = len(s.items) - len(visible)
        assert doc["withheld"]["items"] == withheld
        for option in doc["options"]:
            totals = option["totals"]
            assert totals["items"] + totals["withheld_items"] == len(s.items)
            assert Decimal(totals["total"]) == sum((i.amount for i in visible), Decimal(0))
            for p in option["programs"]:
                mine = [i for i in s.items if i.program == p["program"]]
                assert p["items"] + p["withheld_items"] == len(mine)
    listed = next(x for x in client.get("/api/scenarios", headers=h).json()["scenarios"] if x["id"] == s.id)
    assert (listed["items"], listed["withheld_items"]) == (len(visible), len(s.items) - len(visible))
    assert ("path" in listed) == (role == "admin")
    assert (client.get("/api/audit/verify", headers=h).json()["key"] is None) == (role != "admin")
    for r, allowed in responses:
        assert r.status_code in allowed, f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}"
        if r.status_code == 404 and "/items/" in str(r.request.url):  # as unknown as one that never existed
            wanted = str(r.request.url).split("/items/")[1].split("/")[0]
            assert r.json()["error"] == f"unknown item `{wanted}`"
        html = r.headers.get("content-type", "").startswith("text/html")
        asked = urllib.parse.unquote(str(r.request.url)) + r.request.content.decode("utf-8", "replace")
        secret = {x for x in hidden if x not in asked}  # a refusal may name what the user sent, nothing else
        text = r.text
        if r.request.url.path == "/audit":  # other examples' scenarios reuse Peru's names: this one's rows only
            text = "".join(row for row in text.split("<tr>") if re.search(rf"scenario={re.escape(s.id)}\b(?!-)", row))
        found = word_leaks(text, secret) if html else leaks(text, secret)
        assert not found, f"{r.request.method} {r.request.url}: {found} above {clearance}"
    audit = client.get("/api/audit?limit=10000", headers=h)  # other examples' scenarios reuse Peru's ids
    assert audit.status_code == 200
    mine = [e for e in audit.json()["entries"] if isinstance(e["payload"], dict) and e["payload"].get("scenario") == s.id]
    assert not leaks(json.dumps(mine), hidden)
    for item in s.items[:6]:
        r = client.get(f"{base}/items/{item.id}/decision?as_of=1962-10-03", headers=h)
        assert (r.status_code == 404) == (item.id in hidden)
