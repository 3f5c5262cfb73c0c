"""`law-conflict`: lint reports the conflicts with the law an officer can act on in the regime, and only those.

Kept: a regime *rule* that says yes (permits, or sends to review) to what the law forbids, in a state the regime
can be in force in; the regime's rules or its default saying yes to what the law *blocks* (a precondition: the
memo's options and §511(b)).  Dropped: a default saying yes to what the law forbids (the law decides it whatever
the default), the wait of a notification (a duty of the law every regime carries), and what the law forbids only
in states where the regime cannot be in force (a trigger that ends the regime, a certification that brings it).
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import tranche
from tranche.analysis.lint import actionable, in_force_worlds
from tranche.engine.timeline import facts_at, regime_in_force
from tranche.language import check

ROOT = Path(__file__).resolve().parents[2]
TRIGGERED = ROOT / "tests" / "fixtures" / "triggered"
RUR = ROOT / "scenarios" / "ruritania-7008"
PERU = ROOT / "scenarios" / "peru-1962"
DAY = dt.date(2026, 1, 1)

REGIMES = """\
regimes:
  - id: before
    default: permitted
    sources: [s1]
    rules:
      - id: before.grants
        description: grant training goes ahead
        when: {channel: grant, category: training}
        effect: permit
        sources: [s1]
  - id: after
    default: permitted
    sources: [s1]
    rules:
      - id: after.grants
        description: grant training is reviewed
        when: {channel: grant, category: training}
        effect: review
        criterion: urgent necessity
        sources: [s1]
  - id: restored
    default: permitted
    sources: [s1]
    rules:
      - id: restored.grants
        description: grant training goes ahead
        when: {channel: grant, category: training}
        effect: permit
        sources: [s1]
  - id: option
    default: review
    criterion: urgent necessity
    sources: [s1]
    rules:
      - id: option.grants
        description: grant training goes ahead
        when: {channel: grant, category: training}
        effect: permit
        sources: [s1]
timelines:
  - id: record
    recipient: AAA
    record: true
    entries:
      - regime: before
        from: {date: 2000-01-01}
      - regime: after
        from: {fact: coup.AAA}
      - regime: restored
        from: {fact: democracy.AAA}
"""

LAW_EXTRA = """\
  - id: law.sales.licence
    description: a sale needs its export licence
    when: {channel: sale}
    effect: permit
    require: [licence.AAA]
    sources: [s1]
"""

FACTS_EXTRA = """\
  - id: democracy.AAA
    title: an elected government takes office
    role: certification
    sources: [s1]
  - id: licence.AAA
    title: the export licence is issued
    sources: [s1]
"""


def _fixture(tmp_path: Path) -> Path:
    """tests/fixtures/triggered with the regimes above, `law.coup` lifted by `democracy.AAA`, and a law rule
    that blocks sales without a licence (a precondition)."""
    folder = tmp_path / "triggered"
    shutil.copytree(TRIGGERED, folder)
    (folder / "regimes.yaml").write_text(REGIMES)
    law = (folder / "law.yaml").read_text()
    law = law.replace("    effect: forbid\n    sources: [s1]\nnotifications:",
                      "    effect: forbid\n    lifted_by: [democracy.AAA]\n    sources: [s1]\n" + LAW_EXTRA
                      + "notifications:")
    assert "lifted_by: [democracy.AAA]" in law
    (folder / "law.yaml").write_text(law)
    facts = (folder / "facts.yaml").read_text().replace("facts:\n", "facts:\n" + FACTS_EXTRA, 1)
    (folder / "facts.yaml").write_text(facts)
    (folder / "tests.yaml").write_text("tests: []\n")
    return folder


def test_only_conflicts_an_officer_can_act_on(tmp_path: Path) -> None:
    result = check(_fixture(tmp_path))
    assert result.passed, result.errors()
    s = result.scenario
    assert s is not None
    found = [d for d in tranche.lint(s, as_of=DAY) if d.code == "law-conflict"]
    by = {(d.message.split("`")[1], d.message.rsplit("(`", 1)[1].rstrip("`)")) for d in found}
    assert by == {
        ("after", "law.coup"),  # its rule reviews grant training, which the law forbids from the coup
        ("option", "law.coup"),  # an option on no timeline: in force in any state
        # a sale without its licence: blocked by the law, permitted by each default (a precondition)
        ("before", "law.sales.licence"), ("after", "law.sales.licence"), ("restored", "law.sales.licence"),
        ("option", "law.sales.licence"),
    }
    rules = {d.message.split("`")[1]: d for d in found if "law.coup" in d.message}
    assert rules["after"].span is not None and rules["after"].span.file.endswith("regimes.yaml")
    assert rules["after"].help is not None and "its rule `after.grants`" in rules["after"].help
    assert "lifted by `democracy.AAA`" in rules["after"].help
    # everything lint leaves out is in the complete list of conflicts, and is one of the three kinds it drops
    waits = {n.id for n in s.law.notifications}
    for regime in s.regimes:
        reported = {d.message for d in found if d.message.split("`")[1] == regime}
        for c in tranche.conflicts(s, regime, holding_on=DAY):
            if c.describe() in reported:
                continue
            default_forbids = not c.regime_rules and c.law_outcome.value == "prohibited"
            unreachable = (regime, c.law_rule) in {("before", "law.coup"), ("restored", "law.coup")}
            assert c.law_rule in waits or default_forbids or unreachable, c.describe()
            assert not actionable(c, waits) or unreachable


def test_the_dropped_conflicts_cannot_happen(tmp_path: Path) -> None:
    """Independently of lint: with the engine's timeline, in no date and state of the facts is `before` in force
    while the coup determination holds, nor `restored` while the law's restriction is not lifted."""
    s = tranche.load_scenario(_fixture(tmp_path))
    days = [dt.date(2000, 1, 1), dt.date(2000, 12, 31), dt.date(2001, 1, 1), dt.date(2010, 1, 1)]
    facts = ["coup.AAA@1999-01-01", "democracy.AAA@2000-06-01", "democracy.AAA@2005-01-01"]
    seen = set()
    for day in days:
        for n in range(len(facts) + 1):
            for assume in itertools.combinations(facts, n):
                state = facts_at(s, day, assume)
                regime = regime_in_force(s, "AAA", state).regime.id
                seen.add(regime)
                if regime == "before":
                    assert not state.holds("coup.AAA")
                if regime == "restored":
                    assert state.holds("democracy.AAA")
    assert seen == {"before", "after", "restored"}
    assert in_force_worlds(s, "before") == [{"coup.AAA": False, "democracy.AAA": False}]
    assert in_force_worlds(s, "after") == [{"coup.AAA": True, "democracy.AAA": False}]
    assert in_force_worlds(s, "restored") == [{"democracy.AAA": True}]
    assert in_force_worlds(s, "option") == [{}]


def test_ruritania_keeps_the_rules_that_say_yes_to_what_section_7008_forbids() -> None:
    """The sec-7008 pack in Ruritania: the defaults of `pre_coup`, `pause` and `restored` and the notification's
    wait are no longer reported; what the posture's own rules review or permit against the law is."""
    s = tranche.load_scenario(RUR)
    found = [d for d in tranche.lint(s, as_of=DAY) if d.code == "law-conflict"]
    assert found
    for d in found:
        assert "(its default decides them now)" not in (d.help or "")
        assert "notify.aeca36b.mde" not in d.message
        assert d.message.split("`")[1] in ("pause", "restriction_7008")
    peacekeeping = [d for d in found if "1 item, 1,500,000.00" in d.message]
    [pk] = peacekeeping  # R24-07, the body armour for the peacekeeping battalion, which only a waiver frees
    assert "`sec7008.a.restriction`" in pk.message and pk.help is not None
    assert "its rule `r7008.peacekeeping`" in pk.help and "`waiver.7008.RUR.pko`" in pk.help
    # the sec-7008 restriction is not held against the regimes it cannot bind: before the determination, and
    # after the certification
    assert not [d for d in found if d.message.split("`")[1] in ("pre_coup", "restored")]
    assert in_force_worlds(s, "restored") == [{"sec7008.certification.democratic_government": True}]
    assert in_force_worlds(s, "pre_coup")[0]["sec7008.coup_determination"] is False


def test_peru_keeps_every_conflict_with_the_law() -> None:
    """Peru's law only blocks (§511(b)'s determination and the agreement amendment, the FY 1963 appropriation):
    every conflict of every regime is one the regime can say with `require`, and lint keeps each, exactly."""
    s = tranche.load_scenario(PERU)
    found = sorted(d.message for d in tranche.lint(s, as_of=DAY) if d.code == "law-conflict")
    expected = sorted(c.describe() for r in s.regimes for c in tranche.conflicts(s, r, holding_on=DAY))
    assert found == expected and len(found) == 6
    full = [m for m in found if m.startswith("regime `full`")]
    assert full == ["regime `full` permits grant of any category with internal_security (5 items, 6,500,000.00): "
                    "the law blocks them without `presidential_determination.internal_security.PER` and "
                    "`mdaa.amendment.PER` (`law.511b.internal_security`)"]
    assert any(m.startswith("regime `recommended` sends to review grant of any category with internal_security")
               for m in found)
