"""The diff's statements about duties and caps, as the service shows them: the API's diff and the web diff page
carry every statement the analysis makes -- the changes of outcome, the notifications owed and the classes counting
against a cap under one option only, and the caps' allocations that differ.

Ruritania (scenarios/ruritania-7008, on the packs/sec-7008 pack) is loaded into the desk beside Peru: its
notification (AECA §36(b)) and its FY 2025 FMF ceiling give every kind of statement; Peru's FAA §511(a) ceiling
gives the cap statements on the memo's options.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import tranche.store as store
from tranche import diff, load_scenario

from .conftest import PERU, Desk

RUR = Path(__file__).parent.parent.parent / "scenarios" / "ruritania-7008"
NOTIFIED = "congress.notification.RUR-case-1@2024-01-01"


@pytest.fixture(scope="module")
def rur(desk: Desk) -> str:
    """Ruritania, stored in the desk (once per desk)."""
    s = load_scenario(RUR)
    with store.open_db(desk.url) as db:
        store.load(db, s, "approver")
    return s.id


def _page_text(body: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_api_diff_carries_duties_and_caps(client: TestClient, desk: Desk, rur: str) -> None:
    h = desk.auth("viewer")
    got = client.get(f"/api/scenarios/{rur}/diff", headers=h, params={
        "a": "pause", "b": "pre_coup", "with_law": "true", "as_of": "2024-03-20", "assume": NOTIFIED}).json()
    expected = diff(load_scenario(RUR), "pause", "pre_coup", as_of="2024-03-20", assume=[NOTIFIED], law=True)
    assert [s["text"] for s in got["statements"]] == [s.text for s in expected.statements]
    assert got["duties"] == [d.to_dict() for d in expected.duties] and len(got["duties"]) == 1
    assert got["caps"] == [c.to_dict() for c in expected.caps]
    [effect] = got["caps"]
    assert (effect["allocated"], effect["blocked"]) == (["700000.00", "14700000.00"], [[], ["R25-04"]])
    # the notification owed once the restriction is lifted (`restored`) and not under the posture of record
    got = client.get(f"/api/scenarios/{rur}/diff", headers=h, params={
        "a": "record", "b": "restored", "with_law": "true", "as_of": "2024-05-01"}).json()
    owed = [d for d in got["duties"] if d["kind"] == "notification"]
    assert owed and {(d["name"], d["under"], d["not_under"]) for d in owed} == {
        ("notify.aeca36b.mde", "restored", "record")}
    assert [i for d in owed for i in d["items"]] == ["R24-08"]


def test_web_diff_page_lists_duties_and_caps(client: TestClient, desk: Desk, rur: str) -> None:
    h = desk.auth("viewer")
    r = client.get(f"/scenarios/{rur}/diff", headers=h, params={
        "a": "pause", "b": "pre_coup", "with_law": "true", "as_of": "2024-03-20", "assume": NOTIFIED})
    assert r.status_code == 200
    text = _page_text(r.text)
    assert "Notifications and caps (the law, on final decisions)" in text
    expected = diff(load_scenario(RUR), "pause", "pre_coup", as_of="2024-03-20", assume=[NOTIFIED], law=True)
    [duty] = expected.duties
    assert " ".join(duty.text.split()) in text and "cap cap.fmf.RUR-FY2025" in text
    assert "RUR-FY2025 21,500,000.00" in text
    # the allocation: the limit, what each option allocates, and the line the cap blocks under pre_coup
    row = re.search(r'<table id="cap-effects">.*?</table>', r.text, re.S)
    assert row is not None
    cells = _page_text(row.group(0))
    assert ("cap.fmf.RUR-FY2025 all lines 15,000,000.00 700,000.00 14,700,000.00 nothing R25-04 (7,500,000.00)"
            in cells)
    # the notification owed, on its own page
    r = client.get(f"/scenarios/{rur}/diff", headers=h, params={
        "a": "record", "b": "restored", "with_law": "true", "as_of": "2024-05-01"})
    text = _page_text(r.text)
    assert "notification notify.aeca36b.mde restored record" in text


def test_web_diff_page_without_the_law_says_how_to_see_duties(client: TestClient, desk: Desk, rur: str) -> None:
    r = client.get(f"/scenarios/{rur}/diff", headers=desk.auth("viewer"), params={"a": "pause", "b": "pre_coup"})
    assert r.status_code == 200
    text = _page_text(r.text)
    assert "Notifications and caps" not in text and "Tick “with the law”" in text


def test_peru_memo_options_with_the_law_show_the_511a_ceiling(client: TestClient, desk: Desk) -> None:
    """On the memo's options, after the appropriation: §511(a) counts more under `recommended`, in both pools."""
    h = desk.auth("viewer")
    params: dict[str, Any] = {"a": "limited", "b": "recommended", "with_law": "true", "as_of": "1962-10-24"}
    got = client.get("/api/scenarios/peru-1962/diff", headers=h, params=params).json()
    expected = diff(load_scenario(PERU), "limited", "recommended", as_of="1962-10-24", law=True)
    assert got["duties"] == [d.to_dict() for d in expected.duties] and got["duties"]
    assert [(c["pool"], c["allocated"]) for c in got["caps"]] == [
        (list(c.pool), [f"{v:.2f}" for v in c.allocated]) for c in expected.caps]
    text = _page_text(client.get("/scenarios/peru-1962/diff", headers=h, params=params).text)
    for c in expected.caps:
        assert f"cap.511a {', '.join(c.pool)} 57,500,000.00 {c.allocated[0]:,.2f} {c.allocated[1]:,.2f}" in text


def test_the_memo_says_what_the_law_asks_between_its_options(client: TestClient, desk: Desk) -> None:
    """The memo's "What changes between the options" carries, under each pair of options, the law's statements on
    the final decisions: the caps whose allocation differs (Peru: FAA §511(a) after the appropriation), as the diff
    computes them."""
    h = desk.auth("viewer")
    params = {"as_of": "1962-10-24", "options": "limited,recommended,full"}
    r = client.get("/scenarios/peru-1962/memo", headers=h, params=params)
    assert r.status_code == 200
    text = _page_text(r.text)
    assert "What the law asks on the final decisions:" in text
    s = load_scenario(PERU)
    for a, b in (("limited", "recommended"), ("recommended", "full")):
        expected = diff(s, a, b, as_of="1962-10-24", law=True)
        for c in expected.caps:
            assert (f"cap {c.cap} ({', '.join(c.pool)}): {c.allocated[0]:,.2f} allocated under {a}, "
                    f"{c.allocated[1]:,.2f} under {b}, of a limit of 57,500,000.00") in text
        for d in expected.duties:
            assert (f"{d.kind} {d.name} , under {d.under} and not under {d.not_under}: "  # (a tag ends after the name)
                    f"{' '.join(d.text.split())}") in text
