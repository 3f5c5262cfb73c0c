"""The second scenario: section 7008 as law (the sec-7008 pack), with waivers, a hold, a notification and a cap.

The expected figures below were worked out by hand from the scenario's files and the pack (rule by
rule, item by item), not read from tranche.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from tranche import Outcome, check, compare, decide, load_scenario, run_tests
from tranche.analysis.testing import run_aggregates

RUR = Path(__file__).parent.parent / "scenarios" / "ruritania-7008"
PME_WAIVER = ["waiver.7008.RUR.imet_pme", "notice.7008.RUR.imet_pme@2024-04-16"]


def test_checks_clean_and_policy_tests_pass() -> None:
    result = check(RUR)
    assert result.passed and not result.warnings(), [str(d) for d in result.diagnostics]
    s = load_scenario(RUR)
    failed = [r.test.name for r in run_tests(s) if not r.passed]
    assert failed == []
    assert [a.test.name for a in run_aggregates(s) if not a.passed] == []


def test_the_restriction_is_the_packs_law_not_a_regime() -> None:
    s = load_scenario(RUR)
    assert [r.id for r in s.law.rules][:2] == ["sec7008.a.restriction", "sec7008.a.democracy_notification"]
    assert all(not r.id.startswith("sec7008") for g in s.regimes.values() for r in g.rules)
    # one waiver per waived program, each an exception of the pack's rule marked with the waiver
    restriction = s.law.rules[0]
    assert [u.waiver for u in restriction.unless if u.waiver] == ["waiver.7008.RUR.imet_pme", "waiver.7008.RUR.pko"]


def test_figures_under_the_restriction() -> None:
    s = load_scenario(RUR)
    result = compare(s, dt.date(2024, 5, 1), ["record", "restriction_7008"])
    for option in result.options:
        assert option.regimes == ("restriction_7008",)
        per = {p.program: p for p in option.programs}
        fy24, fy25 = per["RUR-FY2024"], per["RUR-FY2025"]
        assert fy24.total == Decimal("61950000.00")
        # permitted: R24-06; review: R24-09; blocked: R24-11 (democracy, notification period); the rest prohibited
        assert [str(fy24.amounts[o]) for o in fy24.amounts] == ["800000.00", "3200000.00", "600000.00", "57350000.00"]
        assert [str(fy25.amounts[o]) for o in fy25.amounts] == ["700000.00", "0.00", "0.00", "22000000.00"]
    # the PME waiver notified on 16 April counts from 1 May: both years' seats (450,000 + 500,000)
    waived = compare(s, dt.date(2024, 5, 1), ["record"], PME_WAIVER).options[0].totals
    assert str(waived.amounts[Outcome.PERMITTED]) == "2450000.00"  # 800,000 + 700,000 + 950,000
    assert str(waived.amounts[Outcome.PROHIBITED]) == "78400000.00"  # 57,350,000 + 22,000,000 - 950,000


def test_timeline_uses_dates_facts_and_a_stated_expiry() -> None:
    s = load_scenario(RUR)
    regimes = [decide(s, "R24-03", day).in_force.regime.id
               for day in ("2023-12-01", "2024-03-10", "2024-04-14", "2024-04-15", "2025-01-01")]
    assert regimes == ["pre_coup", "pause", "pause", "restriction_7008", "restriction_7008"]
    certified = decide(s, "R24-03", "2025-01-01", assume=["sec7008.certification.democratic_government"])
    assert certified.in_force.regime.id == "restored"


def test_waivers_holds_notifications_and_caps_explain_themselves() -> None:
    s = load_scenario(RUR)
    pme = decide(s, "R24-04", "2024-05-01", assume=PME_WAIVER)
    assert pme.outcome.value == "permitted"
    assert pme.waivers() == [("sec7008.a.restriction", "waiver.7008.RUR.imet_pme")]
    held = decide(s, "R24-08", "2024-05-01")
    assert held.outcome.value == "prohibited" and held.lifted_by == ("electoral_calendar.RUR",)
    waiting = decide(s, "R24-01", "2024-01-30", assume=["congress.notification.RUR-case-1@2024-01-01"])
    assert waiting.outcome.value == "blocked"
    assert [(o.name, o.status) for o in waiting.obligations()] == [("notify.aeca36b.mde", "waiting until 2024-01-31")]
    capped = decide(s, "R25-04", "2025-07-01", assume=["sec7008.certification.democratic_government",
                                                       "congress.notification.RUR-case-1@2025-01-01"])
    assert capped.outcome.value == "blocked" and capped.cap is not None
    # the ceiling is reached after the aircraft (14,000,000) and the field hospital (700,000)
    assert (capped.cap.cap, capped.cap.before) == ("cap.fmf.RUR-FY2025", Decimal("14700000.00"))


def test_declared_attribute_and_amount_threshold_decide() -> None:
    s = load_scenario(RUR)
    fmf_pme = decide(s, "R24-04", "2024-05-01", assume=PME_WAIVER)
    assert fmf_pme.outcome.value == "permitted"  # account IMET: in the waiver's scope
    mde = decide(s, "R25-01", "2024-01-15")  # exactly $14,000,000.00: at the threshold
    assert mde.outcome.value == "blocked"
    assert mde.missing_facts == ("congress.notification.RUR-case-1.after-30d",)
