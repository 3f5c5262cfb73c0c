"""The Peru 1962 scenario against the record (FRUS 1961-63 XII doc. 427 and its footnotes).

Every expected figure below is the record's: $6.1M of $9M (FY 1962 and earlier), $1.5M of $13.8M
(FY 1963), $7.6M of grant aid in all, under the limited position of 3 October 1962.  Shares are
recomputed here from those figures, not read from tranche.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tranche import compare, decide, load_scenario, run_tests
from tranche.cli.main import main

PERU = Path(__file__).parent.parent / "scenarios" / "peru-1962"
MEMO = dt.date(1962, 10, 3)
CONGRESS = "congress.appropriation.FY1963"


@pytest.fixture(scope="module")
def peru():  # type: ignore[no-untyped-def]
    return load_scenario(PERU)


def test_scenario_checks_clean() -> None:
    from tranche import check

    result = check(PERU)
    assert result.passed and not result.warnings(), [str(d) for d in result.diagnostics]


def test_program_totals_match_the_record(peru) -> None:  # type: ignore[no-untyped-def]
    sums: dict[str, Decimal] = {}
    for item in peru.items:
        sums[item.program] = sums.get(item.program, Decimal(0)) + item.amount
    assert sums["FY1962"] == Decimal("9000000.00")
    assert sums["FY1963"] == Decimal("13800000.00")
    assert all(i.channel == "sale" for i in peru.items if i.program == "PURCHASES")
    assert all(i.channel == "grant" for i in peru.items if i.program in ("FY1962", "FY1963"))


def test_policy_tests_pass(peru) -> None:  # type: ignore[no-untyped-def]
    results = run_tests(peru)
    assert len(results) >= 25
    assert [r.test.name for r in results if not r.passed] == []


def test_compare_cli_json_gives_the_memo_figures(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(PERU), "--as-of", "1962-10-03", "--options", "limited,recommended,full",
              "--assume", CONGRESS, "--format", "json"])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "1962-10-03" and data["assumed"] == [CONGRESS]
    opts = {o["name"]: o for o in data["options"]}
    assert list(opts) == ["limited", "recommended", "full"]
    limited = {p["program"]: p for p in opts["limited"]["programs"]}
    assert limited["FY1962"]["total"] == "9000000.00" and limited["FY1962"]["permitted"] == "6100000.00"
    assert limited["FY1963"]["total"] == "13800000.00" and limited["FY1963"]["permitted"] == "1500000.00"
    assert limited["FY1962"]["permitted_share"] == round(6.1 / 9.0, 4) == 0.6778
    assert limited["FY1963"]["permitted_share"] == round(1.5 / 13.8, 4) == 0.1087
    grant = next(c for c in opts["limited"]["channels"] if c["channel"] == "grant")
    assert grant["permitted"] == "7600000.00"  # "totaling $7.6 million"
    # recommended permits more and sends the other grant items to review
    rec = {p["program"]: p for p in opts["recommended"]["programs"]}
    for prog in ("FY1962", "FY1963"):
        assert Decimal(rec[prog]["permitted"]) > Decimal(limited[prog]["permitted"])
        assert Decimal(rec[prog]["review"]) > 0
    # full conflicts with the law: the Presidential determination and the agreement amendment
    missing = {f for c in opts["full"]["conflicts"] for f in c["missing_facts"]}
    assert missing == {"presidential_determination.internal_security.PER", "mdaa.amendment.PER"}
    assert opts["limited"]["conflicts"] == []


def test_recommended_reviews_on_urgent_necessity(peru) -> None:  # type: ignore[no-untyped-def]
    reviewed = [decide(peru, i, MEMO, regime="recommended", assume=[CONGRESS]) for i in peru.items]
    criteria = {d.criterion for d in reviewed if d.outcome.value == "review"}
    assert criteria == {"urgent necessity"}


def test_record_timeline_follows_the_footnotes(peru) -> None:  # type: ignore[no-untyped-def]
    item = next(i for i in peru.items if i.program == "FY1962" and i.category == "end_items.civic_action")
    # suspension from the coup (doc. 420), limited from 8 October (telegram 281), full from 23 October (telegram 313)
    assert decide(peru, item, "1962-07-01").in_force.regime.id == "normal"
    assert decide(peru, item, "1962-07-18").in_force.regime.id == "suspension"
    assert decide(peru, item, "1962-10-07").in_force.regime.id == "suspension"
    assert decide(peru, item, "1962-10-08").in_force.regime.id == "limited"
    assert decide(peru, item, "1962-10-22").outcome.value == "prohibited"
    assert decide(peru, item, "1962-10-23").in_force.regime.id == "full"
    assert decide(peru, item, "1962-10-23").outcome.value == "permitted"


def test_ball_approved_plan_waits_for_congress(peru) -> None:  # type: ignore[no-untyped-def]
    result = compare(peru, MEMO, ["ball-approved"])
    assert result.options[0].regimes == ("suspension",)
    result = compare(peru, MEMO, ["ball-approved"], [CONGRESS])
    assert result.options[0].regimes == ("recommended",)
    result = compare(peru, dt.date(1962, 11, 20), ["ball-approved"], [CONGRESS])
    assert result.options[0].regimes == ("full",)
