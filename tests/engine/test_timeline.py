"""The timeline shows what `decide` does: every day of every period has that period's regime in force.

``expected`` below reads the rule of docs/format.md directly, day by day: a fact holds on a
day when its record says so (``date <= day < until``) or it is assumed from a date on or
before it; the entry in force is the last, in list order, whose start holds and whose
``until`` has not come.  ``periods`` (what `tranche timeline` prints) and
``regime_in_force`` (what `decide`, `compare` and `bulk` use) must both agree with it, for
generated timelines with facts that stop holding, entries listed out of date order, stated
expiries and assumptions ``FACT@DATE`` before, on or after the as-of date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tranche import load_scenario
from tranche.engine import Evaluator, facts_at, periods, regime_in_force
from tranche.errors import EvaluationError
from tranche.language.scenario import Fact, Outcome, Regime, Scenario, Timeline, TimelineEntry

from ..helpers import run
from ..strategies import make_scenario

BASE = dt.date(2000, 1, 1)
FACT_IDS = ("f1", "f2", "f3")
REGIMES = ("r0", "r1", "r2", "r3")
MINI = Path(__file__).parent.parent / "fixtures" / "mini"


def day(n: int) -> dt.date:
    return BASE + dt.timedelta(days=n)


@st.composite
def fact_records(draw: st.DrawFn) -> dict[str, Fact]:
    out = {}
    for f in FACT_IDS:
        start = draw(st.one_of(st.none(), st.integers(0, 30)))
        until = None
        if start is not None and draw(st.booleans()):
            until = start + draw(st.integers(1, 10))
        out[f] = Fact(f, date=None if start is None else day(start), until=None if until is None else day(until))
    return out


@st.composite
def timelines(draw: st.DrawFn) -> Timeline:
    entries = []
    for _ in range(draw(st.integers(1, 5))):
        regime = draw(st.sampled_from(REGIMES))
        until = draw(st.one_of(st.none(), st.integers(1, 40)))
        kind = draw(st.sampled_from(("date", "fact", "all", "any")))
        if kind == "date":
            entry = TimelineEntry(regime, start_date=day(draw(st.integers(0, 35))))
        elif kind == "fact":
            entry = TimelineEntry(regime, start_fact=draw(st.sampled_from(FACT_IDS)))
        else:  # several facts: in force while all (or any) of them hold
            several = tuple(draw(st.lists(st.sampled_from(FACT_IDS), min_size=1, max_size=3, unique=True)))
            entry = TimelineEntry(regime, start_all=several) if kind == "all" else TimelineEntry(regime,
                                                                                                start_any=several)
        if until is not None:
            entry = dataclasses.replace(entry, until=day(until))
        entries.append(entry)
    return Timeline("t", "AAA", tuple(entries), record=True)


@st.composite
def assumptions(draw: st.DrawFn) -> tuple[str, ...]:
    out = []
    for f in draw(st.lists(st.sampled_from(FACT_IDS), max_size=3, unique=True)):
        when = draw(st.one_of(st.none(), st.integers(-2, 40)))
        out.append(f if when is None else f"{f}@{day(when)}")
    return tuple(out)


def scenario(facts: dict[str, Fact], timeline: Timeline) -> Scenario:
    regimes = {r: Regime(r, r, Outcome.PERMITTED, ()) for r in REGIMES}
    return make_scenario((), regimes, facts, (), {"t": timeline})


def dated(assume: tuple[str, ...], as_of: dt.date) -> dict[str, dt.date]:
    """Each assumption with the date it holds from (an undated one: the as-of date)."""
    out: dict[str, dt.date] = {}
    for text in assume:
        name, _, when = text.partition("@")
        since = dt.date.fromisoformat(when) if when else as_of
        out[name] = min(since, out.get(name, since))
    return out


def expected(facts: dict[str, Fact], timeline: Timeline, assumed: dict[str, dt.date], d: dt.date) -> int | None:
    def holds(f: str) -> bool:
        rec = facts[f]
        by_record = rec.date is not None and rec.date <= d and (rec.until is None or d < rec.until)
        return by_record or (f in assumed and assumed[f] <= d)

    found = None
    for i, e in enumerate(timeline.entries):
        started = ((e.start_date is not None and e.start_date <= d) or (e.start_fact is not None and holds(e.start_fact))
                   or (bool(e.start_all) and all(holds(f) for f in e.start_all))
                   or (bool(e.start_any) and any(holds(f) for f in e.start_any)))
        if started and (e.until is None or d < e.until):
            found = i
    return found


@settings(max_examples=300, deadline=None)
@given(fact_records(), timelines(), assumptions(), st.integers(0, 40))
def test_every_day_of_a_period_has_its_regime_in_force(facts: dict[str, Fact], timeline: Timeline,
                                                       assume: tuple[str, ...], as_of_n: int) -> None:
    s = scenario(facts, timeline)
    as_of = day(as_of_n)
    shown = periods(s, timeline, facts_at(s, as_of, assume))
    assumed = dated(assume, as_of)
    again = tuple(f"{n}@{d}" for n, d in assumed.items())  # the same assumptions, seen from any day
    dated_periods = [p for p in shown if p.start is not None]
    for a, b in zip(dated_periods, dated_periods[1:]):
        assert a.end is not None and a.start is not None and b.start is not None
        assert a.start < a.end <= b.start  # in date order, none ends before it starts, none overlaps
    for n in range(-3, 55):
        d = day(n)
        want = expected(facts, timeline, assumed, d)
        holding = [p for p in dated_periods if p.start is not None and p.start <= d and (p.end is None or d < p.end)]
        state = facts_at(s, d, again)
        if want is None:
            assert holding == [], (d, holding)
            with pytest.raises(EvaluationError):
                regime_in_force(s, "AAA", state)
            continue
        in_force = regime_in_force(s, "AAA", state)
        assert in_force.entry is timeline.entries[want], (d, in_force.entry, want)
        assert [p.regime for p in holding] == [timeline.entries[want].regime], (d, holding)
        assert in_force.since == holding[0].start, d  # `decide` says "since" the period's first day
    # an entry never in force has a period without dates
    for i, e in enumerate(timeline.entries):
        if all(expected(facts, timeline, assumed, day(n)) != i for n in range(-3, 55)):
            assert any(p.start is None and p.regime == e.regime for p in shown), i


# --------------------------------------------------------------------------------------------
# the wrong outputs of issue 8, as they were reported


def mini_with(tmp_path: Path, facts: str, regimes: str | None = None) -> str:
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    (root / "facts.yaml").write_text(facts)
    if regimes is not None:
        (root / "regimes.yaml").write_text(regimes)
        (root / "tests.yaml").unlink()  # its tests name the fixture's rules
    return str(root)


def _periods(out: str) -> list[str]:
    """The period rows of `timeline --format csv` (the facts follow as rows of kind `fact`), as the old columns."""
    import csv
    import io

    return [",".join([r["timeline"], r["regime"], r["start"], r["end"], r["trigger"], r["default"], r["sources"]])
            for r in csv.DictReader(io.StringIO(out)) if r["kind"] == "period"]


ONE_DAY_COUP = """facts:
  - id: coup.AAA
    date: 2001-01-01
    until: 2001-01-02
    sources: [s1]
  - id: waiver.AAA
    kind: determination
    sources: [s1]
"""


def test_timeline_ends_a_period_when_its_trigger_stops_holding(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    """Was: `closed 2001-01-01 → —` (open-ended) while `decide` said `open` from 2001-01-02."""
    root = mini_with(tmp_path, ONE_DAY_COUP)
    code, out, _ = run(capsys, "timeline", root, "--as-of", "2001-06-01", "--format", "csv")
    assert code == 0
    assert _periods(out) == [
        "record,open,2000-01-01,2001-01-01,date 2000-01-01,permitted,",
        "record,closed,2001-01-01,2001-01-02,fact `coup.AAA`,prohibited,",
        "record,open,2001-01-02,,date 2000-01-01; again when `coup.AAA` stopped holding,permitted,",
    ]
    code, out, _ = run(capsys, "decide", root, "I2", "--as-of", "2001-01-02", "--format", "json")
    assert json.loads(out)["regime"]["id"] == "open"


PERU = str(Path(__file__).parent.parent.parent / "scenarios" / "peru-1962")


def test_timeline_with_an_assumption_out_of_order(capsys: pytest.CaptureFixture[str]) -> None:
    """Was: `suspension 1962-07-18 → 1962-07-01` (ends before it starts) and `normal` until 1962-07-18."""
    code, out, _ = run(capsys, "timeline", PERU, "--as-of", "1962-10-03", "--assume",
                       "congress.appropriation.FY1963@1962-07-01", "--format", "json")
    assert code == 0
    plan = next(t for t in json.loads(out)["timelines"] if t["id"] == "ball-approved")
    assert [(p["regime"], p["start"], p["end"]) for p in plan["periods"]] == [
        ("normal", "1961-07-01", "1962-07-01"), ("suspension", None, None),
        ("recommended", "1962-07-01", "1962-11-18"), ("full", "1962-11-18", None)]
    assert "never in force" in plan["periods"][1]["note"]
    for d, regime in (("1962-06-30", "normal"), ("1962-07-01", "recommended"), ("1962-07-20", "recommended")):
        code, out, _ = run(capsys, "decide", PERU, "F62-MNT-01", "--as-of", d, "--regime", "ball-approved",
                           "--assume", "congress.appropriation.FY1963@1962-07-01", "--format", "json")
        assert json.loads(out)["regime"]["id"] == regime, d


EXPIRING = """regimes:
  - id: open
    default: permitted
  - id: closed
    default: prohibited
  - id: relief
    default: permitted
timelines:
  - id: record
    recipient: AAA
    record: true
    entries:
      - regime: open
        from: {date: 2000-01-01}
      - regime: closed
        from: {fact: coup.AAA}
      - regime: relief
        from: {fact: waiver.AAA}
        until: 2001-06-01
"""


def test_an_expired_entry_gives_way_to_the_entry_before_it(capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    """Was: `no regime is in force on 2001-07-01 ...: `relief` expired on 2001-06-01` (an error, exit 1)."""
    root = mini_with(tmp_path, (MINI / "facts.yaml").read_text(), EXPIRING)
    assume = ["--assume", "waiver.AAA@2001-03-01"]
    code, out, err = run(capsys, "decide", root, "I2", "--as-of", "2001-07-01", *assume, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["regime"]["id"] == "closed" and d["outcome"] == "prohibited"
    code, out, _ = run(capsys, "timeline", root, "--as-of", "2001-07-01", *assume, "--format", "csv")
    assert _periods(out) == [
        "record,open,2000-01-01,2001-01-01,date 2000-01-01,permitted,",
        "record,closed,2001-01-01,2001-03-01,fact `coup.AAA`,prohibited,",
        "record,relief,2001-03-01,2001-06-01,fact `waiver.AAA`,permitted,",
        "record,closed,2001-06-01,,fact `coup.AAA`; again when `relief` expired,prohibited,",
    ]
    ev = Evaluator(load_scenario(root), dt.date(2001, 7, 1), ["waiver.AAA@2001-03-01"])
    assert ev.decide_id("I2").regime_id == "closed"


def test_a_timeline_on_a_waiting_period_starts_when_the_period_has_run() -> None:
    """A derived fact (``after``) as a trigger, alone and in an ``all:`` start: the day the period runs out is a
    day on which the regime in force changes (it has no date of its own to list)."""
    facts = {"f1": Fact("f1", date=day(3)), "f2": Fact("f2", after=("f1", 10)), "f3": Fact("f3", date=day(5))}
    for entry in (TimelineEntry("r1", start_fact="f2"), TimelineEntry("r1", start_all=("f2", "f3"))):
        timeline = Timeline("t", "AAA", (TimelineEntry("r0", start_date=day(0)), entry), record=True)
        s = scenario(facts, timeline)
        shown = periods(s, timeline, facts_at(s, day(30)))
        assert [(p.regime, p.start, p.end) for p in shown] == [("r0", day(0), day(13)), ("r1", day(13), None)]
        assert regime_in_force(s, "AAA", facts_at(s, day(12))).regime.id == "r0"
        assert regime_in_force(s, "AAA", facts_at(s, day(13))).regime.id == "r1"


def test_announced_dates_are_shown_not_decided_on(capsys: pytest.CaptureFixture[str]) -> None:
    root = str(Path(__file__).parent.parent / "fixtures" / "pack-7008")
    code, out, _ = run(capsys, "timeline", root, "--as-of", "2001-07-01", "--format", "json")
    assert code == 0
    record = next(t for t in json.loads(out)["timelines"] if t["id"] == "record")
    assert [(p["regime"], p["start"], p["announced"]) for p in record["periods"]] == [
        ("normal", "2000-01-01", None), ("suspension", "2001-01-15", "2001-01-10"), ("resumed", None, None)]
    assert record["periods"][2]["trigger"] == ("all of `election.held`, "
                                               "`sec7008.certification.democratic_government`")
    code, out, _ = run(capsys, "timeline", root, "--as-of", "2001-07-01", "--format", "csv")
    rows = [r for r in out.splitlines() if r.startswith("period,talks")]
    assert rows == ["period,talks,suspension,,suspension,2001-01-15,2001-06-01,date 2001-01-15,prohibited,,s1,",
                    "period,talks,dialogue,,dialogue,2001-06-01,,\"any of `talks.opened`, `envoy.appointed`\","
                    "review,,s1,2001-05-20"]
    # announced on 10 January, in force from the determination on 15 January
    code, out, _ = run(capsys, "decide", root, "G1", "--as-of", "2001-01-12", "--format", "json")
    assert json.loads(out)["regime"]["id"] == "normal"
