"""Which facts hold and which regime is in force, at a date.

Facts hold from their date (until their `until`, if any); assumed facts
(``--assume FACT`` or ``FACT@DATE``) hold from the as-of date or the given
date.  A timeline's regime in force is its *last* entry, in list order, whose
start holds at the as-of date (its date has come, or its triggering fact
holds); the entries are checked to be listed in the order they take effect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..errors import EvaluationError, NotFound, UsageError, did_you_mean
from ..language.scenario import Fact, Regime, Scenario, Timeline, TimelineEntry

__all__ = ["FactState", "InForce", "Period", "facts_at", "parse_assumption", "regime_in_force", "periods",
           "resolve_option"]


@dataclass(frozen=True)
class FactState:
    """The facts that hold at ``as_of``: each with the date it holds from, and which were assumed."""

    as_of: dt.date
    holding: Mapping[str, dt.date]
    assumed: frozenset[str]

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
            return name, dt.date.fromisoformat(when.strip())
        except ValueError:
            raise UsageError(f"`{text}`: `{when}` is not a date", help=f"write FACT@YYYY-MM-DD, e.g. `{name}@2001-12-31`") from None
    return name, as_of


def facts_at(scenario: Scenario, as_of: dt.date, assume: Iterable[str] = ()) -> FactState:
    """The facts holding at ``as_of``, the record's and the assumed ones."""
    holding: dict[str, dt.date] = {}
    for fact in scenario.facts.values():
        if fact.holds_on(as_of):
            assert fact.date is not None
            holding[fact.id] = fact.date
    assumed: set[str] = set()
    for text in assume:
        name, since = parse_assumption(text, scenario, as_of)
        if since <= as_of:
            assumed.add(name)
            holding[name] = min(since, holding.get(name, since))
    return FactState(as_of, holding, frozenset(assumed))


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


def _entry_start(entry: TimelineEntry, facts: FactState) -> dt.date | None:
    if entry.start_date is not None:
        return entry.start_date if entry.start_date <= facts.as_of else None
    assert entry.start_fact is not None
    return facts.holding.get(entry.start_fact)


def _in_timeline(scenario: Scenario, timeline: Timeline, facts: FactState) -> InForce:
    chosen: tuple[TimelineEntry, dt.date] | None = None
    for entry in timeline.entries:
        start = _entry_start(entry, facts)
        if start is not None:
            chosen = (entry, start)
    if chosen is None:
        first = timeline.entries[0]
        raise EvaluationError(
            f"no regime is in force on {facts.as_of} in timeline `{timeline.id}`: its first entry starts "
            f"on {first.trigger}", help="choose a later date or name a regime with --regime")
    entry, start = chosen
    if entry.until is not None and entry.until <= facts.as_of:
        raise EvaluationError(f"no regime is in force on {facts.as_of} in timeline `{timeline.id}`: "
                              f"`{entry.regime}` expired on {entry.until}")
    return InForce(scenario.regimes[entry.regime], timeline, entry, start)


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
    """One regime's period in a timeline: start, end (None while in force), trigger and sources."""

    regime: str
    title: str
    start: dt.date | None
    end: dt.date | None
    trigger: str
    sources: tuple[str, ...]
    pending: bool  # the start has not happened (its fact does not hold)
    default: str


def periods(scenario: Scenario, timeline: Timeline, facts: FactState) -> list[Period]:
    """The periods of a timeline as they resolve under ``facts`` (dates in the future count as scheduled)."""
    starts: list[dt.date | None] = []
    for entry in timeline.entries:
        if entry.start_date is not None:
            starts.append(entry.start_date)
        else:
            fact = entry.start_fact or ""
            starts.append(facts.holding.get(fact) or (scenario.facts[fact].date if fact in scenario.facts else None))
    out: list[Period] = []
    for i, entry in enumerate(timeline.entries):
        end = entry.until
        if end is None:
            end = next((s for s in starts[i + 1:] if s is not None), None)
        regime = scenario.regimes[entry.regime]
        srcs = tuple(dict.fromkeys(entry.sources + regime.sources))
        out.append(Period(entry.regime, regime.title, starts[i], end, entry.trigger, srcs, starts[i] is None,
                          regime.default.value))
    return out
