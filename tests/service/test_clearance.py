"""A property over random markings, users and clearances: nothing above a user's clearance appears in any
response, and every total accounts for each withheld item.

Each example marks the Peru scenario's items, facts, sources and regimes at random, stores it under a new id,
adds a user with a random role and clearance, and reads it through the API: lists, decisions, batch
decisions, the timeline, facts, comparisons (JSON and CSV), diff, lint, cases and the audit log.  What the
user must not see is every id marked above their clearance (and the rules and timelines of a hidden regime);
it must not appear quoted in any response.  The totals are checked against an independent sum over the
visible items.
"""

from __future__ import annotations

import dataclasses
import json
import itertools
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


@settings(max_examples=25, deadline=None, print_blob=False, phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
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
    h = {"Authorization": f"Bearer {token}"}
    hidden = hidden_names(s, clearance)
    visible = [i for i in s.items if i.id not in hidden]
    base = f"/api/scenarios/{s.id}"
    options = [r for r in ("limited", "recommended", "full") if r not in hidden]
    responses: list[Any] = [
        client.get(base, headers=h), client.get(f"{base}/items?limit=1000", headers=h),
        client.get(f"{base}/programs", headers=h), client.get(f"{base}/facts", headers=h),
        client.get(f"{base}/timeline?as_of=1962-10-03", headers=h),
        client.post(f"{base}/decisions", json={"as_of": "1962-10-03"}, headers=h),
        client.get(f"/api/cases?status=all&scenario={s.id}", headers=h),
        client.get(f"{base}/lint?as_of=1962-10-03", headers=h),
    ]
    for item in s.items[:6]:
        responses.append(client.get(f"{base}/items/{item.id}/decision?as_of=1962-10-03", headers=h))
    if options:
        q = f"as_of=1962-10-03&options={','.join(options)}&assume=congress.appropriation.FY1963"
        if "congress.appropriation.FY1963" in hidden:
            q = q.split("&assume")[0]
        compare = client.get(f"{base}/compare?{q}", headers=h)
        responses += [compare, client.get(f"{base}/compare.csv?{q}", headers=h)]
        if len(options) > 1:
            responses.append(client.get(f"{base}/diff?a={options[0]}&b={options[-1]}", headers=h))
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
    for r in responses:
        assert r.status_code in (200, 404), r.text
        if r.status_code == 404:  # an item above the clearance is as unknown as one that never existed
            wanted = str(r.request.url).split("/items/")[1].split("/")[0]
            assert r.json()["error"] == f"unknown item `{wanted}`"
            continue
        found = leaks(r.text, hidden)
        assert not found, f"{r.request.url}: {found} above {clearance}"
    audit = client.get("/api/audit?limit=10000", headers=h)  # other examples' scenarios reuse Peru's ids
    assert audit.status_code == 200
    mine = [e for e in audit.json()["entries"] if isinstance(e["payload"], dict) and e["payload"].get("scenario") == s.id]
    assert not leaks(json.dumps(mine), hidden)
    for item in s.items[:6]:
        r = client.get(f"{base}/items/{item.id}/decision?as_of=1962-10-03", headers=h)
        assert (r.status_code == 404) == (item.id in hidden)
