"""Option comparison: what each option releases, per program, and where it conflicts with the law.

For each option (a regime, or a timeline resolved at the date) every line item
is decided; amounts are summed per program and outcome; the permitted share
is permitted / total.  A conflict is an item the option's regime layer
permits or sends to review while the law blocks or forbids it; conflicts are
grouped by the law rules and missing facts involved.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import UsageError, did_you_mean
from ..language.scenario import OUTCOMES, LineItem, Outcome, Scenario
from ..language.values import ZERO, group_label
from ..semantics import in_conflict
from ..semantics.caps import CapUse
from .decide import Decision, Evaluator, ReviewCase
from .timeline import resolve_option

__all__ = ["Summary", "Conflict", "ObligationTotal", "OptionResult", "Comparison", "compare", "summarize", "group_of",
           "basis_of", "UNSTATED"]


@dataclass
class Summary:
    """Amounts by outcome for one program (or the total of all programs)."""

    program: str
    total: Decimal = ZERO
    amounts: dict[Outcome, Decimal] = field(default_factory=lambda: {o: ZERO for o in OUTCOMES})
    items: int = 0
    basis: str | None = None  # the program's basis (record figures are kept apart from illustrative ones)

    def add(self, amount: Decimal, outcome: Outcome) -> None:
        self.total += amount
        self.amounts[outcome] += amount
        self.items += 1

    @property
    def permitted_share(self) -> float:
        if not self.total:
            return 0.0
        return round(float(self.amounts[Outcome.PERMITTED] / self.total), 4)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"program": self.program, "total": f"{self.total:.2f}"}
        for o in OUTCOMES:
            out[o.value] = f"{self.amounts[o]:.2f}"
        out["permitted_share"] = self.permitted_share
        out["items"] = self.items
        if self.basis is not None:
            out["basis"] = self.basis
        return out


@dataclass
class Conflict:
    """Items an option permits (or sends to review) that the law blocks or forbids."""

    law_rules: tuple[str, ...]
    law_outcome: Outcome
    regime_outcome: Outcome
    missing_facts: tuple[str, ...]
    sources: tuple[str, ...]
    amount: Decimal = ZERO
    items: list[str] = field(default_factory=list)
    by_program: dict[str, Decimal] = field(default_factory=dict)

    def describe(self) -> str:
        verb = "permits" if self.regime_outcome is Outcome.PERMITTED else "sends to review"
        n = len(self.items)
        what = f"{n} item{'s' if n != 1 else ''} ({self.amount:,.2f})"
        if self.law_outcome is Outcome.BLOCKED:
            facts = " and ".join(f"`{f}`" for f in self.missing_facts)
            return f"{verb} {what} that the law blocks without {facts}"
        return f"{verb} {what} that the law forbids"

    def to_dict(self) -> dict[str, Any]:
        return {
            "law_rules": list(self.law_rules),
            "law_outcome": self.law_outcome.value,
            "option_outcome": self.regime_outcome.value,
            "missing_facts": list(self.missing_facts),
            "sources": list(self.sources),
            "amount": f"{self.amount:.2f}",
            "items": list(self.items),
            "programs": {k: f"{v:.2f}" for k, v in self.by_program.items()},
            "text": self.describe(),
        }


@dataclass
class ObligationTotal:
    """The lines that carry one obligation (an action or a notification) under an option, and their amount."""

    kind: str
    name: str
    amount: Decimal = ZERO
    items: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "amount": f"{self.amount:.2f}", "items": self.items,
                "statuses": dict(self.statuses)}


@dataclass
class OptionResult:
    name: str
    regimes: tuple[str, ...]
    programs: list[Summary]
    totals: Summary
    conflicts: list[Conflict]
    channels: list[Summary] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list, repr=False)
    obligations: list[ObligationTotal] = field(default_factory=list)
    groups: list[Summary] = field(default_factory=list)  # by a declared attribute (`compare --by`)
    by: str | None = None
    caps: list[CapUse] = field(default_factory=list)  # each cap pool: allocated, headroom, blocked
    bases: list[Summary] = field(default_factory=list)  # per program basis, where the programs state one

    def item_rows(self) -> list[dict[str, Any]]:
        """Every item's decision under this option: what each figure is made of."""
        return [{"item": d.item.id, "program": d.item.program, "channel": d.item.channel,
                 "category": d.item.category, "amount": f"{d.item.amount:.2f}", "outcome": d.outcome.value,
                 "rules": list(d.rules), "missing_facts": list(d.missing_facts), "criterion": d.criterion}
                for d in self.decisions]

    def to_dict(self, items: bool = False) -> dict[str, Any]:
        out = self._summary_dict()
        if items:
            out["decisions"] = self.item_rows()
        return out

    def _summary_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "regimes": list(self.regimes),
            "programs": [p.to_dict() for p in self.programs],
            "totals": self.totals.to_dict(),
            "channels": [{"channel": c.program, **{k: v for k, v in c.to_dict().items() if k != "program"}}
                         for c in self.channels],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "obligations": [o.to_dict() for o in self.obligations],
            "caps": [{"cap": c.cap, "pool": list(c.pool), "limit": f"{c.limit:.2f}", "allocated": f"{c.allocated:.2f}",
                      "headroom": f"{c.headroom:.2f}", "blocked": f"{c.blocked:.2f}", "blocked_items": c.blocked_items}
                     for c in self.caps],
            **({"by": self.by, "groups": [{self.by: g.program, **{k: v for k, v in g.to_dict().items()
                                                                   if k != "program"}} for g in self.groups]}
               if self.by else {}),
            **({"bases": [{"basis": b.program, **{k: v for k, v in b.to_dict().items() if k not in ("program", "basis")}}
                          for b in self.bases]} if self.bases else {}),
        }


@dataclass
class Comparison:
    as_of: dt.date
    assumed: tuple[str, ...]
    options: list[OptionResult]

    def to_dict(self, items: bool = False) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "assumed": list(self.assumed),
                "options": [o.to_dict(items) for o in self.options]}


def summarize(decisions: Iterable[Decision], programs: Sequence[str]) -> tuple[list[Summary], Summary]:
    """Per-program and overall amounts by outcome."""
    per = {p: Summary(p) for p in programs}
    total = Summary("total")
    for d in decisions:
        s = per.get(d.item.program)
        if s is None:
            s = per[d.item.program] = Summary(d.item.program)
        s.add(d.item.amount, d.outcome)
        total.add(d.item.amount, d.outcome)
    return list(per.values()), total


def _conflicts(decisions: Iterable[Decision]) -> list[Conflict]:
    groups: dict[tuple[Any, ...], Conflict] = {}
    for d in decisions:
        if not in_conflict(d.law.outcome, d.regime.outcome):
            continue
        deciding = d.law.deciding
        key = (tuple(m.rule.id for m in deciding), d.law.outcome, d.regime.outcome)
        c = groups.get(key)
        if c is None:
            missing = tuple(sorted({f for m in deciding for f in m.missing}))
            sources = tuple(dict.fromkeys(s for m in deciding for s in m.rule.sources))
            c = groups[key] = Conflict(key[0], d.law.outcome, d.regime.outcome, missing, sources)
        c.amount += d.item.amount
        c.items.append(d.item.id)
        c.by_program[d.item.program] = c.by_program.get(d.item.program, ZERO) + d.item.amount
    return sorted(groups.values(), key=lambda c: (-c.amount, c.law_rules))


def _obligations(decisions: Iterable[Decision]) -> list[ObligationTotal]:
    totals: dict[tuple[str, str], ObligationTotal] = {}
    for d in decisions:
        for o in d.obligations():
            t = totals.get((o.kind, o.name))
            if t is None:
                t = totals[(o.kind, o.name)] = ObligationTotal(o.kind, o.name)
            t.amount += d.item.amount
            t.items += 1
            if o.status:
                key = o.status.split(" since ")[0].split(" until ")[0]
                t.statuses[key] = t.statuses.get(key, 0) + 1
    return sorted(totals.values(), key=lambda t: (t.kind, -t.amount, t.name))


def group_of(item: LineItem, by: str) -> str:
    """The group of ``item`` when totalling by the attribute ``by`` (`compare --by`)."""
    return group_label(item.get(by))


def basis_of(scenario: Scenario, program: str) -> str:
    """The basis group of a program when totalling by basis (where programs state one)."""
    return _program_basis(scenario, program) or UNSTATED


def _groups(decisions: Iterable[Decision], by: str) -> list[Summary]:
    out: dict[str, Summary] = {}
    for d in decisions:
        key = group_of(d.item, by)
        out.setdefault(key, Summary(key)).add(d.item.amount, d.outcome)
    return [out[k] for k in sorted(out)]


UNSTATED = "unstated"
"""The basis group of programs that state none (in a scenario where some do)."""


def _program_basis(scenario: Scenario, program: str) -> str | None:
    p = scenario.programs.get(program)
    return p.basis if p is not None else None


def _mark_bases(scenario: Scenario, decisions: Sequence[Decision], per: Sequence[Summary],
                channels: Mapping[str, Summary]) -> None:
    """Each program's basis; a channel's, where all its items' programs share one (else `mixed`)."""
    if not any(p.basis for p in scenario.programs.values()):
        return
    for s in per:
        s.basis = _program_basis(scenario, s.program) or UNSTATED
    seen: dict[str, set[str]] = defaultdict(set)
    for d in decisions:
        seen[d.item.channel].add(_program_basis(scenario, d.item.program) or UNSTATED)
    for ch, bases in seen.items():
        channels[ch].basis = next(iter(bases)) if len(bases) == 1 else "mixed"


def _by_basis(scenario: Scenario, decisions: Sequence[Decision]) -> list[Summary]:
    """Totals per program basis (record, inference, illustrative, unstated), where programs state bases: record
    figures are never summed with illustrative ones."""
    if not any(p.basis for p in scenario.programs.values()):
        return []
    groups: dict[str, Summary] = {}
    for d in decisions:
        b = basis_of(scenario, d.item.program)
        groups.setdefault(b, Summary(b, basis=b)).add(d.item.amount, d.outcome)
    order = ("record", "inference", "illustrative", UNSTATED)
    return [groups[b] for b in order if b in groups]


def compare(scenario: Scenario, as_of: dt.date, options: Sequence[str], assume: Iterable[str] = (),
            recipient: str | None = None, items: Sequence[LineItem] | None = None,
            reviews: Callable[[Evaluator], Mapping[str, ReviewCase]] | None = None,
            by: str | None = None) -> Comparison:
    """Compare options on the pipeline at ``as_of`` under the given and assumed facts.

    ``reviews`` gives, for each option's evaluator, the decided review cases to apply (a store's);
    ``by`` names an attribute (declared, or channel, category, program, recipient, flags) to total by.
    """
    if by is not None and by not in scenario.attributes:
        raise UsageError(f"unknown attribute `{by}`", help=did_you_mean(by, scenario.attributes)
                         or "known: " + ", ".join(f"`{a}`" for a in scenario.attributes))
    if not options:
        raise UsageError("no options to compare", help="pass --options A,B,...")
    assume = tuple(assume)
    for name in options:
        resolve_option(scenario, name)
    if recipient is not None and recipient not in scenario.recipients:
        raise UsageError(f"unknown recipient `{recipient}`", help=did_you_mean(recipient, scenario.recipients))
    pool = [i for i in (items if items is not None else scenario.items) if recipient is None or i.recipient == recipient]
    results = []
    for name in options:
        ev = Evaluator(scenario, as_of, assume, name)
        if reviews is not None:
            ev.reviews = reviews(ev)
        decisions = [ev.decide(item) for item in pool]
        per, total = summarize(decisions, [p for p in scenario.programs
                                           if recipient is None or scenario.programs[p].recipient == recipient])
        regimes = tuple(dict.fromkeys(d.in_force.regime.id for d in decisions))
        channels: dict[str, Summary] = {c: Summary(c) for c in scenario.channels}
        for d in decisions:
            channels[d.item.channel].add(d.item.amount, d.outcome)
        _mark_bases(scenario, decisions, per, channels)
        results.append(OptionResult(name, regimes, per, total, _conflicts(decisions),
                                    [c for c in channels.values() if c.items], decisions, _obligations(decisions),
                                    _groups(decisions, by) if by else [], by, ev.cap_uses() if scenario.law.caps else [],
                                    _by_basis(scenario, decisions)))
    return Comparison(as_of, assume, results)
