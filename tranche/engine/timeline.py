"""Which facts hold and which regime is in force, at a date.

Facts hold from their date (until their `until`, if any); assumed facts
(``--assume FACT`` or ``FACT@DATE``) hold from the as-of date or the given
date, with no end.  A timeline's regime in force at a date is its *last* entry,
in list order, whose start holds (its date has come; its triggering fact
holds; for ``all:``, every one of its facts holds; for ``any:``, one of them
does) and whose stated ``until`` has not come.  So when an entry expires, or
the fact that triggered it stops holding, the entry before it whose start
still holds is in force again; when no entry qualifies, no regime is in force.

:func:`periods` is the same rule read over every day: the days on which the
regime in force changes are the dates of the timeline's entries and of its
triggering facts, so the rule is evaluated once per such date and the days in
between follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from ..errors import EvaluationError, NotFound, UsageError, did_you_mean
from ..language.values import parse_date
from ..language.scenario import Regime, Scenario, Timeline, TimelineEntry

__all__ = ["FactState", "InForce", "Period", "facts_at", "parse_assumption", "regime_in_force", "periods",
           "resolve_option"]


@dataclass(frozen=True)
class FactState:
    """The facts that hold at ``as_of``: each with the date it holds from, and which were assumed.

    ``scheduled``: assumed facts dated after ``as_of`` (they do not hold yet; a timeline shows
    them as scheduled, as it shows facts of record dated after ``as_of``).
    """

    as_of: dt.date
    holding: Mapping[str, dt.date]
    assumed: frozenset[str]
    scheduled: Mapping[str, dt.date] = field(default_factory=dict)

    def holds(self, fact: str) -> bool:
        return fact in self.holding

    def key(self) -> tuple[dt.date, frozenset[str]]:
        return (self.as_of, frozenset(self.holding))


def parse_assumption(text: str, scenario: Scenario, as_of: dt.date) -> tuple[str, dt.date]:
    """``FACT`` or ``FACT@YYYY-MM-DD`` -> (fact id, date it holds from)."""
    name, _, when = text.partition("@")
    name = name.strip()
    if name not in scenario.facts:
        raise UsageError(f"unknown fact `{name}`", help=did_you_mean(name, scenario.facts)
                         or "list the scenario's facts with `tranche timeline`")
    if when:
        try:
            return name, parse_date(when)
        except UsageError:
            raise UsageError(f"`{text}`: `{when}` is not a date", help=f"write FACT@YYYY-MM-DD, e.g. `{name}@2001-12-31`") from None
    return name, as_of


def facts_at(scenario: Scenario, as_of: dt.date, assume: Iterable[str] = ()) -> FactState:
    """The facts holding at ``as_of``, the record's and the assumed ones."""
    since: dict[str, dt.date] = {}
    for text in assume:
        name, day = parse_assumption(text, scenario, as_of)
        since[name] = min(day, since.get(name, day))
    return _state(scenario, as_of, since)


def _state(scenario: Scenario, day: dt.date, assumed: Mapping[str, dt.date]) -> FactState:
    """The facts holding on ``day``: the record's, and ``assumed`` (fact -> the date it holds from, for good)."""
    holding: dict[str, dt.date] = {}
    for fact in scenario.facts.values():
        if fact.holds_on(day):
            assert fact.date is not None
            holding[fact.id] = fact.date
    now: set[str] = set()
    for name, since in assumed.items():
        if since > day:
            continue
        now.add(name)
        fact = scenario.facts[name]
        start = since
        if fact.date is not None and fact.date <= since and (fact.until is None or fact.until >= since):
            start = fact.date  # the record's period runs into the assumed one: one period
        holding[name] = start
    later = {n: d for n, d in assumed.items() if d > day}
    _derive(scenario, day, holding, later, now)
    return FactState(day, holding, frozenset(now), later)


def _derive(scenario: Scenario, day: dt.date, holding: dict[str, dt.date], later: dict[str, dt.date],
            assumed: set[str]) -> None:
    """Derived facts (``after: {fact, days}``): each holds from ``days`` after the date its fact holds from.

    A derived fact whose period has not run out yet is ``later`` (scheduled on its computed date).
    An assumed derived fact keeps its assumed date.
    """
    derived = [f for f in scenario.facts.values() if f.after is not None and f.id not in assumed]
    for _ in range(len(derived)):  # chains of waiting periods resolve in at most this many rounds
        changed = False
        for fact in derived:
            assert fact.after is not None
            base, days = fact.after
            start = holding.get(base) or later.get(base)
            if start is None:
                continue
            when = start + dt.timedelta(days=days)
            if when <= day and base in holding:
                if holding.get(fact.id) != when:
                    holding[fact.id] = when
                    later.pop(fact.id, None)
                    changed = True
            elif later.get(fact.id) != when:
                later[fact.id] = when
                changed = True
        if not changed:
            break


@dataclass(frozen=True)
class InForce:
    """The regime in force for a request, and why: by name, or by a timeline entry."""

    regime: Regime
    timeline: Timeline | None = None
    entry: TimelineEntry | None = None
    since: dt.date | None = None

    def describe(self) -> str:
        if self.timeline is None or self.entry is None:
            return f"regime `{self.regime.id}` (named)"
        start = f"since {self.since}" if self.since else ""
        return f"regime `{self.regime.id}` of timeline `{self.timeline.id}`, {start} ({self.entry.trigger})"


def _started(entry: TimelineEntry, facts: FactState) -> bool:
    return entry.started(facts.as_of, facts.holding.__contains__)


def _entry_at(timeline: Timeline, facts: FactState) -> int | None:
    """The index of the entry in force: the last whose start holds and whose `until` has not come."""
    for i in range(len(timeline.entries) - 1, -1, -1):
        entry = timeline.entries[i]
        if _started(entry, facts) and (entry.until is None or facts.as_of < entry.until):
            return i
    return None


def _assumed(facts: FactState) -> dict[str, dt.date]:
    """The assumptions behind ``facts``: each assumed fact with the date it holds from, for good."""
    out = {name: facts.holding[name] for name in facts.assumed}
    out.update(facts.scheduled)
    return out


def _fact_days(scenario: Scenario, name: str, assumed: Mapping[str, dt.date], depth: int = 0) -> set[dt.date]:
    """Every date on which ``name`` can start or stop holding: its record's dates, its assumed date, and for a
    derived fact (``after``) those of the fact it runs from, moved by its period."""
    fact = scenario.facts.get(name)
    if fact is None:
        return set()
    days = {d for d in (fact.date, fact.until, assumed.get(name)) if d is not None}
    if fact.after is not None and depth <= len(scenario.facts):
        base, n = fact.after
        days |= {d + dt.timedelta(days=n) for d in _fact_days(scenario, base, assumed, depth + 1)}
    return days


def _changes(scenario: Scenario, timeline: Timeline, assumed: Mapping[str, dt.date]) -> list[dt.date]:
    """Every date on which the entry in force can change: entry dates and the dates of triggering facts."""
    days: set[dt.date] = set()
    for entry in timeline.entries:
        for day in (entry.start_date, entry.until):
            if day is not None:
                days.add(day)
        for name in entry.start_facts:
            days |= _fact_days(scenario, name, assumed)
    return sorted(days)


# one stretch of days with the same entry in force: (first day, first day after it or None, entry index)
_Stretch = tuple[dt.date, Optional[dt.date], int]


def _stretches(scenario: Scenario, timeline: Timeline, assumed: Mapping[str, dt.date],
               until: dt.date | None = None) -> list[_Stretch]:
    """The stretches of days on which an entry is in force, in date order (``until``: stop after this day)."""
    out: list[_Stretch] = []
    current: tuple[dt.date, int] | None = None
    for day in _changes(scenario, timeline, assumed):
        if until is not None and day > until:
            break
        index = _entry_at(timeline, _state(scenario, day, assumed))
        if current is not None and index == current[1]:
            continue
        if current is not None:
            out.append((current[0], day, current[1]))
        current = (day, index) if index is not None else None
    if current is not None:
        out.append((current[0], None, current[1]))
    return out


def _in_timeline(scenario: Scenario, timeline: Timeline, facts: FactState) -> InForce:
    index = _entry_at(timeline, facts)
    if index is None:
        first = timeline.entries[0]
        started = [e for e in timeline.entries if _started(e, facts)]
        if not started:
            raise EvaluationError(
                f"no regime is in force on {facts.as_of} in timeline `{timeline.id}`: its first entry starts "
                f"on {first.trigger}", help="choose a later date or name a regime with --regime")
        last = started[-1]
        raise EvaluationError(f"no regime is in force on {facts.as_of} in timeline `{timeline.id}`: "
                              f"`{last.regime}` expired on {last.until} and no entry before it has started",
                              help="choose an earlier date, name a regime with --regime, or add an entry "
                                   f"from {last.until} to the timeline")
    entry = timeline.entries[index]
    stretches = _stretches(scenario, timeline, _assumed(facts), facts.as_of)
    since = stretches[-1][0] if stretches and stretches[-1][2] == index else None
    return InForce(scenario.regimes[entry.regime], timeline, entry, since)


def resolve_option(scenario: Scenario, name: str) -> Regime | Timeline:
    """An option name: a timeline, else a regime."""
    if name in scenario.timelines:
        return scenario.timelines[name]
    if name in scenario.regimes:
        return scenario.regimes[name]
    known = list(scenario.regimes) + list(scenario.timelines)
    raise NotFound(f"unknown regime `{name}`", help=did_you_mean(name, known)
                   or "known: " + ", ".join(f"`{k}`" for k in known))


def regime_in_force(scenario: Scenario, recipient: str, facts: FactState, name: str | None = None) -> InForce:
    """The regime in force for ``recipient``: the named regime or timeline, else its timeline of record."""
    if name is not None:
        target = resolve_option(scenario, name)
        if isinstance(target, Regime):
            return InForce(target)
        return _in_timeline(scenario, target, facts)
    timeline = scenario.record_timeline(recipient)
    if timeline is None:
        raise EvaluationError(f"`{recipient}` has no timeline of record",
                              help="name a regime with --regime, or mark a timeline `record: true`")
    return _in_timeline(scenario, timeline, facts)


@dataclass(frozen=True)
class Period:
    """One stretch of a timeline during which one regime is in force: start, end (None: open-ended),
    trigger and sources.

    An entry that is never in force under the facts has one period without a start:
    ``pending`` when its start never holds (its fact is not established), otherwise it is
    superseded (a later entry is already in force whenever its start holds, or it has expired),
    and ``note`` says so.
    """

    regime: str
    title: str
    start: dt.date | None
    end: dt.date | None
    trigger: str
    sources: tuple[str, ...]
    pending: bool  # the start never happens (its fact does not hold)
    default: str
    note: str = ""
    announced: dt.date | None = None  # when the entry was announced, if it says (informational)


def _why_again(scenario: Scenario, before: TimelineEntry, day: dt.date) -> str:
    """Why the entry in force before ``day`` stopped being in force then."""
    if before.until == day:
        return f"`{before.regime}` expired"
    for name in before.start_facts:
        fact = scenario.facts.get(name)
        if fact is not None and fact.until == day:
            return f"`{fact.id}` stopped holding"
    return f"`{before.regime}` ended"


def periods(scenario: Scenario, timeline: Timeline, facts: FactState) -> list[Period]:
    """The periods of a timeline under ``facts``: the stretches of days on which each entry is in force.

    Every day of a period has that period's regime in force (:func:`regime_in_force` at that
    day, with the same facts and assumptions); a day in no period has none.  Dates after
    ``facts.as_of`` count as scheduled: facts of record and assumed facts dated later hold
    from their date.  Entries never in force get a period without a start, placed after the
    periods of the entries listed before them.
    """
    assumed = _assumed(facts)
    stretches = _stretches(scenario, timeline, assumed)
    entries = timeline.entries

    def period(index: int, start: dt.date | None, end: dt.date | None, trigger: str, pending: bool,
               note: str = "") -> Period:
        entry = entries[index]
        regime = scenario.regimes[entry.regime]
        srcs = tuple(dict.fromkeys(entry.sources + regime.sources))
        return Period(entry.regime, regime.title, start, end, trigger, srcs, pending, regime.default.value, note,
                      entry.announced)

    out: list[tuple[Period, int]] = []
    for k, (start, end, index) in enumerate(stretches):
        entry = entries[index]
        trigger = entry.trigger
        if k and stretches[k - 1][1] == start and stretches[k - 1][2] > index:
            trigger += f"; again when {_why_again(scenario, entries[stretches[k - 1][2]], start)}"
        out.append((period(index, start, end, trigger, False), index))
    shown = {index for _, _, index in stretches}
    for index, entry in enumerate(entries):
        if index in shown:
            continue
        if _ever_starts(scenario, entry, assumed, timeline):
            row = period(index, None, None, entry.trigger, False, "never in force: whenever its start holds, a later "
                         "entry is in force or its `until` has passed")
        else:
            row = period(index, None, entry.until, entry.trigger, True)
        at = max((n + 1 for n, (_, i) in enumerate(out) if i < index), default=0)
        out.insert(at, (row, index))
    return [p for p, _ in out]


def _ever_starts(scenario: Scenario, entry: TimelineEntry, assumed: Mapping[str, dt.date],
                 timeline: Timeline) -> bool:
    """Whether the entry's start holds on some day (a date always comes; facts must hold, together for `all`)."""
    if entry.start_date is not None:
        return True
    return any(_started(entry, _state(scenario, day, assumed)) for day in _changes(scenario, timeline, assumed))
