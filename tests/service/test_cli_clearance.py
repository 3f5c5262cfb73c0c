"""The command line applies clearances as the API does: the same user sees the same figures and is told the
same withheld counts, whichever way they ask.

Each example marks the Peru scenario's items, facts, sources and regimes at random, stores it under a new id,
adds a user with a random clearance, and asks the API (their bearer token) and the command line (their token
in TRANCHE_TOKEN) for the option comparison (JSON and CSV), the timeline and single decisions.  The documents
must be equal; nothing above the clearance may appear in either, nor in the command line's tables; the
withheld counts are checked against an independent count of the items above the clearance, and every item
above it is unknown to both (404, and exit 1 saying `unknown item`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings

import tranche.store as store
from tranche.service.app import create_app

from ..helpers import run
from .test_clearance import COUNTER, MARKS, PERU, hidden_names, leaks, marked, markings

Q = "as_of=1962-10-03&options={options}&assume=congress.appropriation.FY1963"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TestClient]]:
    folder = tmp_path_factory.mktemp("cli-clearance")
    mp = pytest.MonkeyPatch()
    mp.setenv("TRANCHE_AUDIT_KEY", str(folder / "audit.key"))
    url = f"sqlite:///{folder / 'c.db'}"
    store.init_db(url, admin="admin", actor="admin", clearance="SECRET")
    with store.open_db(url) as db:
        store.add_user(db, "loader", "approver", "admin")
    try:
        with TestClient(create_app(url)) as client:
            yield url, client
    finally:
        mp.undo()


def bare_leaks(text: str, hidden: set[str]) -> list[str]:
    """Hidden names in a table or text: quoted, or as a whole word when the name cannot be an ordinary word."""
    found = set(leaks(text, hidden))
    for h in hidden:
        if re.search(r"[-._0-9]", h) and re.search(rf"(?<![\w.@-]){re.escape(h)}(?![\w@-]|\.\w)", text):
            found.add(h)
    return sorted(found)


@settings(max_examples=8, deadline=None, print_blob=False, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(marks=MARKS, clearance=markings)
def test_the_command_line_shows_what_the_api_shows(served: tuple[str, TestClient], marks: dict[str, list[str]],
                                                   clearance: str, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, client = served
    s = marked(marks)
    name = f"u{next(COUNTER)}"
    with store.open_db(url) as db:
        store.load(db, s, "loader")
        _, token = store.add_user_with_token(db, name, "viewer", "admin", clearance)
    h = {"Authorization": f"Bearer {token}"}
    hidden = hidden_names(s, clearance)
    visible = [i for i in s.items if i.id not in hidden]
    withheld = len(s.items) - len(visible)
    monkeypatch.setenv("TRANCHE_TOKEN", token)

    def cli(*argv: str) -> tuple[int, str, str]:
        return run(capsys, "--db", url, *argv)

    base = f"/api/scenarios/{s.id}"
    options = [r for r in ("limited", "recommended", "full") if r not in hidden]
    assume = [] if "congress.appropriation.FY1963" in hidden else ["--assume", "congress.appropriation.FY1963"]
    if options:
        q = Q.format(options=",".join(options))
        if not assume:
            q = q.split("&assume")[0]
        api = client.get(f"{base}/compare?{q}", headers=h)
        assert api.status_code == 200, api.text
        code, out, err = cli("compare", s.id, "--as-of", "1962-10-03", "--options", ",".join(options), *assume,
                             "--format", "json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc == api.json()  # the same user: the same figures, the same withheld counts
        assert doc["withheld"]["items"] == withheld
        for option in doc["options"]:
            assert option["totals"]["items"] + option["totals"]["withheld_items"] == len(s.items)
            assert Decimal(option["totals"]["total"]) == sum((i.amount for i in visible), Decimal(0))
            for p in option["programs"]:
                assert p["items"] + p["withheld_items"] == sum(1 for i in s.items if i.program == p["program"])
            for c in option["caps"]:  # a cap's figures over a pool with a withheld item would add its amount up
                mine = [i for i in s.items if i.id in hidden and i.program in c["pool"]]
                assert (c["allocated"] is None) == bool(mine) or not c["pool"]
        assert not leaks(out, hidden)
        api_csv = client.get(f"{base}/compare.csv?{q}", headers=h)
        code, out, err = cli("compare", s.id, "--as-of", "1962-10-03", "--options", ",".join(options), *assume,
                             "--format", "csv")
        assert code == 0, err
        assert out == api_csv.text
        assert out.splitlines()[0].endswith(",withheld_items")
        code, out, err = cli("compare", s.id, "--as-of", "1962-10-03", "--options", ",".join(options), *assume,
                             "--by-item")
        assert code == 0, err
        assert not bare_leaks(out, hidden), bare_leaks(out, hidden)
        if withheld:
            assert f"withheld above your clearance ({clearance}): {withheld} line item(s)" in " ".join(out.split())
    api_tl = client.get(f"{base}/timeline?as_of=1962-10-03", headers=h)
    code, out, err = cli("timeline", s.id, "--as-of", "1962-10-03", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == api_tl.json()
    code, out, err = cli("timeline", s.id, "--as-of", "1962-10-03")
    assert code == 0 and not bare_leaks(out, hidden), bare_leaks(out, hidden)
    for item in s.items[::10]:
        r = client.get(f"{base}/items/{item.id}/decision?as_of=1962-10-03", headers=h)
        code, out, err = cli("decide", s.id, item.id, "--as-of", "1962-10-03", "--format", "json")
        if item.id in hidden:
            assert r.status_code == 404 and code == 1 and f"unknown item `{item.id}`" in err
            continue
        assert r.status_code == 200 and code == 0, err
        mine, theirs = json.loads(out), r.json()
        for key in ("outcome", "rules", "missing_facts", "criterion", "regime", "law", "regime_layer", "facts",
                    "cap"):
            assert mine[key] == theirs[key], key
        assert not leaks(out, hidden)
        code, out, err = cli("decide", s.id, item.id, "--as-of", "1962-10-03")
        assert code == 0 and not bare_leaks(out, hidden), bare_leaks(out, hidden)
        code, out, err = cli("decide", s.id, item.id, "--as-of", "1962-10-03", "--format", "csv")
        assert code == 0 and not bare_leaks(out, hidden), bare_leaks(out, hidden)


def test_without_a_token_a_local_store_shows_everything(served: tuple[str, TestClient],
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The owner of a local SQLite file reads it whole (whoever holds the file reads its every row anyway)."""
    url, _ = served
    s = marked({"items": ["SECRET"] * len(PERU.items), "facts": ["UNCLASSIFIED"] * len(PERU.facts),
                "sources": ["UNCLASSIFIED"] * len(PERU.sources), "regimes": ["UNCLASSIFIED"] * len(PERU.regimes)})
    with store.open_db(url) as db:
        store.load(db, s, "loader")
        _, token = store.add_user_with_token(db, f"u{next(COUNTER)}", "viewer", "admin", "UNCLASSIFIED")
    monkeypatch.delenv("TRANCHE_TOKEN", raising=False)
    code, out, _ = run(capsys, "--db", url, "compare", s.id, "--as-of", "1962-10-03", "--options", "limited",
                       "--format", "json")
    assert code == 0 and json.loads(out)["options"][0]["totals"]["items"] == len(s.items)
    monkeypatch.setenv("TRANCHE_TOKEN", token)
    code, out, _ = run(capsys, "--db", url, "compare", s.id, "--as-of", "1962-10-03", "--options", "limited",
                       "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["options"][0]["totals"]["items"] == 0
    assert doc["options"][0]["totals"]["withheld_items"] == doc["withheld"]["items"] == len(s.items)
    code, out, err = run(capsys, "--db", url, "decide", s.id, s.items[0].id, "--as-of", "1962-10-03")
    assert code == 1 and f"unknown item `{s.items[0].id}`" in err
