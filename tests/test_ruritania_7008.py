"""The second scenario: a different taxonomy, law and regime shape, on the same engine.

The expected figures below were worked out by hand from the scenario's files (rule by rule,
item by item), not read from tranche.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from tranche import check, compare, decide, load_scenario, run_tests

RUR = Path(__file__).parent.parent / "scenarios" / "ruritania-7008"


def test_checks_clean_and_policy_tests_pass() -> None:
    result = check(RUR)
    assert result.passed and not result.warnings(), [str(d) for d in result.diagnostics]
    failed = [r.test.name for r in run_tests(load_scenario(RUR)) if not r.passed]
    assert failed == []


def test_figures_under_the_restriction() -> None:
    s = load_scenario(RUR)
    result = compare(s, dt.date(2024, 5, 1), ["record", "restriction_7008"])
    for option in result.options:
        assert option.regimes == ("restriction_7008",)
        per = {p.program: p for p in option.programs}
        fy24, fy25 = per["RUR-FY2024"], per["RUR-FY2025"]
        assert fy24.total == Decimal("61950000.00")
        assert [str(fy24.amounts[o]) for o in fy24.amounts] == ["1400000.00", "4700000.00", "450000.00", "55400000.00"]
        assert [str(fy25.amounts[o]) for o in fy25.amounts] == ["700000.00", "0.00", "500000.00", "21500000.00"]


def test_timeline_uses_dates_facts_and_a_stated_expiry() -> None:
    s = load_scenario(RUR)
    regimes = [decide(s, "R24-03", day).in_force.regime.id
               for day in ("2023-12-01", "2024-03-10", "2024-04-14", "2024-04-15", "2025-01-01")]
    assert regimes == ["pre_coup", "pause", "pause", "restriction_7008", "restriction_7008"]
    assert decide(s, "R24-03", "2025-01-01", assume=["democratic_election.RUR"]).in_force.regime.id == "restored"


def test_declared_attribute_and_amount_threshold_decide() -> None:
    s = load_scenario(RUR)
    pme = decide(s, "R24-04", "2024-05-01")
    assert pme.outcome.value == "blocked" and pme.rules == ("r7008.imet_pme",)
    mde = decide(s, "R25-01", "2024-01-15")  # exactly $14,000,000.00: at the threshold
    assert mde.outcome.value == "blocked" and mde.missing_facts == ("congress.notification.RUR-case-1",)
