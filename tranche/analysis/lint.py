"""Lint: what a valid scenario probably did not mean, as located diagnostics with a fix.

`tranche check` rejects what cannot be evaluated; lint reports what evaluates but is
suspicious.  Every finding is a :class:`~tranche.errors.Diagnostic` (a warning) with the
file, line and column of the rule, regime, timeline entry or fact concerned.  The passes,
in order (:data:`PASSES`):

``rules``
    ``rule-matches-nothing``: no request in the taxonomy satisfies the rule's ``when``
    without one of its ``unless`` (the conditions contradict each other).
    ``rule-shadowed``: the rule never decides an outcome: wherever it applies, another rule
    of the same layer gives a more restrictive outcome.  Deleting it changes no decision
    (outcome, deciding rules, missing facts, criterion).
    ``rule-redundant``: the rule decides somewhere, but never alone: wherever it decides,
    another rule gives the same outcome, or no other rule applies and the layer's default is
    that outcome, and a review keeps its criterion without it.  Deleting it changes no
    outcome and no criterion, only which rules an explanation cites (and, as any edit, the
    regime's version).  A review rule whose deletion would change the criterion reviewers
    apply is not redundant.
    All three are exact: they are computed over every class of requests and fact state.
``review-without-criterion``
    A review rule (or a regime whose default is review) that gives reviewers no criterion.
``sources``
    ``no-source``: a rule, regime or fact that cites no source, unless it is marked ``basis:
    illustrative`` (an invented claim cites none: the ``basis`` pass says so) or is a waiting
    period the scenario derives itself (``FACT.after-15d``: its fact cites the sources).
``basis``
    Where the scenario says what its claims rest on (``basis:`` on facts, rules, regimes,
    programs, timelines and their entries; the pipeline's ``basis`` column):
    ``record-without-source``: a claim marked ``record`` that cites no source (a source must
    state it).
    ``illustrative-cites-source``: a claim marked ``illustrative`` that cites a source as its own
    (an invented figure or item is not named by any document; refer to what it illustrates
    in ``notes`` instead).
    ``inference-without-reasoning``: a claim marked ``inference`` with no ``notes`` saying how it
    was reasoned (line items, which have no notes, are exempt).
``timelines``
    ``timeline-late-start``: a timeline whose first entry starts after a dated fact about
    its recipient (decisions before it fail: no regime is in force), or on a fact without a date.
    ``timeline-gap``: an entry with ``until`` followed by an entry triggered by a fact without a
    date (in between, the entry before the expired one applies again, or no regime is in force
    when there is none, unless the fact is assumed).
    ``trigger-unasserted``: an entry of a timeline of *record* triggered by a fact without a
    date: nothing in the record asserts it, so the record never reaches that regime.
    ``trigger-expires``: an entry triggered by a fact with ``until``: the regime is in force
    only while the fact holds, and the entry before it returns afterwards.
    ``recipient-without-timeline``: a recipient with programs but no timeline of record.
``caps``
    Over the pipeline (a cap is aggregate: whether it binds depends on the lines, not on a class
    of requests): ``cap-scope-empty``: no line of the pipeline is in the cap's scope, so it counts
    nothing.  ``cap-never-binds``: the lines in its scope total at most its limit (in every pool of
    its ``per``), so even with every one of them permitted it blocks nothing.
``notifications``
    ``notification-unreached``: no line of the pipeline is covered by the notification; where it
    tests an amount, the largest line its other conditions cover is named (a threshold no line
    reaches).
``waivers``
    For each lift of a waiver or certification (``lifts:`` in facts.yaml):
    ``waiver-scope-empty``: no line of the pipeline is in its scope (a program, account or item
    class without lines).  ``waiver-lifts-nothing``: lines are in its scope, but none of them is
    one the rules it lifts apply to (their ``when`` does not hold, or an exception that tests no
    fact already exempts it), so the waiver changes no decision of the pipeline.  A scope naming
    an unknown program, account or category is an error of ``tranche check``.
``conflicts``
    ``law-conflict``: one per regime and class of requests it permits or sends to review
    while the law blocks or forbids them (:func:`tranche.analysis.conflicts`), located at the
    regime rule that says yes to all of them, or at the regime when its default does.  Facts
    holding on the lint date (``as_of``, default today) count as holding.  Only conflicts an
    officer can act on in the regime are reported:

    * in a state the regime can be in force in: a regime on timelines is read with the facts
      each of its entries needs (its start's facts hold; the facts that would start a later,
      open-ended entry do not), so a restriction that applies from a trigger is not held
      against a regime the trigger ends, nor one lifted by a certification against the regime
      the certification brings; a regime on no timeline is an option, in force in any state;
    * where the law *forbids*, only what a regime *rule* says yes to: a default (``permitted``
      or ``review``) says nothing about what the law forbids, which the law decides anyway;
    * never the wait of a notification (``notify and proceed``): a duty of the law every regime
      carries, shown by `diff --with-law`, not a rule a regime could change.

    Where the law *blocks* (a precondition), the default counts too: the regime then says yes
    to what waits for facts, and can say so with ``require`` (the memo's options and the law's
    §511(b) determination, for instance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Sequence

from ..engine.timeline import resolve_option
from ..errors import Diagnostic, Span, UsageError
from ..language.scenario import FACTS, Condition, Effect, LineItem, Outcome, Rule, Scenario
from ..language.values import ZERO
from ..semantics.caps import pool_of
from .classes import (
    CompiledRule,
    Domain,
    RState,
    assign_states,
    is_definite,
    next_dim,
    possible_outcomes,
    rule_states,
    split_blocks,
)
from .conflicts import LawConflict, conflicts

__all__ = ["lint", "RuleFindings", "analyse_rules", "PASSES"]


# --------------------------------------------------------------------------------------------
# rules: shadowed, redundant, matching nothing


@dataclass
class RuleFindings:
    """What the exact analysis of one layer found, by rule index."""

    decides: set[int] = field(default_factory=set)  # the rule is a deciding rule somewhere
    alone: set[int] = field(default_factory=set)  # deleting the rule changes an outcome somewhere
    criterion: set[int] = field(default_factory=set)  # deleting the rule changes a review's criterion somewhere
    shadowers: dict[int, set[int]] = field(default_factory=dict)  # rules more restrictive where it applies
    empty: set[int] = field(default_factory=set)  # no request of the taxonomy matches it


def _high(m: int) -> int:
    return m.bit_length() - 1


def _low(m: int) -> int:
    return (m & -m).bit_length() - 1


def analyse_rules(scenario: Scenario, rules: Sequence[Rule], default: Outcome,
                  default_criterion: str | None = None) -> RuleFindings:
    """Which rules of a layer decide, change an outcome (or a review's criterion) alone, or match
    nothing (every class, every fact state).

    A review's criterion is the engine's: the deciding review rules' criteria joined, else
    ``default_criterion`` (the regime's) when the default decides.

    Conditional defaults (`otherwise`) are not analysed: they count as deciding.  Where a layer
    has any, no rule is called redundant (deleting one may hand its requests to a conditional
    default rather than the default); shadowed and empty rules are found as without them.
    """
    if any(r.dated for r in rules):
        return _by_dates(scenario, rules, default, default_criterion)
    return _analyse_layer(scenario, rules, default, default_criterion)


def _by_dates(scenario: Scenario, rules: Sequence[Rule], default: Outcome,
              default_criterion: str | None) -> RuleFindings:
    """Law rules with dates: the layer is analysed on each stretch of dates with the same rules in force, and a
    rule decides (alone, or the criterion) where it does so on some stretch; rules never in force together
    never shadow each other."""
    days = sorted({d for r in rules for d in (r.effective, r.sunset) if d is not None})
    probes = [days[0] - dt.timedelta(days=1), *days] if days[0] > dt.date.min else days
    out = RuleFindings()
    done: set[tuple[int, ...]] = set()
    for day in probes:
        idx = tuple(i for i, r in enumerate(rules) if r.in_force_on(day))
        if not idx or idx in done:
            continue
        done.add(idx)
        inner = _analyse_layer(scenario, [rules[i] for i in idx], default, default_criterion)
        out.decides |= {idx[i] for i in inner.decides}
        out.alone |= {idx[i] for i in inner.alone}
        out.criterion |= {idx[i] for i in inner.criterion}
        out.empty |= {idx[i] for i in inner.empty}
        for i, js in inner.shadowers.items():
            out.shadowers.setdefault(idx[i], set()).update(idx[j] for j in js)
    return out


def _analyse_layer(scenario: Scenario, rules: Sequence[Rule], default: Outcome,
                   default_criterion: str | None = None) -> RuleFindings:
    normal = [i for i, r in enumerate(rules) if not r.otherwise]
    if len(normal) < len(rules):
        inner = _analyse([rules[i] for i in normal], default, default_criterion, scenario)
        out = RuleFindings()
        back = dict(enumerate(normal))
        out.decides = {back[i] for i in inner.decides} | (set(range(len(rules))) - set(normal))
        out.alone = set(out.decides)
        out.criterion = {back[i] for i in inner.criterion}
        out.empty = {back[i] for i in inner.empty}
        out.shadowers = {back[i]: {back[j] for j in js} for i, js in inner.shadowers.items()}
        return out
    return _analyse(rules, default, default_criterion, scenario)


def _analyse(rules: Sequence[Rule], default: Outcome, default_criterion: str | None,
             scenario: Scenario) -> RuleFindings:
    domain = Domain(scenario, rules)
    crules = [domain.compile(r) for r in rules]
    ranks = [c.rank for c in crules]
    found = RuleFindings()
    review = Outcome.REVIEW.rank

    def criterion(deciding: Iterable[int]) -> str | None:
        return "; ".join(dict.fromkeys(c for i in sorted(deciding) if (c := rules[i].criterion))) or None
    if not all(domain.full):  # a dimension without values (e.g. no program): nothing can match
        found.empty.update(range(len(rules)))
        return found
    seen: set[tuple[tuple[RState, ...], bool]] = set()
    default_rank = default.rank

    def walk(states: tuple[RState, ...], lower: bool) -> None:
        """``lower``: a rule dropped on the way (less restrictive than another) applies for certain."""
        if (states, lower) in seen:
            return
        seen.add((states, lower))
        definite = [s for s in states if is_definite(s)]
        floor = max((_low(possible_outcomes(s, ranks[s[0]])) for s in definite), default=-1)
        keep: list[RState] = []
        for s in states:
            if _high(possible_outcomes(s, ranks[s[0]])) < floor:
                above = {t[0] for t in definite if _low(possible_outcomes(t, ranks[t[0]])) == floor}
                found.shadowers.setdefault(s[0], set()).update(above)
                if len(definite) >= 2:  # it cannot decide here; all that matters is whether it applies
                    lower = lower or is_definite(s)
                    continue
            keep.append(s)
        states = tuple(keep)
        if all(s[0] in found.decides and (s[0] in found.alone or s[0] in found.criterion) for s in states):
            return  # nothing left to learn here
        d = next_dim(states)
        if d is None:  # every rule decided: they all apply, each with one outcome
            if not states:
                return
            outcome = {s[0]: _high(possible_outcomes(s, ranks[s[0]])) for s in states}
            top = max(outcome.values())
            deciding = [i for i, o in outcome.items() if o == top]
            found.decides.update(deciding)
            if len(deciding) == 1 and (top != default_rank or len(states) > 1 or lower):
                found.alone.add(deciding[0])
            elif top == review:  # the outcome stays review without any one of them: does its criterion?
                now = criterion(deciding)
                for i in deciding:
                    rest = [j for j in deciding if j != i]
                    if (criterion(rest) if rest else default_criterion) != now:
                        found.criterion.add(i)
            return
        for b in split_blocks(states, d, domain.full[d]):
            walk(assign_states(states, d, b), lower)

    walk(rule_states(crules), False)
    # matching nothing: over the taxonomy only (no category outside it), facts ignored
    inside = domain.full[domain.category.index] & ~(1 << len(domain.nodes))
    for i, cr in enumerate(crules):
        if cr.when is None or not _satisfiable(domain, cr, inside):
            found.empty.add(i)
    return found


def _satisfiable(domain: Domain, cr: CompiledRule, categories: int) -> bool:
    start = list(domain.full)
    start[domain.category.index] = categories

    def walk(states: tuple[RState, ...]) -> bool:
        if not states:
            return False
        s = states[0]
        if is_definite(s):
            return True
        d = next_dim(states)
        assert d is not None
        return any(walk(assign_states(states, d, b)) for b in split_blocks(states, d, start[d]))

    return walk(rule_states([cr], facts=False))


def _rule_findings(scenario: Scenario, layer: str, rules: Sequence[Rule], default: Outcome,
                   default_criterion: str | None = None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not rules:
        return out
    f = analyse_rules(scenario, rules, default, default_criterion)
    where = "the law" if layer == "law" else f"regime `{layer}`"
    for i, rule in enumerate(rules):
        ctx = f"{where}, rule `{rule.id}`"
        if i in f.empty:
            out.append(Diagnostic(
                "rule-matches-nothing", f"{ctx}: matches no request in the taxonomy", rule.span,
                "its `when` and `unless` exclude each other (or name no category, channel or value that can "
                "occur together); fix the conditions or delete the rule", "warning"))
        elif i not in f.decides:
            by = sorted(f.shadowers.get(i, ()))
            names = ", ".join(f"`{rules[j].id}` ({rules[j].effect.value})" for j in by) or "other rules"
            out.append(Diagnostic(
                "rule-shadowed", f"{ctx}: never decides an outcome: wherever it applies, {names} "
                f"{'is' if len(by) == 1 else 'are'} more restrictive", rule.span,
                "deleting it changes no decision; delete it, or narrow the rule that shadows it", "warning"))
        elif i not in f.alone and i not in f.criterion:  # a rule that sets a review's criterion is not redundant
            fallback = (f"the default of {where} (`{default.value}`)" if layer != "law" else "the law's default")
            out.append(Diagnostic(
                "rule-redundant", f"{ctx}: never changes an outcome: where it decides, other rules or "
                f"{fallback} give the same", rule.span,
                "deleting it changes no outcome and no review criterion, only the rules an explanation cites "
                f"and, as any edit does, the version of {where} (review cases decided under this version would "
                "have to be decided again); keep it only if it documents a source", "warning"))
    return out


def rules_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    out = _rule_findings(scenario, "law", scenario.law.rules, scenario.law.default)
    for rid in regimes:
        reg = scenario.regimes[rid]
        out += _rule_findings(scenario, reg.id, reg.rules, reg.default, reg.criterion)
    return out


# --------------------------------------------------------------------------------------------
# criteria and sources


def criteria_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    help_ = "add `criterion:` saying on what basis reviewers decide (e.g. \"urgent necessity\")"
    for rule, where in _rules(scenario, regimes):
        if rule.effect is Effect.REVIEW and not (rule.criterion or "").strip():
            out.append(Diagnostic("review-without-criterion", f"{where}, rule `{rule.id}`: sends requests to "
                                  "review without a criterion", rule.span, help_, "warning"))
    for rid in regimes:
        reg = scenario.regimes[rid]
        if reg.default is Outcome.REVIEW and not (reg.criterion or "").strip():
            out.append(Diagnostic("review-without-criterion", f"regime `{reg.id}`: its default sends requests to "
                                  "review without a criterion", reg.span, help_, "warning"))
    return out


def sources_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    help_ = "add `sources: [...]` naming the documents it rests on (ids from sources.yaml)"
    for rule, where in _rules(scenario, regimes):
        if not rule.sources and rule.basis != "illustrative":
            out.append(Diagnostic("no-source", f"{where}, rule `{rule.id}`: cites no source", rule.span, help_,
                                  "warning"))
    for rid in regimes:
        reg = scenario.regimes[rid]
        if not reg.sources and reg.basis != "illustrative":
            out.append(Diagnostic("no-source", f"regime `{reg.id}`: cites no source", reg.span, help_, "warning"))
    for fact in scenario.facts.values():
        if fact.after is not None and fact.span is None:
            continue  # a waiting period derived from a lift or a notification: not written, its fact cites
        if not fact.sources and fact.basis != "illustrative":
            out.append(Diagnostic("no-source", f"fact `{fact.id}`: cites no source", fact.span, help_, "warning"))
    return out


def basis_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    """Record claims cite a source; illustrative claims cite none as their own; inferences say how."""
    claims: list[tuple[str, str | None, tuple[str, ...], tuple[str, ...] | None, Span | None]] = []
    for rule, where in _rules(scenario, regimes):
        claims.append((f"{where}, rule `{rule.id}`", rule.basis, rule.sources, rule.notes, rule.span))
    for rid in regimes:
        reg = scenario.regimes[rid]
        claims.append((f"regime `{reg.id}`", reg.basis, reg.sources, reg.notes, reg.span))
    for fact in scenario.facts.values():
        claims.append((f"fact `{fact.id}`", fact.basis, fact.sources, fact.notes, fact.span))
    programs_file = Span(str(scenario.root / "programs.yaml"))
    for prog in scenario.programs.values():
        claims.append((f"program `{prog.id}`", prog.basis, prog.sources, prog.notes, programs_file))
    for t in scenario.timelines.values():
        claims.append((f"timeline `{t.id}`", t.basis, t.sources, t.notes, t.span))
        for j, e in enumerate(t.entries):
            claims.append((f"timeline `{t.id}`, entry {j + 1} (`{e.regime}`)", e.basis, e.sources, e.notes, e.span))
    pipeline = str(scenario.root / "pipeline.csv")
    for item in scenario.items:
        claims.append((f"item `{item.id}`", item.basis, item.sources, None, Span(pipeline, item.line, 1)))
    out: list[Diagnostic] = []
    for what, basis, sources, notes, span in claims:
        if basis == "record" and not sources:
            out.append(Diagnostic(
                "record-without-source", f"{what}: marked `record` but cites no source", span,
                "add `sources:` naming the document that states it (and quote the passage in `notes`), or mark it "
                "`inference`", "warning"))
        elif basis == "illustrative" and sources:
            out.append(Diagnostic(
                "illustrative-cites-source", f"{what}: marked `illustrative` but cites "
                f"{', '.join(f'`{x}`' for x in sources)} as its own source: no document names an invented claim",
                span, "drop the sources and say in `notes` what it illustrates (e.g. \"splits the total of doc. 427\"), "
                "or mark it `record` if a source does state it", "warning"))
        elif basis == "inference" and notes is not None and not notes:
            out.append(Diagnostic(
                "inference-without-reasoning", f"{what}: marked `inference` with no note saying how it was reasoned",
                span, "add `notes:` with the reasoning and the passages it rests on", "warning"))
    return out


def _rules(scenario: Scenario, regimes: Sequence[str]) -> Iterable[tuple[Rule, str]]:
    for rule in scenario.law.rules:
        yield rule, "the law"
    for rid in regimes:
        for rule in scenario.regimes[rid].rules:
            yield rule, f"regime `{rid}`"


# --------------------------------------------------------------------------------------------
# timelines and triggers


def timelines_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    facts = scenario.facts
    for t in scenario.timelines.values():
        if not t.entries:
            continue
        ctx = f"timeline `{t.id}`"
        first = t.entries[0]
        start = first.start_date
        if first.start_facts:
            dates = [d for x in first.start_facts if x in facts and (d := facts[x].date) is not None]
            undated = next((x for x in first.start_facts if x not in facts or facts[x].date is None), None)
            if first.start_any:  # from the first of them: known when one is dated
                start = min(dates) if dates else None
            else:  # from the last: known when every one is dated
                start = max(dates) if len(dates) == len(first.start_facts) else None
            if start is None:
                out.append(Diagnostic(
                    "timeline-late-start", f"{ctx}: its first entry starts on `{undated}`, which has no "
                    f"date: no regime is in force for `{t.recipient}` unless the fact is assumed", first.span,
                    "start the timeline with a dated entry (the posture before that fact)", "warning"))
        if start is not None:
            earlier = sorted((f.date, f.id) for f in facts.values()
                             if f.date is not None and f.recipient == t.recipient and f.date < start)
            if earlier:
                day, fid = earlier[0]
                out.append(Diagnostic(
                    "timeline-late-start", f"{ctx}: starts on {start}, after `{fid}` ({day}): no regime is in force "
                    f"for `{t.recipient}` before {start}", first.span,
                    f"add an entry from {day} or earlier for the posture then", "warning"))
        for j, e in enumerate(t.entries):
            ectx = f"{ctx}, entry {j + 1} (`{e.regime}`)"
            known = [facts[f] for f in e.start_facts if f in facts]
            if not known:
                continue
            # the fact that decides what the record says: for `all`, any no_date or expiring one; for `any`,
            # only when every one is no_date (or expires)
            no_date = [f for f in known if f.date is None]
            expiring = [f for f in known if f.until is not None]
            if e.start_any:
                no_date = no_date if len(no_date) == len(known) else []
                expiring = expiring if len(expiring) == len(known) else []
            fact = no_date[0] if no_date else known[0]
            if no_date and t.record:
                out.append(Diagnostic(
                    "trigger-unasserted", f"{ectx}: takes effect on `{fact.id}`, which nothing in the record asserts "
                    "(it has no date): the posture of record never reaches this regime", e.span,
                    "date the fact in facts.yaml if the record establishes it, or move the entry to a plan "
                    "(a timeline with `record: false`); it can still be assumed with --assume", "warning"))
            if expiring:
                ends = min(f.until for f in expiring if f.until is not None)
                stops = next(f for f in expiring if f.until == ends)
                before = t.entries[j - 1].regime if j else None
                after = f"`{before}` applies again" if before else "no regime is in force"
                out.append(Diagnostic(
                    "trigger-expires", f"{ectx}: takes effect on `{stops.id}`, which stops holding on {ends}: "
                    f"from then {after}", e.span,
                    "trigger it on a fact that keeps holding, or add an entry from "
                    f"{ends} for what follows", "warning"))
            if j and t.entries[j - 1].until is not None and no_date:
                prev = t.entries[j - 1]
                again = f"`{t.entries[j - 2].regime}` applies again" if j >= 2 else "no regime is in force"
                out.append(Diagnostic(
                    "timeline-gap", f"{ectx}: the entry before it ends on {prev.until}, but this one starts on "
                    f"`{fact.id}`, which has no date: from {prev.until} {again} unless it is "
                    "assumed", prev.span, "drop the `until`, or start this entry on a date", "warning"))
    with_record = {t.recipient for t in scenario.timelines.values() if t.record}
    for code in scenario.recipients:
        if code in with_record or not any(p.recipient == code for p in scenario.programs.values()):
            continue
        out.append(Diagnostic(
            "recipient-without-timeline", f"recipient `{code}` has programs but no timeline of record: deciding its "
            "items needs a named regime", Span(str(scenario.root / "regimes.yaml")),
            f"add a timeline with `recipient: {code}` and `record: true`", "warning"))
    return out


# --------------------------------------------------------------------------------------------
# caps, notifications and waivers, over the pipeline


def _law_span(scenario: Scenario, span: Span | None) -> Span:
    return span if span is not None else Span(str(scenario.root / "law.yaml"))


def _condition_text(cond: Condition) -> str:
    return ", ".join(str(p) for p in cond.predicates if p.attribute != FACTS) or "every line"


def caps_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    """Caps that count no line of the pipeline, or whose pools never exceed their limit."""
    out: list[Diagnostic] = []
    for cap in scenario.law.caps:
        ctx = f"cap `{cap.id}`"
        span = _law_span(scenario, cap.span)
        scoped = [i for i in scenario.items if cap.when.item_predicates_hold(i)]
        if not scoped:
            out.append(Diagnostic(
                "cap-scope-empty", f"{ctx}: no line of the pipeline is in its scope ({_condition_text(cap.when)}): "
                "it counts nothing", span,
                "check its `when` against the pipeline (a program, account or category without lines), or delete "
                "the cap", "warning"))
            continue
        pools: dict[tuple[str, ...], Decimal] = {}
        for item in scoped:
            key = pool_of(cap, item)
            pools[key] = pools.get(key, ZERO) + (item.amount or ZERO)
        largest, total = max(pools.items(), key=lambda kv: (kv[1], kv[0]))
        if total <= cap.limit:
            where = f" (pool {', '.join(f'`{v}`' for v in largest)})" if cap.per else ""
            n = sum(1 for i in scoped if pool_of(cap, i) == largest)
            out.append(Diagnostic(
                "cap-never-binds", f"{ctx}: can never bind on this pipeline: the {n} line{'s' if n != 1 else ''} in "
                f"its scope{where} total {total:,.2f}, within its limit of {cap.limit:,.2f}, so even with every "
                "one permitted it blocks nothing", span,
                "keep it if it documents a ceiling the pipeline does not reach; otherwise check its limit and its "
                "`when` (the lines it should count)", "warning"))
    return out


def notifications_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    """Notifications that cover no line of the pipeline (a threshold no line reaches)."""
    out: list[Diagnostic] = []
    for n in scenario.law.notifications:
        if any(n.when.item_predicates_hold(i) for i in scenario.items):
            continue
        ctx = f"notification `{n.id}`"
        span = _law_span(scenario, n.span)
        amounts = [p for p in n.when.predicates if p.attribute == "amount"]
        others = Condition(tuple(p for p in n.when.predicates if p.attribute != "amount"))
        near = [i for i in scenario.items if others.item_predicates_hold(i)] if amounts else []
        if near:
            top = max(near, key=lambda i: (i.amount, i.id))
            threshold = " and ".join(str(p) for p in amounts)
            message = (f"{ctx}: no line of the pipeline reaches its threshold ({threshold}): the largest line it "
                       f"otherwise covers is `{top.id}`, {top.amount:,.2f}")
        else:
            message = f"{ctx}: no line of the pipeline is covered by it ({_condition_text(n.when)})"
        out.append(Diagnostic("notification-unreached", message, span,
                              "check its threshold and conditions against the pipeline; keep it if it documents a "
                              "duty for requests to come", "warning"))
    return out


def waivers_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    """Lifts of waivers and certifications that reach no line of the pipeline."""
    out: list[Diagnostic] = []
    by_id: dict[str, list[Rule]] = {}
    for rule in scenario.law.rules:
        by_id.setdefault(rule.id, []).append(rule)
    for reg in scenario.regimes.values():
        for rule in reg.rules:
            by_id.setdefault(rule.id, []).append(rule)
    for fact in scenario.facts.values():
        for lift in fact.lifts:
            names = ", ".join(f"`{r}`" for r in lift.rules)
            ctx = f"{fact.role} `{fact.id}`, lifting {names}"
            scoped = [i for i in scenario.items if lift.scope.item_predicates_hold(i)]
            if not scoped:
                out.append(Diagnostic(
                    "waiver-scope-empty", f"{ctx}: no line of the pipeline is in its scope "
                    f"({_condition_text(lift.scope)}): it lifts nothing there", fact.span,
                    "check the scope against the pipeline (the program, account or item class it should cover)",
                    "warning"))
                continue
            rules = [r for rid in lift.rules for r in by_id.get(rid, ())]
            if not any(_applies(r, i) for r in rules for i in scoped):
                out.append(Diagnostic(
                    "waiver-lifts-nothing", f"{ctx}: none of the {len(scoped)} line{'s' if len(scoped) != 1 else ''} "
                    f"in its scope ({_condition_text(lift.scope)}) is one {names} applies to (outside its `when`, "
                    "or already exempt): the waiver changes no decision of the pipeline", fact.span,
                    "check which rules it should lift, or its scope", "warning"))
    return out


def _applies(rule: Rule, item: LineItem) -> bool:
    """Whether ``rule`` may apply to ``item`` in some fact state: its `when` holds on the item and no exception
    that tests no fact (and is not a waiver's) exempts it."""
    if not rule.when.item_predicates_hold(item):
        return False
    return not any(u.waiver is None and not u.facts and u.item_predicates_hold(item) for u in rule.unless)


# --------------------------------------------------------------------------------------------
# conflicts with the law


def conflicts_pass(scenario: Scenario, regimes: Sequence[str], as_of: dt.date) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    waits = {n.id for n in scenario.law.notifications if n.fact is not None}
    law_rules = {r.id: r for r in scenario.law.rules}
    for rid in regimes:
        reg = scenario.regimes[rid]
        by_id = {r.id: r for r in reg.rules}
        worlds = in_force_worlds(scenario, rid)
        found = [c for c in conflicts(scenario, reg, holding_on=as_of) if actionable(c, waits)
                 and any(_can_decide(law_rules[c.law_rule], c.law_outcome, w) for w in worlds)]
        for c in found:
            span = by_id[c.regime_rules[0]].span if len(c.regime_rules) == 1 else reg.span
            names = ", ".join(f"`{r}`" for r in c.regime_rules)
            where = (f"its rule {names}" if len(c.regime_rules) == 1 else f"its rules {names}" if c.regime_rules
                     else "a rule for these requests (its default decides them now)")
            if c.law_outcome is Outcome.PROHIBITED or not c.needs:
                lifts = _lifting(law_rules.get(c.law_rule))
                help_ = (f"the law forbids these requests (`{c.law_rule}`{lifts}): forbid or exclude them in {where}"
                         + (", or keep it for when the law is lifted" if lifts else ""))
            else:
                needs = ", ".join(c.needs)
                help_ = (f"they stay blocked until the facts hold; to say so in the regime, add `require: [{needs}]` "
                         f"to {where}")
            out.append(Diagnostic("law-conflict", c.describe(), span, help_, "warning"))
    return out


def actionable(c: LawConflict, waits: Iterable[str] = ()) -> bool:
    """Whether a conflict is one the regime can act on: not a notification's wait (a law rule in ``waits``), and
    where the law forbids, said yes to by a regime rule rather than by its default."""
    if c.law_rule in set(waits):
        return False
    return bool(c.regime_rules) or (c.law_outcome is not Outcome.PROHIBITED and bool(c.needs))


def in_force_worlds(scenario: Scenario, regime: str) -> list[dict[str, bool]]:
    """The fact states (partial: fact -> holds) in which ``regime`` can be in force: one per timeline entry naming
    it, with the facts its start needs holding and the facts that would start a later open-ended entry (so
    replace it for good) not holding; entries that cannot be in force in any state are left out.  A regime on
    no timeline is an option, in force in any state: ``[{}]``."""
    worlds: list[dict[str, bool]] = []
    on_timeline = False
    for timeline in scenario.timelines.values():
        entries = timeline.entries
        for i, entry in enumerate(entries):
            if entry.regime != regime:
                continue
            on_timeline = True
            world: dict[str, bool] | None = {}
            for f in (entry.start_fact,) if entry.start_fact else entry.start_all:
                world = _fix(scenario, world, f, True)
            for later in entries[i + 1:]:
                if world is None:
                    break
                if later.until is not None or later.start_date is not None:
                    continue  # expires, or starts on a date: this entry is in force before it, or after it ends
                if later.start_fact or len(later.start_all) == 1:
                    world = _fix(scenario, world, (later.start_fact or later.start_all[0]), False)
                elif later.start_any:
                    for f in later.start_any:
                        world = _fix(scenario, world, f, False)
                elif all(world.get(f) for f in later.start_all):
                    world = None  # every fact of its start holds in this entry's: the later entry is in force
            if world is not None and world not in worlds:
                worlds.append(world)
    return worlds if on_timeline else [{}]


def _can_decide(rule: Rule, outcome: Outcome, world: Mapping[str, bool]) -> bool:
    """Whether the law rule ``rule`` can decide ``outcome`` in some fact state of ``world``: its `when`'s tests of
    facts can hold, a hold is not lifted, and, to block, not every fact it requires holds (its exceptions are left
    aside: they only make it apply less)."""
    for p in rule.when.predicates:
        if p.attribute != FACTS:
            continue
        facts = [str(v) for v in p.values]
        if p.op == "all" and any(world.get(f) is False for f in facts):
            return False
        if p.op == "any" and all(world.get(f) is False for f in facts):
            return False
        if p.op == "none" and any(world.get(f) is True for f in facts):
            return False
    if rule.lifted_by and all(world.get(f) is True for f in rule.lifted_by):
        return False
    if outcome is Outcome.BLOCKED and rule.require and all(world.get(f) is True for f in rule.require):
        return False
    return True


def _fix(scenario: Scenario, world: dict[str, bool] | None, fact: str, holds: bool) -> dict[str, bool] | None:
    """``world`` with ``fact`` holding or not, and what follows for waiting periods (a derived fact holds only
    if its fact does); None when that contradicts ``world``."""
    if world is None or world.get(fact, holds) is not holds:
        return None
    out = {**world, fact: holds}
    if holds:
        base = scenario.facts[fact].after if fact in scenario.facts else None
        return out if base is None else _fix(scenario, out, base[0], True)
    for f in scenario.facts.values():
        if f.after is not None and f.after[0] == fact:
            out2 = _fix(scenario, out, f.id, False)
            if out2 is None:
                return None
            out = out2
    return out


def _lifting(rule: Rule | None) -> str:
    """What lifts a law rule, in words (``; lifted by `a`, and for a scope by a waiver or certification: `w```): the
    facts of a hold, and the waivers and certifications that lift it for a scope; empty when nothing does."""
    if rule is None:
        return ""
    held = ", ".join(f"`{f}`" for f in rule.lifted_by)
    waivers = ", ".join(f"`{f}`" for f in dict.fromkeys(u.waiver for u in rule.unless if u.waiver))
    if not (held or waivers):
        return ""
    if held and waivers:
        return f"; lifted by {held}, and for a scope by a waiver or certification: {waivers}"
    return f"; lifted by {held}" if held else f"; lifted for a scope by a waiver or certification: {waivers}"


Pass = Callable[[Scenario, Sequence[str], dt.date], list[Diagnostic]]
PASSES: tuple[tuple[str, Pass], ...] = (
    ("rules", rules_pass),
    ("review-without-criterion", criteria_pass),
    ("sources", sources_pass),
    ("basis", basis_pass),
    ("timelines", timelines_pass),
    ("caps", caps_pass),
    ("notifications", notifications_pass),
    ("waivers", waivers_pass),
    ("conflicts", conflicts_pass),
)


def lint(scenario: Scenario, regimes: Iterable[str] | None = None, *, as_of: dt.date | None = None) -> list[Diagnostic]:
    """Every lint finding of a valid scenario (warnings), in file order.

    ``regimes`` limits the regime-specific passes (rules, criteria, sources, conflicts) to
    those regimes; the law, facts and timelines are always linted.  ``as_of`` (default:
    today): the facts that hold on that date count as holding for the conflicts with the
    law; every other fact may or may not hold (it can be assumed).

    >>> import tranche
    >>> s = tranche.load_scenario("scenarios/peru-1962")
    >>> [d.code for d in lint(s, ["full"])]  # §511(a) is regional; internal security needs two facts
    ['cap-never-binds', 'law-conflict']
    """
    names = list(scenario.regimes) if regimes is None else list(regimes)
    for name in names:
        if name not in scenario.regimes:
            resolve_option(scenario, name)  # NotFound with did-you-mean
            raise _not_a_regime(name)
    day = as_of or dt.date.today()
    out: list[Diagnostic] = []
    for _, run in PASSES:
        out += run(scenario, names, day)
    return sorted(out, key=_order)


def _not_a_regime(name: str) -> Exception:
    return UsageError(f"`{name}` is a timeline, not a regime", help="lint the regimes it names instead")


def _order(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("~", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.col, d.code)
